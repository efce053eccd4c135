"""A customer's name is masked whole everywhere; a lone part of it only where it is not a word
the case itself uses (the toolkit's lexicon, the merchant's catalogue)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from billing_nb.analysis.lexicon import VOCABULARY
from billing_nb.reading.masking import catalogue_words, mask_object, mask_strings, mask_text
from billing_nb.reading.pii import merge, ordinary_word

CARA = ["Cara Cancel", "cara.cancel@example.com"]
TEAM = ["Personal Team", "tp.name@example.com"]


@pytest.mark.parametrize(("text", "known", "kept"), [
    ("Cancel now and refund the unused time: $10.00 USD", CARA, "Cancel now and refund"),
    ("Cancelled at period end", CARA, "Cancelled at period end"),
    ("Personal use only.", TEAM, "Personal use only."),
    ("Why am I paying for 2 seats? Team plan", TEAM, "Team plan"),
])
def test_a_name_part_that_is_a_billing_word_stays(text: str, known: list[str], kept: str) -> None:
    assert kept in mask_text(text, known, VOCABULARY)


@pytest.mark.parametrize(("text", "known", "gone"), [
    ("Hi, this is Ardmore from accounts", ["Josefina Ardmore"], "Ardmore"),
    ("Josefina here", ["Josefina Ardmore"], "Josefina"),
    ("Regards, Cara Cancel", CARA, "Cara Cancel"),
    ("regards, cara cancel", CARA, "cara cancel"),
    ("Thanks, Cara", CARA, "Cara"),
    ("From Personal Team", TEAM, "Personal Team"),
])
def test_the_whole_name_and_a_distinctive_part_are_still_masked(text: str, known: list[str], gone: str) -> None:
    assert gone not in mask_text(text, known, VOCABULARY)


def test_the_catalogue_keeps_its_own_words_in_every_object() -> None:
    objects: dict[str, Any] = {
        "products": [{"object": "product", "id": "prod_T", "name": "Team Workspace"}],
        "prices": [{"object": "price", "id": "price_T", "nickname": "Team monthly", "product": "prod_T"}],
        "customers": [{"object": "customer", "id": "cus_T", "name": "Personal Team", "email": TEAM[1],
                       "description": "Team Workspace for Personal Team"}],
        "invoices": [{"object": "invoice", "id": "in_T", "lines": {"data": [
            {"object": "line_item", "description": "2 x Team Workspace (at $12.00 / month)"}]}}],
    }
    words = merge(VOCABULARY, catalogue_words(objects, ["Personal Team"]))
    masked = mask_object(objects, common=words)
    assert masked["products"][0]["name"] == "Team Workspace"
    assert masked["prices"][0]["nickname"] == "Team monthly"
    assert masked["customers"][0]["name"] == "P. T."
    assert masked["customers"][0]["description"] == "Team Workspace for P. T."
    assert masked["invoices"][0]["lines"]["data"][0]["description"] == "2 x Team Workspace (at $12.00 / month)"
    assert mask_object(masked, common=words) == masked
    # without the case's words "Team" is still an English word: the word at a sentence's start, a
    # name capitalised inside one ("from Team" -> "from T."), the product's in its catalogue name
    assert mask_object(objects)["products"][0]["name"] == "Team Workspace"
    assert mask_text("A note from Team.", ["Personal Team"]) == "A note from T."
    assert mask_text("A note on Team Workspace.", ["Personal Team"], words) == "A note on Team Workspace."


def test_a_product_named_after_its_customer_gives_no_words() -> None:
    objects = [{"object": "product", "id": "prod_A", "name": "Josefina Ardmore Special"},
               {"object": "customer", "id": "cus_A", "name": "Josefina Ardmore"}]
    assert "ardmore" not in catalogue_words(objects, ["Josefina Ardmore"])[0]
    words = catalogue_words(objects, ["Josefina Ardmore"])
    assert "Ardmore" not in mask_text("Hi, this is Ardmore", ["Josefina Ardmore"], words)


def test_our_own_record_text_keeps_its_words() -> None:
    record = {"refund_options": [{"label": "Cancel now and refund the unused time"}], "plan": "Team Workspace"}
    words = merge(VOCABULARY, catalogue_words([{"object": "product", "name": "Team Workspace"}]))
    assert mask_strings(record, CARA + TEAM, words) == record


@given(st.sampled_from(sorted(VOCABULARY[0])))
def test_every_lexicon_word_as_a_name_part_stays_on_its_own(word: str) -> None:
    part = word.capitalize()
    known = [f"Zyxwer {part}"]
    assert ordinary_word(part, VOCABULARY)
    assert mask_text(f"{part} the rest", known, VOCABULARY).startswith(part)
    assert f"Zyxwer {part}" not in mask_text(f"Zyxwer {part} wrote", known, VOCABULARY)
