"""Formats the detector missed (cases ended ``done`` with them in clear): masked by mask_text and
reported by scan; ids, dates, amounts and invoice numbers still are not."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from billing_nb.reading.masking import mask_text
from billing_nb.reading.pii import IBAN_LENGTHS, find_pii
from billing_nb.records.scan import scan

ZW = "\u200b"


@pytest.mark.parametrize(("raw", "gone", "kind"), [
    ("card 4242.4242.4242.4242 ok", "4242.4242", "card"),
    ("card 5555-5555 5555-4444 ok", "5555-5555", "card"),
    (f"card 4242{ZW}4242{ZW}4242{ZW}4242 ok", f"4242{ZW}4242", "card"),
    ("call 1-415-555-0132 now", "415-555", "phone"),
    ("call 1-800-555-0199 now", "800-555", "phone"),
    ("call 1 (415) 555-0177 now", "(415)", "phone"),
    ("Tel. 030/1234567 bitte", "1234567", "phone"),
    ("mail jürgen@müller-bäcker.de now", "jürgen", "email"),
    ("iban de89370400440532013000 ok", "370400440532013000", "iban"),
    ("iban de89 3704 0044 0532 0130 00 ok", "3704 0044", "iban"),
    ("my SSN is 123-45-6789", "123-45", "ssn"),
    ("social security number: 123456789", "12345", "ssn"),
    ("ref 123-45-6789 attached", "123-45", "ssn"),
    ("cvc 123 exp 12/34", "cvc 123", "cvc"),
    ("CVV: 1234", "1234", "cvc"),
    ("secret pi_3MtwBwLkdIwHu7ix28a3tqPa_secret_YrKJUKribcBjcG8HVhfZluoGH", "YrKJUK", "key"),
    ("secret seti_1Mm8s8LkdIwHu7ixEfBOnpJz_secret_NXDhcxA1b2", "NXDhcx", "key"),
    ("ephemeral ek_live_YWNjdF8xMDAwMDAwMDAwMDAw", "YWNjdF8x", "key"),
    ("ephemeral ek_test_YWNjdF8xMDAwMDAwMDAwMDAw", "YWNjdF8x", "key"),
    ("mail john.doe@gmail\\.com", "john.doe", "email"),
    ("key sk\\_live\\_51HxAbCdEfGhIjKlMnOp", "51HxAbCd", "key"),
    ("mail john&#64;gmail.com", "john", "email"),
    ("mail john&commat;gmail&period;com", "john", "email"),
    (f"mail john{ZW}.doe@gmail.com", "doe", "email"),
])
def test_a_missed_format_is_masked_and_scanned(tmp_path: Path, raw: str, gone: str, kind: str) -> None:
    masked = mask_text(raw)
    assert gone not in masked, masked
    assert find_pii(masked, []) == []
    assert kind in {k for _, _, k in find_pii(raw, [])}
    for suffix in (".md", ".txt", ".json"):
        file = tmp_path / f"leak{suffix}"
        file.write_text(raw if suffix != ".json" else f'{{"text/markdown": {raw!r}}}'.replace("'", '"'))
        leaks = scan(file)
        assert leaks and all(gone not in leak.excerpt for leak in leaks), (suffix, leaks)


@pytest.mark.parametrize("text", [
    "invoice ABCD1234-0001 paid 2026-11-24, due 12/34, total 1234.56 USD, in_1Pgafu",
    "v1.2.3 build 2026.11.24 ref 12-34-56 year 2026/2027 order 123-456-78",
    "amounts 4999 20000 1732435200 quantity 12 on 03.11.2026 or 1.000.000,00",
    "cus_de89370400440532013000 price_1Pgafu pi_3PgafuB7WZ01zgkW1 seti_1Mm8s8LkdIwHu7ix",
    "week_ends sub_1Q2w3E4r5T6y7U8i idem 2026-11-24-cus_X-1a2b:refund:ch_X:1200",
    "the cvc field, 3 vcs, ssn column",
])
def test_ids_dates_amounts_and_invoice_numbers_are_still_not_pii(text: str) -> None:
    assert mask_text(text) == text
    assert find_pii(text, []) == []


def _luhn_complete(body: str) -> str:
    total = 0
    for i, ch in enumerate(reversed(body + "0")):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return body + str((10 - total % 10) % 10)


@settings(max_examples=80, deadline=None)
@given(body=st.text("0123456789", min_size=15, max_size=15).filter(lambda b: len(set(b)) > 2),
       seps=st.lists(st.sampled_from([" ", "-", ".", ZW, "\u00a0"]), min_size=3, max_size=3))
def test_a_card_with_any_separators_is_masked(body: str, seps: list[str]) -> None:
    card = _luhn_complete(body)
    written = "".join(card[i * 4:i * 4 + 4] + (seps[i] if i < 3 else "") for i in range(4))
    masked = mask_text(f"my card {written} thanks")
    assert masked == f"my card ****{card[-4:]} thanks"


@settings(max_examples=60, deadline=None)
@given(area=st.integers(200, 999), exchange=st.integers(200, 999), line=st.integers(0, 9999),
       sep=st.sampled_from(["-", ".", " "]))
def test_a_nanp_number_with_its_trunk_one_is_masked(area: int, exchange: int, line: int, sep: str) -> None:
    number = f"1{sep}{area}{sep}{exchange}{sep}{line:04d}"
    assert mask_text(f"call {number} today") == f"call ***-***-{line:04d} today"


def _iban(country: str, bban: str) -> str:
    digits = "".join(str(int(ch, 36)) for ch in bban + country + "00")
    return f"{country}{98 - int(digits) % 97:02d}{bban}"


@settings(max_examples=60, deadline=None)
@given(country=st.sampled_from(["DE", "GB", "FR", "NL", "ES"]), bban=st.text("0123456789", min_size=30, max_size=30),
       lower=st.booleans())
def test_an_iban_in_either_case_is_masked(country: str, bban: str, lower: bool) -> None:
    iban = _iban(country, bban[:IBAN_LENGTHS[country] - 4])  # each country's IBAN has its own length
    written = iban.lower() if lower else iban
    assert mask_text(f"iban {written} please") == f"iban {country}** ****{iban[-4:]} please"


@settings(max_examples=60, deadline=None)
@given(area=st.integers(1, 899).filter(lambda a: a != 666), group=st.integers(1, 99), serial=st.integers(1, 9999))
def test_an_ssn_in_its_shape_is_masked(area: int, group: int, serial: int) -> None:
    ssn = f"{area:03d}-{group:02d}-{serial:04d}"
    assert mask_text(f"ssn {ssn}.") == f"ssn ***-**-{serial:04d}."
    assert mask_text(f"see {ssn} attached") == f"see ***-**-{serial:04d} attached"


@settings(max_examples=60, deadline=None)
@given(local=st.from_regex(r"[a-z]{2,8}\.[a-z]{2,8}", fullmatch=True), at=st.integers(0, 20),
       hide=st.sampled_from([ZW, "\u2060", "\u00ad", "\ufeff"]))
def test_an_email_with_an_invisible_character_anywhere_is_masked_whole(local: str, at: int, hide: str) -> None:
    email = f"{local}@gmail.com"
    at = at % (len(email) - 1) + 1
    written = email[:at] + hide + email[at:]
    masked = mask_text(f"write to {written} soon")
    assert masked == f"write to {local[0]}***@gmail.com soon", masked
