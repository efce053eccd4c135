"""Card numbers written back to back in groups of four are masked in one pass, so that masking
again, or scanning the masked record, finds nothing more. Found by test_generated_accounts: the
complaint '4242 4242 4242 4242 4242 4242 4242 4242 0044 20 7946 0958' was saved as
'****4242 ****4242 ...' only after a second masking; the first left both cards (each run went on
past its card), and the runner's scan then failed the case."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from billing_nb.reading.pii import find_pii, mask_text


def _luhn_complete(body: str) -> str:
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch)
        if i % 2 == 0:
            d = d * 2 - 9 if d * 2 > 9 else d * 2
        total += d
    return body + str((10 - total % 10) % 10)


cards = st.text("0123456789", min_size=15, max_size=15).filter(lambda b: len(set(b)) > 1).map(_luhn_complete)


def _grouped(card: str, sep: str) -> str:
    return sep.join(card[i:i + 4] for i in range(0, 16, 4))


@settings(max_examples=150, deadline=None)
@given(st.lists(cards, min_size=2, max_size=6), st.sampled_from([" ", "-", ".", "_"]),
       st.sampled_from(["", " 0044 20 7946 0958", " thanks", " 12", " 4242", ", exp 12/29"]))
def test_a_chain_of_cards_is_masked_at_once(chain: list[str], sep: str, tail: str) -> None:
    text = "my cards: " + sep.join(_grouped(c, sep) for c in chain) + tail
    masked = mask_text(text)
    assert not [k for _, _, k in find_pii(masked, []) if k == "card"], masked
    assert mask_text(masked) == masked
    for card in chain:
        assert _grouped(card, sep) not in masked, masked


def test_the_generated_accounts_complaint() -> None:
    text = "4242 4242 4242 4242 4242 4242 4242 4242 0044 20 7946 0958"
    masked = mask_text(text)
    assert masked.startswith("****4242 ****4242 ") and find_pii(masked, []) == []
