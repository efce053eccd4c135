"""An IBAN is a registered country at that country's length, not any token passing mod 97: a
widget's random 32-hex model id passed one time in 97 and failed a warm-batch case's redaction
scan now and then (tests/records/test_speed.py::test_warm_batch_runs_cases_on_two_workers)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from billing_nb.reading.pii import find_pii, is_iban, mask_text


def _with_check(country: str, bban: str) -> str:
    digits = "".join(str(int(ch, 36)) for ch in bban + country + "00")
    return f"{country}{98 - int(digits) % 97:02d}{bban}"


@settings(max_examples=200, deadline=None)
@given(st.text("abcdef", min_size=2, max_size=2), st.text("0123456789abcdef", min_size=28, max_size=28))
def test_a_hex_model_id_passing_mod_97_is_no_iban(country: str, rest: str) -> None:
    model_id = _with_check(country.upper(), rest.upper()).lower()  # 32 hex characters, mod 97 == 1
    assert not [k for _, _, k in find_pii(f'"model_id": "{model_id}"', []) if k == "iban"], model_id


def test_a_token_passing_mod_97_at_a_wrong_length_is_no_iban() -> None:
    fake = _with_check("AE", "1" * 28)  # AE is 23 long; this is 32 and passes mod 97
    assert not is_iban(fake) and mask_text(fake) == fake


def test_real_ibans_still_mask() -> None:
    for iban in ("DE89 3704 0044 0532 0130 00", "GB82WEST12345698765432", "de89370400440532013000",
                 _with_check("NL", "ABNA0417164300"), _with_check("NO", "86011117947")):
        assert is_iban(iban), iban
        assert "***" in mask_text(f"my iban is {iban}"), iban
