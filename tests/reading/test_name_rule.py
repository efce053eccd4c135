"""One rule for a customer's name in free text (reading.names), over generated names and sentences.

Before: a name part that is an ordinary word was masked by whether the lexicon had it, not by how
the text used it -- customer "Mark Will": "Mark the price down" became "M. the price down" while
"Regards, Will" stayed in clear -- and a part before a full stop got two dots ("from M..").
"""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from billing_nb.analysis.lexicon import VOCABULARY
from billing_nb.reading.masking import mask_text
from billing_nb.reading.names import ordinary_word

#: Given names and surnames that are everyday English words.
ORDINARY = ["Mark", "Will", "Grace", "Hope", "Bill", "Rose", "May", "Frank", "Young", "King", "Drew", "Chase",
            "Joy", "Faith", "Miles", "Rich", "Hunter", "Summer", "Page", "Price", "Street", "Stone"]
_SYLLABLES = ["zor", "vak", "quil", "thar", "mex", "dro", "ulv", "kesh", "bran", "yth", "pold", "wix"]
DISTINCTIVE = st.lists(st.sampled_from(_SYLLABLES), min_size=2, max_size=3).map(lambda s: "".join(s).capitalize())
PART = st.one_of(st.sampled_from(ORDINARY), DISTINCTIVE)
NAME = st.tuples(PART, st.lists(PART, max_size=1), PART).filter(
    lambda n: len({n[0].lower(), n[2].lower(), *(m.lower() for m in n[1])}) == 2 + len(n[1]))
FILLER = st.sampled_from(["I was charged twice this month", "please cancel my subscription",
                          "the invoice is wrong", "can you look at my account", "nothing works since Monday"])
CUES = ["Regards, {p}", "Best regards,\n{p}", "Thanks,\n{p}", "Thanks, {p}", "Hi {p}, ", "Hello {p},", "Dear {p},",
        "I'm {p}", "my name is {p}", "this is {p}", "— {p}", "-- {p}", "Cheers, {p}", "Mr. {p} called",
        "Dr {p} wrote"]


def _words(text: str) -> list[str]:
    return re.findall(r"[^\W\d_]+(?:['’-][^\W\d_]+)*", text.casefold())


def _has_run(text: str, run: list[str]) -> bool:
    words, run = _words(text), [w.casefold() for w in run]
    return any(words[i:i + len(run)] == run for i in range(len(words)))


def _full(name: tuple[str, list[str], str]) -> list[str]:
    return [name[0], *name[1], name[2]]


@given(NAME, FILLER, FILLER, st.sampled_from([str.lower, str.upper, str.title, lambda s: s]))
def test_the_full_name_in_its_order_is_masked_in_any_case(name: tuple[str, list[str], str], a: str, b: str,
                                                          case: object) -> None:
    written = case(" ".join(_full(name)))  # type: ignore[operator]
    for text in (f"{a}. {written} here, {b}.", f"{written}: {a}", f"{a}, {written}", f"{a} -- {written.lower()}"):
        out = mask_text(text, [" ".join(_full(name))], VOCABULARY)
        assert not _has_run(out, [name[0], name[2]]) and not _has_run(out, _full(name)), (text, out)
        assert f"{name[0][0].upper()}." in out


@given(NAME, FILLER, st.sampled_from(["", "Mr ", "Ms. ", "Dr. "]))
def test_first_and_last_without_the_middle_or_the_other_way_round_are_masked(
        name: tuple[str, list[str], str], a: str, title: str) -> None:
    known = [" ".join(_full(name))]
    for written in (f"{name[0]} {name[2]}", f"{name[2]} {name[0]}", f"{name[2]}, {name[0]}",
                    f"{name[2].upper()} {name[0].upper()}"):
        out = mask_text(f"{a}. Signed {title}{written} today", known, VOCABULARY)
        assert not _has_run(out, [name[0]]) or not _has_run(out, [name[2]]), (written, out)
        assert name[0] not in out and name[2] not in out, (written, out)


@given(NAME, FILLER, st.sampled_from(CUES), st.integers(0, 2))
def test_a_part_used_as_a_name_is_masked(name: tuple[str, list[str], str], a: str, cue: str, which: int) -> None:
    part = _full(name)[min(which, len(_full(name)) - 1)]
    for text in (f"{a}. {cue.format(p=part)}", f"{cue.format(p=part)} {a}.", f"{a}, from {part}.",
                 f"{a}.\n{part}", f"{a}! {part}"):
        out = mask_text(text, [" ".join(_full(name))], VOCABULARY)
        assert part not in _words_as_written(out), (text, out)


def _words_as_written(text: str) -> list[str]:
    return re.findall(r"[^\W\d_]+(?:['’-][^\W\d_]+)*", text)


@given(st.sampled_from(ORDINARY), DISTINCTIVE, FILLER)
def test_an_ordinary_part_used_as_a_word_is_kept(part: str, other: str, a: str) -> None:
    assert ordinary_word(part)
    known = [f"{other} {part}"]
    for text in (f"{part} the price down, {a}.", f"{a}. {part} it as paid?", f"you {part.lower()} see it: {a}",
                 f"{a}; {part.lower()} it please.", f"{part.upper()} IS URGENT: {a}"):
        assert mask_text(text, known, VOCABULARY) == text


@given(DISTINCTIVE, st.sampled_from(ORDINARY), FILLER)
def test_a_distinctive_part_is_masked_even_where_a_word_would_not_be(part: str, other: str, a: str) -> None:
    out = mask_text(f"{part} here. {a}", [f"{part} {other}"], VOCABULARY)
    assert out == f"{part[0]}. here. {a}"


@given(NAME, FILLER, st.sampled_from(["from {p}.", "Regards, {p}.", "Thanks, {n}.", "call {n}.", "from {p}!"]))
def test_no_mask_doubles_a_full_stop_and_masking_twice_changes_nothing(
        name: tuple[str, list[str], str], a: str, shape: str) -> None:
    known = [" ".join(_full(name))]
    text = f"{a}, {shape.format(p=name[2], n=' '.join(_full(name)))}"
    out = mask_text(text, known, VOCABULARY)
    assert ".." not in out and out != text, (text, out)
    assert mask_text(out, known, VOCABULARY) == out
    ellipsis = mask_text(f"{a}, {' '.join(_full(name))}...", known, VOCABULARY)
    assert ellipsis.endswith(f"{name[2][0].upper()}...") and not ellipsis.endswith("....")


def test_the_testers_examples() -> None:
    known = ["Mark Will"]
    assert mask_text("Mark the price down", known) == "Mark the price down"
    assert mask_text("Regards, Will", known) == "Regards, W."
    assert mask_text("The refund came from Mark.", known) == "The refund came from M."
    assert mask_text("you will see it", known) == "you will see it"
    assert mask_text("Thanks for nothing.\nWill", known) == "Thanks for nothing.\nW."
    assert mask_text("MARK WILL", known) == "M. W."
    assert mask_text("Will, Mark", known) == "W. M."


def test_a_catalogue_name_keeps_the_product_and_masks_the_customer_it_names() -> None:
    from billing_nb.reading.masking import catalogue_words
    from billing_nb.reading.pii import merge

    known = ["Acme Analytics", "Barraclough Freight Ltd"]
    objects = [{"object": "product", "name": "Acme Analytics Pro"},
               {"object": "product", "name": "Enterprise plan - Barraclough Freight Ltd"},
               {"object": "price", "nickname": "Support for Acme Analytics"}]
    words = merge(VOCABULARY, catalogue_words(objects, known))
    assert mask_text("Acme Analytics Pro", known, words) == "Acme Analytics Pro"
    assert mask_text("Enterprise plan - Barraclough Freight Ltd", known, words) == "Enterprise plan - B. F. L."
    assert mask_text("Support for Acme Analytics", known, words) == "Support for A. A."
    assert mask_text("I pay for Acme Analytics Pro.\n— Acme Analytics", known, words) == \
        "I pay for Acme Analytics Pro.\n— A. A."
