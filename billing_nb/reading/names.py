"""Where a customer's name stands in free text: one rule for every masking and for the scanner.

A name is masked in text as initials (``Josefina Ardmore`` -> ``J. A.``). Which words of a text
are the name:

1. **The full name**: its first and last parts, with or without its middle ones, in its own order
   in any case (``mark will``, ``MARK WILL``, ``Mark J. Will``), or the other way round written
   capitalised (``Will Mark``, ``Will, Mark``), after an honorific or not. Always masked.
2. **A distinctive part on its own** (``Ardmore``: no English word, lexicon word or catalogue
   word): masked wherever it is written capitalised.
3. **A part that is an ordinary word** (``Mark``, ``Will``, ``Grace``: :data:`.words.ENGLISH`, the
   lexicon's words, the case's catalogue) is masked only where the text uses it as a name:
   capitalised inside a sentence (``a call from Mark.``), after a greeting, sign-off or
   introduction (``Hi Will``, ``Regards, Will``, ``Thanks,\\nWill``, ``I'm Will``, ``my name is
   will``, ``— Will``), after an honorific (``Mr Will``), or as the text's closing signature
   (``Please refund.\\nWill``). At the start of a sentence (``Mark the price down``) or in lower
   case (``you will see``) it is the word. A catalogue word (``Team`` of product ``Team
   Workspace``) is capitalised because it names the product: only the greeting/sign-off cues and
   honorifics make it the customer.
4. **The catalogue names the product**: an occurrence of one of the case's catalogue names
   (products', prices' and plans' names and nicknames: :attr:`Vocabulary.phrases`) stays readable,
   name inside it or not (customer ``Acme Analytics``, product ``Acme Analytics Pro``; customer
   ``Pro Plan``, plan ``Pro Plan``), unless a sign-off, greeting or honorific puts it as the
   customer's name (``— Pro Plan``), or the catalogue name sets the customer's name off as its
   own segment -- the catalogue naming its customer, masked: ``Enterprise plan - B. F. L.``,
   ``Support for A.``. Name fields (``customer.name``) are masked whole by
   :func:`~.masking.mask_object` regardless.

A mask before a full stop takes its dot: ``from Mark.`` -> ``from M.``, never ``M..``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from typing import NamedTuple

from .words import ENGLISH

__all__ = ["Vocabulary", "NO_WORDS", "vocabulary", "merge", "ordinary_word", "name_spans", "name_parts"]


class Vocabulary(NamedTuple):
    """Words the case itself uses, read by :func:`name_spans`.

    ``words``: ordinary words (lexicon, catalogue); ``stems``: prefixes of ordinary words
    (``cancel`` for ``cancelled``); ``phrases``: the catalogue's whole names (rule 4);
    ``catalogue``: the catalogue's words (rule 3's product words)."""

    words: frozenset[str]
    stems: frozenset[str]
    phrases: frozenset[str] = frozenset()
    catalogue: frozenset[str] = frozenset()


NO_WORDS = Vocabulary(frozenset(), frozenset())


def vocabulary(words: Iterable[str] = (), stems: Iterable[str] = (), phrases: Iterable[str] = (),
               catalogue: Iterable[str] = ()) -> Vocabulary:
    """A :class:`Vocabulary` (lower case; words of 3 letters or more, stems of 5 or more, phrases
    of 3 characters or more, whitespace collapsed)."""
    return Vocabulary(frozenset(w.lower() for w in words if len(w) >= 3),
                      frozenset(t.lower() for t in stems if len(t) >= 5),
                      frozenset(p for p in (" ".join(p.split()).lower() for p in phrases) if len(p) >= 3),
                      frozenset(w.lower() for w in catalogue if len(w) >= 3))


def merge(*vocabularies: Vocabulary) -> Vocabulary:
    """One vocabulary of several (the lexicon's and a case's catalogue)."""
    return Vocabulary(*(frozenset().union(*(v[i] for v in vocabularies)) for i in range(4)))


#: Endings that make an ordinary word of a vocabulary word (``person`` -> ``Personal``,
#: ``cancel`` -> ``Cancelled``): a name part so written is a word, not the customer.
_INFLECTIONS = ("s", "es", "d", "ed", "ing", "al", "ly", "er", "ers", "led", "ling")


def ordinary_word(word: str, common: Vocabulary = NO_WORDS) -> bool:
    """Whether ``word`` is an ordinary word: English (:data:`.words.ENGLISH`), one of ``common``'s
    words, an inflection of one, or starting with one of its stems."""
    low = word.lower()
    words = common[0] | ENGLISH if low not in ENGLISH else ENGLISH
    if low in words or any(low.endswith(s) and low[:-len(s)] in words for s in _INFLECTIONS):
        return True
    return any(low.startswith(stem) for stem in common[1])


# --- where a word is used as a name ------------------------------------------------------
_LETTERS = r"[^\W\d_]"
_TOKEN = re.compile(rf"{_LETTERS}+(?:['’-]{_LETTERS}+)*")
_HONORIFIC = r"(?:mr|mrs|ms|miss|mx|dr|prof|sir|madam|dame|lord|lady|herr|frau|sr|sra|mme|mlle)"
#: Greetings, sign-offs and dashes before a name: any part after one is the name if capitalised.
_CUE = re.compile(
    r"(?:(?<![\w'’])(?:hi|hello|hey|dear|greetings|regards|best regards|kind regards|warm regards|warmest regards"
    r"|best wishes|thanks|thank you|many thanks|thanks again|thanks so much|cheers|best|sincerely|yours sincerely"
    r"|yours truly|yours faithfully|yours|respectfully|cordially|signed|sent by)\s*[,:!]?"
    r"|(?:—|–|--|(?:^|\n)\s*-|~))\s*$", re.IGNORECASE)
#: Introductions and honorifics: a part after one is the name in any case (``my name is will``).
_INTRO = re.compile(rf"(?:(?<![\w'’])(?:i'm|i’m|i am|my name is|my name's|name is|this is|call me)\s*:?"
                    rf"|(?<![\w'’]){_HONORIFIC}\.?)\s+$", re.IGNORECASE)
_SENTENCE_END = ".!?:;…\n"
#: Inside a catalogue name, what sets the customer's name off as its own segment: the catalogue
#: naming its customer ("Enterprise plan - Barraclough Freight Ltd", "Support for Acme"), not a
#: product named like them.
_SET_OFF = re.compile(r"(?:\s[-–—|/]|[(:,|/])\s*$|(?<![\w'’])(?:for|by|of|x)\s+$", re.IGNORECASE)
_OPENERS = " \t\"'“‘«([*_`>"
_INITIAL = re.compile(rf"(?:^|[\s(]){_LETTERS}\.$|(?<![\w]){_HONORIFIC}\.$", re.IGNORECASE)


def name_parts(name: str) -> list[str]:
    """The parts of a known name (``Anne-Marie O'Neil`` -> ``Anne-Marie``, ``O'Neil``)."""
    return [p for p in re.split(r"\s+", name.strip()) if p]


def _before(text: str, start: int, width: int = 40) -> str:
    """The ``width`` characters before ``start``; a NUL first when the text goes on further back,
    so ``^`` in a cue's pattern means the text's own start."""
    return text[:start] if start <= width else "\x00" + text[start - width:start]


def _sentence_start(text: str, start: int) -> bool:
    """Whether the word at ``start`` opens its text, line or sentence (quotes and brackets skipped;
    an initial or honorific's dot, ``J.`` or ``Mr.``, does not end a sentence)."""
    i = start
    while i > 0 and text[i - 1] in _OPENERS:
        i -= 1
    if i == 0:
        return True
    if text[i - 1] not in _SENTENCE_END:
        return False
    return not (text[i - 1] == "." and _INITIAL.search(_before(text, i, 8)))


def _capitalised(word: str) -> bool:
    return word[:1].isupper()


class _Name(NamedTuple):
    parts: tuple[str, ...]  # casefolded, in order
    first: str
    last: str


@lru_cache(maxsize=256)
def _names(names: tuple[str, ...]) -> tuple[tuple[_Name, ...], frozenset[str], frozenset[str]]:
    """Each multi-part name; the one-word names; every part (sub-parts of hyphenated ones too,
    3 letters or more). Casefolded."""
    multi: list[_Name] = []
    single: set[str] = set()
    parts: set[str] = set()
    for name in names:
        split = name_parts(name)
        folded = tuple(p.casefold() for p in split)
        if len(split) >= 2:
            multi.append(_Name(folded, folded[0], folded[-1]))
        elif split and _TOKEN.fullmatch(split[0]):
            single.add(folded[0])
        parts.update(part.casefold() for part in {*split, *(s for p in split for s in p.split("-"))}
                     if len(part) >= 3 and _TOKEN.fullmatch(part))
    return tuple(multi), frozenset(single), frozenset(parts)


@lru_cache(maxsize=256)
def _phrase_regex(phrases: frozenset[str], parts: tuple[str, ...]) -> re.Pattern[str] | None:
    """The catalogue names that hold a name part (only those can shield one)."""
    mine = sorted((p for p in phrases if any(t.casefold() in parts for t in _TOKEN.findall(p))), key=len, reverse=True)
    if not mine:
        return None
    body = "|".join(r"\s+".join(map(re.escape, p.split())) for p in mine)
    return re.compile(rf"(?<![\w-])(?:{body})(?![\w-])", re.IGNORECASE)


def _initials(tokens: list[str]) -> str:
    return " ".join(f"{t[0].upper()}." for t in tokens)


def name_spans(text: str, names: Iterable[str], common: Vocabulary = NO_WORDS, *, parts: bool = True
               ) -> list[tuple[int, int, str]]:
    """Every (start, end, mask) of the known ``names`` in ``text`` by the module's rules, in order,
    not overlapping. ``parts=False``: full names only (what the scanner reports as a leak)."""
    multi, single, part_of = _names(tuple(sorted(set(names))))
    if not text or not part_of and not multi:
        return []
    tokens = [(m.start(), m.end(), m.group(0)) for m in _TOKEN.finditer(text)]
    folded = [t[2].casefold() for t in tokens]
    every = {p for n in multi for p in n.parts} | part_of
    if not any(f in every for f in folded):
        return []
    phrase = _phrase_regex(common[2], tuple(sorted(every)))
    shields = [(m.start(), m.end()) for m in phrase.finditer(text)] if phrase else []

    def shielded(s: int, e: int) -> bool:
        return any(a <= s and e <= b and not _cued(text, a) and not _SET_OFF.search(text[a:s]) for a, b in shields)

    spans: list[tuple[int, int, str]] = []
    used: set[int] = set()
    i = 0
    while i < len(tokens):  # rule 1: full names
        run = _full_name_at(text, tokens, folded, i, multi)
        if run:
            s, e = tokens[i][0], tokens[i + run - 1][1]
            if not shielded(s, e):
                spans.append((s, e, _initials([t[2] for t in tokens[i:i + run]])))
                used.update(range(i, i + run))
            i += run
        else:
            i += 1
    for i, (s, e, word) in enumerate(tokens):  # rule 1 for a one-word name: a distinctive one in any case
        if i not in used and folded[i] in single and not ordinary_word(word, common) and not shielded(s, e):
            spans.append((s, e, f"{word[0].upper()}."))
            used.add(i)
    if parts:
        signature = _signature(text, tokens, folded, every)
        for i, (s, e, word) in enumerate(tokens):
            if i in used or folded[i] not in part_of or shielded(s, e):
                continue
            if _named(text, s, word, folded[i], common, i in signature):
                spans.append((s, e, f"{word[0].upper()}."))
    spans.sort()
    return [(s, e, m[:-1] if m.endswith(".") and text[e:e + 1] == "." else m) for s, e, m in spans]


def _named(text: str, start: int, word: str, low: str, common: Vocabulary, signature: bool) -> bool:
    """Whether a lone name part at ``start`` is used as the name (rules 2 and 3)."""
    if not ordinary_word(word, common):
        return _capitalised(word)  # rule 2
    before = _before(text, start)
    if _INTRO.search(before):
        return True
    if _CUE.search(before) or signature:
        return _capitalised(word) or _ends_here(text, start + len(word))
    if low in common[3]:
        return False  # a catalogue word capitalised: the product's
    return _capitalised(word) and not word.isupper() and not _sentence_start(text, start)


def _cued(text: str, start: int) -> bool:
    before = _before(text, start)
    return bool(_CUE.search(before) or _INTRO.search(before))


def _ends_here(text: str, end: int) -> bool:
    """Nothing but punctuation and space after ``end`` up to the line's end: a signature."""
    rest = text[end:].split("\n", 1)[0]
    return not rest.strip(" \t.,!;:)\"'”’")


def _signature(text: str, tokens: list[tuple[int, int, str]], folded: list[str], every: set[str]) -> set[int]:
    """The tokens of a closing signature: the text's last line or sentence made only of name
    parts (and initials), after something else was said (a lone ``Will`` is no signature)."""
    if len(tokens) < 2 or text[tokens[-1][1]:].strip(" \t\r\n.!,;"):
        return set()
    out: list[int] = []
    j = len(tokens) - 1
    while folded[j] in every or len(folded[j]) == 1:
        out.append(j)
        if j == 0:
            return set()  # nothing said before it
        gap = text[tokens[j - 1][1]:tokens[j][0]].strip(" \t")
        if not gap or gap == "." and len(folded[j - 1]) == 1:  # the same signature goes on
            j -= 1
            continue
        said = any(ch in gap for ch in _SENTENCE_END + "—–-~")
        return set(out) if said and any(folded[k] in every for k in out) else set()
    return set()


def _full_name_at(text: str, tokens: list[tuple[int, int, str]], folded: list[str], i: int,
                  multi: tuple[_Name, ...]) -> int:
    """How many tokens from ``i`` make a full name of ``multi`` (0: none)."""
    best = 0
    for name in multi:
        j, seen = i, []
        while j < len(tokens):
            tok = folded[j]
            if tok in name.parts or (len(tok) == 1 and seen and text[tokens[j][1]:tokens[j][1] + 1] == "."):
                if j > i:
                    gap = text[tokens[j - 1][1]:tokens[j][0]]
                    if not re.fullmatch(r"\.?[ \t]+|,[ \t]*", gap) or gap.startswith(",") and len(seen) != 1 \
                            or gap.startswith(".") and len(folded[j - 1]) != 1:
                        break
                seen.append(j)
                j += 1
            else:
                break
        while seen:  # the longest run that is a full name
            words = [folded[k] for k in seen]
            if name.first in words and name.last in words and name.first != name.last or (
                    name.first == name.last and words.count(name.first) >= 2):
                in_order = [w for w in words if w in name.parts] == [p for p in name.parts if p in words]
                comma = any(text[tokens[k - 1][1]:tokens[k][0]].startswith(",") for k in seen[1:])
                if in_order and not comma or all(_capitalised(tokens[k][2]) for k in seen):
                    best = max(best, len(seen))
                    break
            seen.pop()
            while seen and len(folded[seen[-1]]) == 1:
                seen.pop()
    return best
