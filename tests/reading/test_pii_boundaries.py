"""An outside tester's PII inputs (session 8): cards glued to letters or written with ``_``/``x``
separators, street addresses, postcodes and VAT ids, URL-encoded, quoted and obfuscated emails.
Each is masked by mask_text and reported by scan; ids, amounts, dates, hashes and counts stay
as they are."""

from __future__ import annotations

import hashlib
import json
import string
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from billing_nb.reading.pii import find_pii, mask_text
from billing_nb.records.scan import scan


def _luhn_complete(body: str) -> str:
    total = 0
    for i, ch in enumerate(reversed(body + "0")):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return body + str((10 - total % 10) % 10)


def _kinds(text: str) -> set[str]:
    return {k for _, _, k in find_pii(text, [])}


def _scanned(tmp_path: Path, text: str) -> list[str]:
    """The excerpts scan reports for ``text`` in a text file and in a notebook-like JSON string."""
    (tmp_path / "out.md").write_text(text + "\n", encoding="utf-8")
    (tmp_path / "out.json").write_text(json.dumps({"text/markdown": [text]}), encoding="utf-8")
    leaks = scan(tmp_path)
    assert {Path(leak.path).name for leak in leaks} == {"out.md", "out.json"}, (text, leaks)
    return [leak.excerpt for leak in leaks]


# --- 1. cards ---------------------------------------------------------------------------
@pytest.mark.parametrize("raw", [
    "card4242424242424242",
    "4242_4242_4242_4242",
    "4242x4242x4242x4242",
    "4242424242424242-exp-12/29",
    "num:4242424242424242abc",
    "pay with card_4242424242424242 please",
    "ref-4242424242424242",
    "4242/4242/4242/4242 thanks",
    "(4242424242424242)",
])
def test_a_card_touching_letters_or_separators_is_masked_and_scanned(tmp_path: Path, raw: str) -> None:
    masked = mask_text(raw)
    assert "4242424242" not in masked.replace("_", "").replace("x", "").replace("/", ""), masked
    assert "****4242" in masked
    assert "card" in _kinds(raw)
    assert all("42424242" not in e.replace("_", "").replace("x", "").replace("/", "")
               for e in _scanned(tmp_path, raw))


_SEPARATORS = [" ", "-", ".", "_", "x", "/", ""]
_BEFORE = st.sampled_from(["", "card", "num:", "abc", "Card#", "(", "no.", "cc=", "[", "'", '"', "visa ", "x", "ZZ",
                           "/", ":", "card_", "ref-", "#"])
_AFTER = st.sampled_from(["", "abc", "exp", ")", "]", ",", ";", "'", '"', "!", "?", ".", "x", "ZZ", "-exp-12/29", "/",
                          ":", "_x", "-"])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(length=st.integers(13, 19), data=st.data(), before=_BEFORE, after=_AFTER)
def test_any_luhn_valid_number_with_any_separators_and_surroundings_is_masked(
        tmp_path: Path, length: int, data: st.DataObject, before: str, after: str) -> None:
    body = data.draw(st.text("0123456789", min_size=length - 1, max_size=length - 1).filter(lambda b: len(set(b)) > 2))
    card = _luhn_complete(body)
    groups = [card[i:i + 4] for i in range(0, len(card), 4)]
    seps = data.draw(st.lists(st.sampled_from(_SEPARATORS), min_size=len(groups) - 1, max_size=len(groups) - 1))
    written = groups[0] + "".join(s + g for s, g in zip(seps, groups[1:]))
    text = f"paid {before}{written}{after} today"
    masked = mask_text(text)
    assert f"****{card[-4:]}" in masked, (text, masked)
    assert card[:8] not in "".join(ch for ch in masked if ch.isdigit()), (text, masked)
    assert "card" in _kinds(text), text
    (tmp_path / "c.txt").write_text(text)
    leaks = scan(tmp_path / "c.txt")
    assert leaks and all(card[:8] not in "".join(ch for ch in e.excerpt if ch.isdigit()) for e in leaks), leaks


_B62 = string.ascii_letters + string.digits


@settings(max_examples=150, deadline=None)
@given(prefix=st.sampled_from(["cus", "in", "ch", "pi", "sub", "price", "prod", "pm", "txn", "evt", "re", "cn", "ii"]),
       body=st.text(_B62, min_size=14, max_size=28).filter(lambda b: any(c.isalpha() for c in b)),
       amount=st.integers(0, 10**9 - 1), stamp=st.integers(10**9, 2 * 10**9))
def test_stripe_ids_amounts_and_timestamps_are_never_mangled(prefix: str, body: str, amount: int, stamp: int) -> None:
    text = (f"{prefix}_{body} amount {amount} ({amount / 100:.2f} EUR) at {stamp} "
            f"key bnb-{hashlib.sha256(body.encode()).hexdigest()[:32]} sha {hashlib.sha256(body.encode()).hexdigest()}")
    assert mask_text(text) == text
    assert find_pii(text, []) == []


@pytest.mark.parametrize("text", [
    "cus_N4242424242424242ab in_1Nv4242424242424242Xy ch_3Mm4242424242424242kd",  # Luhn digits inside an id
    "hash e3b0c44298fc1c1494242424242424242fb92427ae41e4649b934ca495991b7852b855",
    "uuid 42424242-4242-4242-4242-424242424242",
    "case 20261124-120000-cus_NffrFeUfNV2Hib-1a2b and 20261124120000",
    "p = 0.4242424242424242 and 4.242424242424242e-05 and 4242424242424242.5",
    "version 1.4242424242424242",
])
def test_digits_inside_ids_hashes_stamps_and_floats_are_not_cards(text: str) -> None:
    assert mask_text(text) == text
    assert find_pii(text, []) == []


# --- 2. addresses, postcodes, VAT ids ---------------------------------------------------
@pytest.mark.parametrize(("raw", "gone"), [
    ("send it to 221B Baker Street please", "Baker"),
    ("we moved to 1600 Pennsylvania Ave NW, Washington, DC 20500", "Pennsylvania"),
    ("my office: 10 downing st, London SW1A 2AA", "downing"),
    ("address 350 5th Avenue, New York, NY 10118-0110", "5th Avenue"),
    ("Rechnung an Hauptstraße 5, 10115 Berlin bitte", "Hauptstraße"),
    ("Rechnung an Musterstr. 12a in Köln", "Musterstr"),
    ("Adresse: Berliner Strasse 42", "Berliner"),
    ("Lieferung nach D-80331 München", "80331"),
    ("facture au 12 rue de la Paix, 75002 Paris", "Paix"),
    ("envoyez au 5, avenue des Champs-Élysées", "Champs"),
    ("dirección Calle Mayor 5, Madrid", "Mayor"),
    ("en C/ Alcalá 23 por favor", "Alcalá"),
    ("indirizzo Via Roma 10, Milano", "Roma"),
    ("adres Keizersgracht 123, 1015 CJ Amsterdam", "Keizersgracht"),
    ("postcode 1015 CJ Amsterdam", "1015 CJ"),
    ("住所は〒100-0001 東京都千代田区", "100-0001"),
    ("UK postcode EC1A 1BB", "EC1A"),
])
def test_a_street_address_or_postcode_is_masked_and_scanned(tmp_path: Path, raw: str, gone: str) -> None:
    masked = mask_text(raw)
    assert gone not in masked, masked
    assert "address" in _kinds(raw), raw
    assert find_pii(masked, []) == [], masked
    assert all(gone not in e for e in _scanned(tmp_path, raw))


@pytest.mark.parametrize(("raw", "gone"), [
    ("USt-IdNr.: DE123456789", "123456789"),
    ("VAT GB123456789 on the invoice", "123456789"),
    ("VAT GB 123 4567 89 on the invoice", "4567"),
    ("TVA FR12345678901", "345678901"),
    ("BTW NL123456789B01", "123456789"),
    ("UID ATU12345678", "12345678"),
    ("IVA ESB12345678 y IT12345678901", "12345678"),
    ("DE 123 456 789 please", "456"),
    ("vat id: IE1234567T", "1234567"),
])
def test_a_vat_id_is_masked_and_scanned(tmp_path: Path, raw: str, gone: str) -> None:
    masked = mask_text(raw)
    assert gone not in masked, masked
    assert "vat" in _kinds(raw), raw
    assert find_pii(masked, []) == [], masked
    assert all(gone not in e for e in _scanned(tmp_path, raw))


@pytest.mark.parametrize("text", [
    "we have 5 seats and 3 Road trips planned, 12 users on the main road",
    "we pay 1,234.56 EUR for 10 seats since 2026-11-24, invoice ABCD1234-0001, 3 more lanes",
    "Plan Team 2 Street edition for 25 users, 100 GB, 1000 MB Free, 2048 KB",
    "quantity 12 on 03.11.2026 or 1.000.000,00 and 10000 users, 50000 API calls",
    "order 12345 shipped 2026, up 20% to 43210 requests at 10:30 UTC",
    "invoice in_1Pgafu DE89370400440532013000x and price_1DE123456789ab",
    "I tried it 3 other ways and 2 different places, version 4 Drive sync",
])
def test_amounts_dates_counts_and_invoice_numbers_are_not_addresses_or_vat(text: str) -> None:
    assert not ({"address", "vat"} & _kinds(text)), find_pii(text, [])


# --- 3. emails as a scan (and a reader) still sees them ---------------------------------
@pytest.mark.parametrize(("raw", "gone"), [
    ("mail jane%40example.com", "jane%40"),
    ("https://x.test/?email=jane.doe%40example.com&x=1", "jane.doe"),
    ("key sk%5Ftest%5F4eC39HqLyjWDarjtT1zdp7dc", "4eC39HqL"),
    ('quoted "jane doe"@example.com', "jane doe"),
    ("write jane (at) example (dot) com", "jane"),
    ("write jane[at]example[dot]com", "jane"),
    ("write jane.doe {at} example {dot} co {dot} uk", "doe"),
    ("write jane(AT)example.com", "jane"),
    ("write jane@example(dot)com", "jane"),
])
def test_encoded_quoted_and_obfuscated_emails_and_keys_are_masked_and_scanned(tmp_path: Path, raw: str,
                                                                               gone: str) -> None:
    masked = mask_text(raw)
    assert gone not in masked, masked
    assert find_pii(masked, []) == [], masked
    assert all(gone not in e for e in _scanned(tmp_path, raw))


def test_an_obfuscated_email_is_masked_like_an_email() -> None:
    assert mask_text("write jane (at) example (dot) com soon") == "write j***@example.com soon"
    assert mask_text('quoted "jane doe"@example.com') == "quoted j***@example.com"
