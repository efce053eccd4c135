"""PII and secrets in free text: the one detector behind both masking and the scanner.

Kinds: ``email`` (any RFC 5322 local part: apostrophes, plus signs, unicode), ``phone``
(``+44 20 7946 0958``, ``0044 20 7946 0958``, ``(415) 555-0142``, ``415-555-0142``, ``4155552671``, and
national numbers after a trunk 0: ``090-1234-5678``, ``020 7946 0958``, ``06 12 34 56 78``),
``iban`` (ISO 13616, mod-97 checksum), ``card`` (13-19 digits, Luhn), ``key`` (``sk_``/``rk_``/``pk_``
``test``/``live`` keys, ``whsec_``), and the customer's own values (``name``/``address``/``email``/
``phone``) given as ``known``. Stripe object ids, unix timestamps and amounts never match: every
pattern is anchored so digits inside an id or a plain integer cannot (by ASCII word characters
only: CJK text glues a number to its words). Stripe's own addresses
(``support@stripe.com`` in an error message) are not a person's PII.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache

__all__ = ["PATTERNS", "NO_WORDS", "Vocabulary", "find_pii", "known_needles", "known_kind", "mask_email",
           "mask_name", "mask_phone", "mask_text", "is_iban", "merge", "ordinary_word", "vocabulary"]

#: A pattern's edges refuse an ASCII word character (digits inside an id, a longer number),
#: not any letter: Japanese, Chinese and Korean text glue a number to the words around it
#: (``電話は090-1234-5678です``), and ``\w`` counts those letters as word characters.
_W = "A-Za-z0-9_"
_EMAIL = re.compile(rf"(?<![{_W}.%+'-])[\w.%+'-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{{2,}}(?![A-Za-z0-9-])")
_KEY = re.compile(r"(?<![A-Za-z0-9])(?:(?:sk|rk|pk)_(?:test|live)_|whsec_)[A-Za-z0-9_]{8,}")
_PHONE = re.compile(
    rf"(?<![{_W}+])(?:\(\+[1-9]\d{{0,2}}\)|(?:\+|00)[1-9]\d{{0,2}})(?:[ .-]?\(?\d{{1,4}}\)?){{2,5}}(?![{_W}])"  # +44 20 7946 0958, (+44) 20 ..., 0044 20 ..., +14155550142
    rf"|(?<![{_W}(])\(\d{{3}}\)[ .-]?\d{{3}}[ .-]\d{{4}}(?![{_W}])"  # (415) 555-0142
    rf"|(?<![{_W}.+-])\d{{3}}([.-])\d{{3}}\1\d{{4}}(?![{_W}-])"  # 415-555-0142, 415.555.0142
    rf"|(?<![{_W}.+-])[2-9]\d{{2}} \d{{3}} \d{{4}}(?![{_W}-])"  # 415 555 0142
    rf"|(?<![{_W}.+-])[2-9]\d{{2}}[2-9]\d{{6}}(?![{_W}.-])"  # 4155552671 (NANP: never a unix time, which starts with 1)
    # national numbers after a trunk 0, one separator throughout (9+ digits: _real): 090-1234-5678,
    # 03-1234-5678, 020 7946 0958, 06 12 34 56 78, 030 12345678, 0412 345 678, 09012345678
    rf"|(?<![{_W}.,+/:-])0[1-9]\d{{0,3}}([ .-])\d{{2,8}}(?:\2\d{{2,4}}){{0,4}}(?![{_W}/:-]|[.,]\d)"
    rf"|(?<![{_W}(])\(0[1-9]\d{{0,3}}\)[ ]?\d{{2,8}}(?:[ .-]\d{{2,4}}){{0,3}}(?![{_W}/:-]|[.,]\d)"  # (03) 1234-5678
    rf"|(?<![{_W}.,+/:-])0[1-9]\d{{8,9}}(?![{_W}.,/:-])"
)
_CARD = re.compile(
    rf"(?<![{_W}.+/-])(?:"
    r"\d{13,19}"  # contiguous
    r"|\d{4}([ -])\d{4}\1\d{4}\1\d{1,4}(?:\1\d{1,3})?"  # 4-4-4-4(-3)
    r"|\d{4}([ -])\d{6}\2\d{4,5}"  # amex 4-6-5, diners 4-6-4
    rf")(?![{_W}/+-]|\.\d)"
)
_IBAN = re.compile(rf"(?<![{_W}])[A-Z]{{2}}\d{{2}}(?: ?[A-Z0-9]){{11,30}}(?![{_W}])")
#: Ids and enums (``cus_Nf3...``, ``subscription_cycle``): a lowercase letter first, then only
#: letters, digits and ``_``. Every pattern's lookbehind refuses an ASCII word character before it and
#: none starts with a lowercase letter, so only a key prefix inside can match: _KEYISH.
_PLAIN = re.compile(r"[a-z][A-Za-z0-9_]*")
_KEYISH = ("sk_", "rk_", "pk_", "whsec_")
_MASKED_PHONE = re.compile(r"^(?:\*{3}-)+\d{2,4}$")
#: Addresses that belong to Stripe, not to a customer (quoted in Stripe's own error messages).
_NOT_PII_DOMAINS = ("stripe.com",)

PATTERNS: dict[str, re.Pattern[str]] = {"key": _KEY, "email": _EMAIL, "iban": _IBAN, "card": _CARD, "phone": _PHONE}


def _luhn(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def is_iban(text: str) -> bool:
    """ISO 13616: move the first four characters to the end, letters to 10..35, mod 97 == 1."""
    compact = text.replace(" ", "")
    if not 15 <= len(compact) <= 34:
        return False
    digits = "".join(str(int(ch, 36)) for ch in compact[4:] + compact[:4])
    return int(digits) % 97 == 1


def _card_digits(match: str) -> str | None:
    digits = re.sub(r"\D", "", match)
    if 13 <= len(digits) <= 19 and len(set(digits)) > 1 and _luhn(digits):
        return digits
    return None


def _real(kind: str, text: str) -> bool:
    """A pattern's match that really is of its kind (checksums, digit counts, Stripe's own)."""
    if kind == "card":
        return _card_digits(text) is not None
    if kind == "phone":
        digits = sum(ch.isdigit() for ch in text)
        national = text.lstrip("(").startswith("0") and not text.startswith("00")
        return (9 if national else 8) <= digits <= 15  # a national number of 8 is a date: 03.11.2026
    if kind == "iban":
        return is_iban(text)
    if kind == "email":
        return not text.lower().rsplit("@", 1)[-1].endswith(_NOT_PII_DOMAINS)
    return True


# --- maskers -------------------------------------------------------------------------
def mask_email(email: str | None) -> str | None:
    """``josefina.ardmore@example.com`` -> ``j***@example.com`` (idempotent)."""
    if email is None:
        return None
    local, at, domain = email.strip().rpartition("@")
    if not at:
        return "***"
    return f"{local[:1] or '*'}***@{domain}"


def mask_name(name: str | None) -> str | None:
    """``Josefina Ardmore`` -> ``J. A.`` (idempotent)."""
    if name is None:
        return None
    parts = [p for p in re.split(r"\s+", name.strip()) if p]
    return " ".join(f"{p[0].upper()}." for p in parts)


def mask_phone(phone: str | None) -> str | None:
    """``+1 415 555 0142`` -> ``***-***-0142``; short numbers keep their last 2 digits."""
    if phone is None:
        return None
    phone = phone.strip()
    if not phone or _MASKED_PHONE.match(phone):
        return phone
    digits = re.sub(r"\D", "", phone)
    if len(digits) >= 8:
        return f"***-***-{digits[-4:]}"
    return f"***-{digits[-2:]}" if len(digits) >= 2 else "***"


def _masked(kind: str, text: str) -> str:
    if kind == "key":
        prefix = re.match(r"(?:(?:sk|rk|pk)_(?:test|live)_|whsec_)", text)
        return f"{prefix.group(0) if prefix else ''}***"
    if kind == "email":
        return mask_email(text) or "***"
    if kind == "card":
        return f"****{(_card_digits(text) or '')[-4:]}"
    if kind == "iban":
        return f"{text[:2]}** ****{text.replace(' ', '')[-4:]}"
    return mask_phone(text) or "***"


def known_kind(value: str) -> str:
    """What a known string is: email, phone, address (has digits) or name."""
    if "@" in value:
        return "email"
    digits = sum(ch.isdigit() for ch in value)
    if digits >= 7 and re.fullmatch(r"[\d\s()+.-]+", value):
        return "phone"
    return "address" if digits else "name"


def known_needles(known: Iterable[str]) -> list[str]:
    """Known strings worth looking for, longest first (so a full name goes before its parts)."""
    return sorted({k.strip() for k in known if k and len(k.strip()) >= 3 and "***" not in k}, key=len, reverse=True)


#: Ordinary words (a lone name part that is one stays in clear) and stems (``cancel`` for
#: ``cancel\w*``): from the toolkit's lexicon and the case's catalogue, given by the caller.
Vocabulary = tuple[frozenset[str], frozenset[str]]
NO_WORDS: Vocabulary = (frozenset(), frozenset())


def vocabulary(words: Iterable[str] = (), stems: Iterable[str] = ()) -> Vocabulary:
    """A :data:`Vocabulary` (lower case; words of 3 letters or more, stems of 5 or more)."""
    return (frozenset(w.lower() for w in words if len(w) >= 3),
            frozenset(t.lower() for t in stems if len(t) >= 5))


def merge(*vocabularies: Vocabulary) -> Vocabulary:
    """One vocabulary of several (the lexicon's and a case's catalogue)."""
    return (frozenset().union(*(v[0] for v in vocabularies)), frozenset().union(*(v[1] for v in vocabularies)))


#: Endings that make an ordinary word of a vocabulary word (``person`` -> ``Personal``,
#: ``cancel`` -> ``Cancelled``): a name part so written is a word, not the customer.
_INFLECTIONS = ("s", "es", "d", "ed", "ing", "al", "ly", "er", "ers", "led", "ling")


def ordinary_word(word: str, common: Vocabulary) -> bool:
    """Whether ``word`` is one of ``common``'s words (or an inflection of one, or starts with one
    of its stems): a name part that is also such a word is left alone on its own."""
    low = word.lower()
    words, stems = common
    if low in words or any(low.endswith(s) and low[:-len(s)] in words for s in _INFLECTIONS):
        return True
    return any(low.startswith(stem) for stem in stems)


@lru_cache(maxsize=64)
def _known_regex(needles: tuple[str, ...], common: Vocabulary = NO_WORDS
                 ) -> tuple[re.Pattern[str] | None, dict[str, str], re.Pattern[str] | None]:
    """One alternation of the known strings (case-insensitive) and one of a name's capitalised
    parts, less those that are ordinary words of ``common`` ("Cancel" of "Cara Cancel" in "Cancel
    now and refund", "Team" of "Personal Team" in "Team Workspace"): the whole name stays masked
    everywhere, a distinctive part ("Ardmore") on its own too."""
    masks: dict[str, str] = {}
    parts: dict[str, str] = {}
    for k in needles:
        kind = known_kind(k)
        masks[k.lower()] = {"email": mask_email(k), "name": mask_name(k), "phone": mask_phone(k)}.get(kind) or "***"
        if kind == "name":
            for part in set(re.split(r"\s+", k)) | set(re.split(r"[\s-]+", k)):
                if (len(part) >= 3 and part[0].isupper() and part.lower() not in masks
                        and not ordinary_word(part, common)):
                    parts[part] = f"{part[0]}."
    whole = re.compile("|".join(re.escape(k) for k in needles), re.IGNORECASE) if needles else None
    named = re.compile("(?<![\\w-])(?:" + "|".join(re.escape(p) for p in sorted(parts, key=len, reverse=True))
                       + ")(?![\\w-])") if parts else None
    masks.update({p.lower(): m for p, m in parts.items()})
    return whole, masks, named


def mask_text(text: str, known: Iterable[str] | None = None, common: Vocabulary = NO_WORDS) -> str:
    """Mask every kind of :data:`PATTERNS` in free text, and each ``known`` string of the customer's
    wherever it appears (case-insensitively; a name's capitalised parts on their own too, unless
    the part is an ordinary word of ``common``: :func:`ordinary_word`)."""
    if not text:
        return text
    needles = tuple(known_needles(known or []))
    if not needles and _PLAIN.fullmatch(text) and not any(k in text for k in _KEYISH):
        return text  # an id or an enum: no pattern can match (see _PLAIN); most strings a sync masks
    if needles:
        whole, masks, named = _known_regex(needles, common)
        if whole is not None:
            text = whole.sub(lambda m: masks.get(m.group(0).lower(), "***"), text)
        if named is not None:
            text = named.sub(lambda m: masks.get(m.group(0).lower(), "***"), text)
    norm = _ascii_digits(text)  # matched on the ASCII form, masked in the text (same offsets)
    for kind in _possible(norm):
        spans = [(m.start(), m.end(), _masked(kind, m.group(0))) for m in PATTERNS[kind].finditer(norm)
                 if _real(kind, m.group(0))]
        for start, end, mask in reversed(spans):
            text, norm = text[:start] + mask + text[end:], norm[:start] + mask + norm[end:]
    return text


#: Punctuation a phone, a card or an email is written with besides ASCII's, as ASCII: the
#: fullwidth forms of a CJK keyboard; the dashes and no-break or thin spaces that word
#: processors, phones and French typography put between digit groups (``06 12 34 56 78`` with
#: U+00A0, ``415–555–0142`` with an en dash); and the katakana long-vowel mark Japanese IMEs
#: often give for a hyphen (``090ー1234ー5678``).
_WIDE = {0xFF0B: "+", 0xFF0D: "-", 0xFF08: "(", 0xFF09: ")", 0xFF0E: ".", 0x3000: " ", 0xFF20: "@",
         **dict.fromkeys((0x2010, 0x2011, 0x2012, 0x2013, 0x2212, 0x30FC, 0xFF70), "-"),
         **dict.fromkeys((0x00A0, 0x2007, 0x2009, 0x202F), " ")}


def _ascii_digits(text: str) -> str:
    """``text`` with every decimal digit (fullwidth ``４``, Arabic-Indic ``٤``, ...) and the
    punctuation of :data:`_WIDE` as ASCII, one character for one: the
    patterns' ``[1-9]`` and separators are ASCII, so ``＋８１ ９０ １２３４ ５６７８`` (a phone
    as a Japanese keyboard types it) matched nothing. Offsets stay those of ``text``."""
    if text.isascii():
        return text
    return "".join(str(unicodedata.decimal(ch)) if ch.isdecimal() and not ch.isascii() else _WIDE.get(ord(ch), ch)
                   for ch in text)


def _possible(line: str) -> list[str]:
    """The kinds whose pattern can match in ``line`` (its digits ASCII: :func:`_ascii_digits`) at
    all, from what each one needs: an ``@`` (email), a key prefix, two digits (an IBAN's check
    digits), 8 (a phone, by :func:`_real`) or 13 (a card). Most lines of a saved notebook have
    none of these; their patterns are skipped."""
    digits = sum(map(line.count, "0123456789"))
    kinds = ["key"] if any(k in line for k in _KEYISH) else []
    if "@" in line:
        kinds.append("email")
    if digits >= 2:
        kinds.append("iban")
    if digits >= 13:
        kinds.append("card")
    if digits >= 8:
        kinds.append("phone")
    return kinds


def find_pii(line: str, known: list[str]) -> list[tuple[int, int, str]]:
    """Every (start, end, kind) of PII or a secret in ``line``; ``known`` from :func:`known_needles`.
    Spans may overlap; the caller decides which to report."""
    hits: list[tuple[int, int, str]] = []
    if not _PLAIN.fullmatch(line) or any(k in line for k in _KEYISH):  # an id or an enum: no pattern can match
        norm = _ascii_digits(line)
        for kind in _possible(norm):
            hits += [(m.start(), m.end(), kind) for m in PATTERNS[kind].finditer(norm) if _real(kind, m.group(0))]
    if known:
        whole, _, _ = _known_regex(tuple(known))
        if whole is not None:
            hits += [(m.start(), m.end(), known_kind(m.group(0))) for m in whole.finditer(line)]
    return hits
