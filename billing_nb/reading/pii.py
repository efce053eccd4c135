"""PII and secrets in free text: the one detector behind both masking and the scanner.

Kinds: ``email`` (any RFC 5322 local part: apostrophes, plus signs, unicode; internationalised
domains), ``phone`` (``+44 20 7946 0958``, ``0044 20 7946 0958``, ``(415) 555-0142``, ``415-555-0142``,
``1-800-555-0199``, ``4155552671``, and national numbers after a trunk 0: ``090-1234-5678``,
``020 7946 0958``, ``06 12 34 56 78``, ``030/1234567``), ``iban`` (ISO 13616, mod-97 checksum, either
case), ``card`` (13-19 digits, Luhn, any of space/dash/dot between groups), ``ssn`` (labelled, or in
the NNN-NN-NNNN shape), ``cvc`` (a security code beside its label), ``key`` (``sk_``/``rk_``/``pk_``/
``ek_`` ``test``/``live`` keys, ``whsec_``, PaymentIntent/SetupIntent client secrets), ``link`` (Stripe's capability URLs:
hosted invoices, invoice PDFs, receipts, portal and checkout sessions), and the
customer's own values (``name``/``address``/``email``/``phone``) given as ``known``. Text is read
through what hides a value from a reader-blind pattern: zero-width characters, markdown escapes
(``gmail\\.com``) and HTML character references (``&#64;``). Stripe object ids, unix timestamps and amounts never match: every
pattern is anchored so digits inside an id or a plain integer cannot (by ASCII word characters
only: CJK text glues a number to its words). Stripe's own addresses
(``support@stripe.com`` in an error message) are not a person's PII.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Callable, Iterable
from functools import lru_cache

from .names import NO_WORDS, Vocabulary, merge, name_spans, ordinary_word, vocabulary

__all__ = ["PATTERNS", "NO_WORDS", "Vocabulary", "find_pii", "known_needles", "known_kind", "mask_email",
           "mask_name", "mask_phone", "mask_text", "is_iban", "merge", "ordinary_word", "vocabulary"]

#: A pattern's edges refuse an ASCII word character (digits inside an id, a longer number),
#: not any letter: Japanese, Chinese and Korean text glue a number to the words around it
#: (``電話は090-1234-5678です``), and ``\w`` counts those letters as word characters.
_W = "A-Za-z0-9_"
#: A domain label's letters: ASCII and the Latin, Greek and Cyrillic letters of an internationalised
#: domain (``müller-bäcker.de``), not CJK (text glued after an address is not its domain).
_DL = "A-Za-z0-9\u00C0-\u024F\u0370-\u03FF\u0400-\u04FF"
_DOMAIN = rf"[{_DL}-]+(?:\.[{_DL}-]+)*\.(?:[A-Za-z]{{2,}}|xn--[A-Za-z0-9-]+|[\u00C0-\u04FF]{{2,}})(?![{_DL}-])"
#: An ``@`` or a ``.`` written out to fool a harvester: ``jane (at) example (dot) com``,
#: ``jane[at]example[dot]com``, ``{at}``, ``<dot>``. Bare words (``jane at example dot com``) are
#: left alone: "look at this dot com" is English. Every repetition is bounded (linear time).
_AT = r"[ \t]{0,3}[\[({<][ \t]{0,3}(?i:at|@)[ \t]{0,3}[\])}>][ \t]{0,3}"
_DOT = r"[ \t]{0,3}[\[({<][ \t]{0,3}(?i:dot|\.)[ \t]{0,3}[\])}>][ \t]{0,3}"
_OBFUSCATED_AT = re.compile(_AT)
_OBFUSCATED_DOT = re.compile(_DOT)
_EMAIL = re.compile(
    rf"(?<![{_W}.%+'-])[\w.%+'-]+@{_DOMAIN}"
    rf'|(?<![{_W}"])"(?:[^"\\\r\n]|\\.){{1,64}}"@{_DOMAIN}'  # a quoted local part: "jane doe"@example.com
    rf"|(?<![{_W}.%+'-])[\w.%+'-]{{1,64}}(?:{_AT}|@)[{_DL}-]{{1,63}}(?:(?:\.|{_DOT})[{_DL}-]{{1,63}}){{0,8}}?"
    rf"(?:\.|{_DOT})[A-Za-z]{{2,24}}(?![{_DL}-])")
#: API keys (secret, restricted, publishable, ephemeral; an organisation's too), webhook secrets,
#: and the client secrets of PaymentIntents and SetupIntents (``pi_..._secret_...``: Stripe says
#: never to store or log one).
_KEY_PREFIX = r"(?:(?:sk|rk|pk|ek)_(?:org_)?(?:test|live)_|whsec_|(?:pi|seti|src)_[A-Za-z0-9]+_secret_)"
_KEY = re.compile(rf"(?<![A-Za-z0-9])(?:{_KEY_PREFIX}[A-Za-z0-9_]{{8,}}|(?:pi|seti|src)_[A-Za-z0-9]+_secret_[A-Za-z0-9]{{4,}})")
_PHONE = re.compile(
    rf"(?<![{_W}+])(?:\(\+[1-9]\d{{0,2}}\)|(?:\+|00)[1-9]\d{{0,2}})(?:[ .-]?\(?\d{{1,4}}\)?){{2,5}}(?![{_W}])"  # +44 20 7946 0958, (+44) 20 ..., 0044 20 ..., +14155550142
    rf"|(?<![{_W}(])\(\d{{3}}\)[ .-]?\d{{3}}[ .-]\d{{4}}(?![{_W}])"  # (415) 555-0142
    rf"|(?<![{_W}.+-])\d{{3}}([.-])\d{{3}}\1\d{{4}}(?![{_W}-])"  # 415-555-0142, 415.555.0142
    rf"|(?<![{_W}.+-])1([ .-])[2-9]\d{{2}}\2\d{{3}}\2\d{{4}}(?![{_W}-])"  # 1-415-555-0132, 1-800-555-0199 (NANP trunk 1)
    rf"|(?<![{_W}.+-])1[ .-]?\([2-9]\d{{2}}\)[ .-]?\d{{3}}[ .-]\d{{4}}(?![{_W}-])"  # 1 (415) 555-0177
    rf"|(?<![{_W}.+-])[2-9]\d{{2}} \d{{3}} \d{{4}}(?![{_W}-])"  # 415 555 0142
    rf"|(?<![{_W}.+-])[2-9]\d{{2}}[2-9]\d{{6}}(?![{_W}.-])"  # 4155552671 (NANP: never a unix time, which starts with 1)
    # national numbers after a trunk 0, one separator throughout (9+ digits: _real): 090-1234-5678,
    # 03-1234-5678, 020 7946 0958, 06 12 34 56 78, 030 12345678, 0412 345 678, 09012345678
    rf"|(?<![{_W}.,+/:-])0[1-9]\d{{0,3}}([ .-])\d{{2,8}}(?:\3\d{{2,4}}){{0,4}}(?![{_W}/:-]|[.,]\d)"
    rf"|(?<![{_W}.,+/:-])0[1-9]\d{{1,4}}/\d{{3,8}}(?:[ -]\d{{2,4}})?(?![{_W}/:-]|[.,]\d)"  # German 030/1234567
    rf"|(?<![{_W}(])\(0[1-9]\d{{0,3}}\)[ ]?\d{{2,8}}(?:[ .-]\d{{2,4}}){{0,3}}(?![{_W}/:-]|[.,]\d)"  # (03) 1234-5678
    rf"|(?<![{_W}.,+/:-])0[1-9]\d{{8,9}}(?![{_W}.,/:-])"
)
#: Between a card's groups: a space, dot, dash, underscore, slash or ``x`` (``4242_4242_...``,
#: ``4242x4242x...``), or nothing.
_CS = r"[ ._/xX-]"
#: A card number may touch letters and punctuation (``card4242...``, ``num:4242...abc``,
#: ``4242...-exp-12/29``), never another digit, a decimal point (``0.4242...``: a float) or a
#: separator and a digit (the number goes on: another group, a range, a phone). Digits inside a
#: Stripe id, a hex digest, a UUID or a date-time stamp are ruled out by :func:`_card_context`.
_CARD_FORMS = (
    r"\d{13,19}(?![0-9]|[.,]\d)",  # contiguous
    rf"\d{{4}}(?:{_CS}?\d{{4}}){{2}}{_CS}?\d{{1,4}}(?:{_CS}?\d{{1,3}})?(?![0-9]|{_CS}\d|,\d)",  # 4-4-4-4(-3): 5555-5555 5555-4444
    rf"\d{{4}}{_CS}\d{{6}}{_CS}\d{{4,5}}(?![0-9]|{_CS}\d|,\d)",  # amex 4-6-5, diners 4-6-4
)
_CARD_START = r"(?<![0-9+])(?<![0-9][.,_/xX-])(?:(?<!\.)|(?<=[A-Za-z]\.))"
_CARD = re.compile(rf"{_CARD_START}(?:{'|'.join(_CARD_FORMS)})")
#: The same forms, groups first: ``4242424242424242 5 seats`` is a card and a count, ``0000 0000 0000
#: 0012 5`` a 17-digit card; which reading is the card only the Luhn check tells (:func:`_matches`).
_CARD_GROUPS_FIRST = re.compile(rf"{_CARD_START}(?:{'|'.join(_CARD_FORMS[1:] + _CARD_FORMS[:1])})")
#: Card numbers written back to back in groups of four (``4242 4242 4242 4242 4242 4242 4242 4242``,
#: two cards pasted in one line): the run goes on past each card, so no single form matches it;
#: each 16-digit window of it from the left is read on its own (:func:`_chained_cards`).
_CARD_CHAIN = re.compile(rf"{_CARD_START}\d{{4}}(?:{_CS}\d{{4}}){{7,}}")
_IBAN = re.compile(rf"(?<![{_W}])(?:[A-Z]{{2}}\d{{2}}(?: ?[A-Z0-9]){{11,30}}|[a-z]{{2}}\d{{2}}(?:[a-z0-9]{{11,30}}|(?: [a-z0-9]{{4}}){{2,7}}(?: [a-z0-9]{{1,3}})?))(?![{_W}])")
#: A US social security number: labelled (``SSN``, ``social security``) in any grouping, or in its
#: own NNN-NN-NNNN shape with the SSA's never-issued areas, groups and serials left out.
_SSN = re.compile(
    r"(?i:\b(?:ssn|social security(?: number| no\.?| #)?)\s{0,3}(?:is|:|#|=)?\s{0,3})\d{3}[ -]?\d{2}[ -]?\d{4}(?!\d)"
    rf"|(?<![{_W}.+/-])(?!000|666|9\d\d)\d{{3}}-(?!00)\d{{2}}-(?!0000)\d{{4}}(?![{_W}-]|\.\d)")
#: Stripe's capability links: whoever holds one sees the invoice or receipt, or acts as the
#: customer (hosted invoice pages and PDFs, receipts, portal and checkout sessions).
_LINK = re.compile(r"https?://(?:invoice\.stripe\.com/i/|pay\.stripe\.com/(?:invoice|receipts)/"
                   r"|billing\.stripe\.com/p/(?:session|login)/|checkout\.stripe\.com/c/pay/)[^\s\"'<>)\]]+")
_CVC_LABEL = re.compile(r"(?i)cvc|cvv|csc|security code")
#: A card's security code beside its label: ``cvc 123``, ``CVV: 1234``, ``security code 123``.
_CVC = re.compile(r"(?i:\b(?:cvc2?|cvv2?|csc|security code)\s{0,3}(?:is|:|#|=)?\s{0,3})\d{3,4}(?!\d)")
#: Ids and enums (``cus_Nf3...``, ``subscription_cycle``): a lowercase letter first, then only
#: letters, digits and ``_``. Every pattern's lookbehind refuses an ASCII word character before it and
#: none starts with a lowercase letter, so only a key prefix inside can match: _KEYISH.
_PLAIN = re.compile(r"[a-z][A-Za-z0-9_]*")
_KEYISH = ("sk_", "rk_", "pk_", "ek_", "whsec_", "_secret_")
#: What PII a _PLAIN string can still be: a lowercase IBAN (``de89370400440532013000``), a code
#: glued to its label (``ssn123456789``, ``cvc123``), a card glued to a word (``card4242...``,
#: ``num_4242_4242_...``: :func:`_card_context` tells it from digits inside an id).
_PLAIN_PII = re.compile(r"^[a-z]{2}\d{2}[a-z0-9]{11,30}$|(?i:ssn|cvc|cvv|csc)\d|(?:\d[_xX]?){13}")
#: Street addresses in the languages of the lexicon (analysis.lexicon: English, Spanish, German,
#: French; and Italian, Dutch, Japanese), and postcodes where something says they are one. Every
#: repetition is bounded, so the pattern is linear. Counts stay clear: a house number needs a
#: street *name* before its street word ("5 seats", "3 Road trips", "12 users on the main road").
_U = "A-ZÀ-ÖØ-ÞÄÖÜ"  # a capital, Latin
_L = "a-zß-öø-ÿ"  # a small letter, Latin
_CAP = rf"[{_U}][{_L}'’]{{1,30}}(?:-[{_U}][{_L}'’]{{1,30}})?"  # Baker, Champs-Élysées, O'Connell
_EN_WORD = (rf"(?!(?:on|the|in|of|a|an|to|for|and|or|at|per|with|by|from|my|our|your|their|more|new|other|extra|"
            rf"free|paid|different|same|few|many|users?|seats?|licen[cs]es?|times?|days?|weeks?|months?|years?|"
            rf"members?|people|accounts?|plans?|items?)\b)(?:\d{{1,3}}(?:st|nd|rd|th)|[A-Za-zÀ-ÿ][{_L}A-Z'’.-]{{1,30}})")
#: English street words, after the name ("221B Baker Street"); those that are ordinary words too
#: ("way", "close", "drive"...) only capitalised.
_EN_STREET = (r"(?:(?i:street|st|avenue|ave|av|road|rd|lane|ln|boulevard|blvd|terrace|crescent|parkway|pkwy|highway|"
              r"hwy|mews|cres|sq)\.?|Way|Close|Drive|Dr\.?|Court|Ct\.?|Place|Pl\.?|Square|Row|Hill|Circle|Trail|Grove|"
              r"Gardens|Walk|Loop|Alley|Rise)")
#: Romance street words before the name ("12 rue de la Paix", "Calle Mayor 5", "Via Roma 10").
_FR_STREET = r"(?i:rue|avenue|av\.|bd|boulevard|place|chemin|allée|allee|impasse|quai|cours|route|passage)"
_ES_STREET = r"(?:(?i:calle|c/|avenida|avda\.?|paseo|plaza|pza\.|carrera|camino|ronda|rua|viale|piazza|corso)|Via)"
_PARTICLES = r"(?:(?i:de|la|le|les|du|des|del|di|della|y|d')[ \t]{1,2}){0,3}"
#: German and Dutch streets are one word ending in the street word ("Hauptstraße 5", "Keizersgracht
#: 123"), or a name and the word ("Berliner Straße 12").
_DE_STREET = (r"(?i:stra(?:ß|ss)e|str\.|weg|allee|gasse|platz|damm|ufer|chaussee|steig|pfad|straat|laan|gracht|plein|"
              r"kade|singel)")
_HOUSE = r"\d{1,5}(?:[ \t]?[A-Za-z](?![A-Za-z]))?(?:[-/]\d{1,4})?"
_US_STATES = ("AL AK AZ AR CA CO CT DE DC FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH NJ NM NY NC "
              "ND OH OK OR PA PR RI SC SD TN TX UT VT VA WA WV WI WY").split()
#: A city after a postcode; not a counted thing ("10000 Users", "50000 Credits").
_CITY = (r"(?!(?i:users?|seats?|licen[cs]es?|members?|credits?|calls?|requests?|emails?|messages?|items?|units?|"
         r"accounts?|customers?|invoices?|records?|rows?|events?|tokens?|points?|euros?|dollars?|API)\b)"
         rf"{_CAP}(?:[ \t-](?:(?:am|an|der|sur|en|le|la|de)[ \t-])?{_CAP}){{0,2}}")
_ADDRESS = re.compile(
    rf"(?<![\w.,/-]){_HOUSE},?[ \t]{{1,3}}(?:{_EN_WORD}[ \t]{{1,3}}){{1,4}}{_EN_STREET}(?![\w])"  # 221B Baker Street
    rf"|(?<![\w.,/-]){_HOUSE}(?:[ \t]?(?i:bis|ter))?,?[ \t]{{1,3}}{_FR_STREET}[ \t]{{1,3}}{_PARTICLES}"
    rf"(?:{_CAP}(?:[ \t]{{1,2}}{_CAP}){{0,3}}|[{_L}][{_L}'’-]{{1,30}})(?![\w])"  # 12 rue de la Paix
    rf"|(?<![\w]){_ES_STREET}[ \t]{{0,2}}{_PARTICLES}{_CAP}(?:[ \t]{{1,2}}{_PARTICLES}{_CAP}){{0,3}},?[ \t]{{0,2}}"
    rf"(?:(?i:n[º°o]\.?)[ \t]?)?\d{{1,5}}[A-Za-z]?(?![\w])"  # Calle Mayor 5, Via Roma 10
    rf"|(?<![\w])[{_U}{_L}][{_L}]{{1,30}}{_DE_STREET}[ \t]{{0,2}}\d{{1,4}}[a-z]?(?![\w])"  # Hauptstraße 5
    rf"|(?<![\w]){_CAP}[ \t-](?:Stra(?:ß|ss)e|Str\.|Weg|Allee|Gasse|Platz|Ring|Damm|Ufer)[ \t]{{1,2}}\d{{1,4}}[a-z]?(?![\w])"
    # postcodes: UK (with its space), a US state and ZIP(+4), NL 1234 AB and a city, JP 〒
    r"|(?<![A-Za-z0-9])(?:[A-Z]{1,2}\d[A-Z\d]?|GIR) \d[ABD-HJLNP-UW-Z]{2}(?![A-Za-z0-9])"
    rf"|(?<![A-Za-z])(?:{'|'.join(_US_STATES)}),?[ \t]{{1,2}}\d{{5}}(?:-\d{{4}})?(?![\w-])"
    rf"|(?<![\w])[1-9]\d{{3}}[ \t]?(?!SA|SD|SS|KB|MB|GB|TB|PB|AM|PM|EU|US|UK)[A-Z]{{2}}[ \t]{{1,2}}{_CITY}(?![\w])"
    r"|〒[ \t]?\d{3}-?\d{4}(?!\d)|(?<!\d)\d{3}-\d{4}[ \t]?(?=東京都|北海道|京都府|大阪府|[\u4e00-\u9fff]{2,3}県)"
    # DE/FR five digits and a city, where something says it is a postcode: a country prefix, an
    # address's comma or line, a preposition (in, à, nach, en), a label (PLZ, CP, code postal)
    rf"|(?:(?<![\w-])(?:D|F|DE|FR)-|(?<=,)[ \t]?|(?<![^\n])|(?<=\bin )|(?<=\bà )|(?<=\bnach )|(?<=\ben )|(?<=\bPLZ )"
    rf"|(?<=\bCP )|(?<=postal )|(?<=PLZ: ))\d{{5}}[ \t]{{1,2}}{_CITY}(?![\w])")
#: An EU VAT id (and the UK's, Norway's, Switzerland's): the country prefix and that country's
#: digits, spaces or dots allowed between them (``DE 123 456 789``).
_VAT_BODIES = {
    "AT": "U#8", "BE": "[01]#9", "BG": "#9,10", "CY": "#8[A-Z]", "CZ": "#8,10", "DE": "#9", "DK": "#8", "EE": "#9",
    "EL": "#9", "ES": "[A-Z0-9]#7[A-Z0-9]", "FI": "#8", "FR": "[A-HJ-NP-Z0-9]{2}#9", "HR": "#11", "HU": "#8",
    "IE": "#7[A-W][A-I]?|[0-9][A-Z+*]#5[A-W]", "IT": "#11", "LT": "#9|#12", "LU": "#8", "LV": "#11", "MT": "#8",
    "NL": "#9[ .]?B[ .]?#2", "PL": "#10", "PT": "#9", "RO": "#6,10", "SE": "#12", "SI": "#8", "SK": "#10",
    "GB": "#12|#9|GD#3|HA#3", "XI": "#12|#9", "EU": "#9", "NO": "#9(?:[ ]?MVA)?", "CHE": "-?#9(?:[ ](?:MWST|TVA|IVA))?",
}


def _digits_rx(body: str) -> str:
    """``#n`` (``#n,m``) as n (to m) digits with a space or dot allowed between any two."""
    def one(m: re.Match[str]) -> str:
        lo, _, hi = m.group(1).partition(",")
        rest = f"{int(lo) - 1},{int(hi) - 1}" if hi else str(int(lo) - 1)
        return rf"\d(?:[ .]?\d){{{rest}}}"
    return re.sub(r"#(\d+(?:,\d+)?)", one, body)


_VAT = re.compile(r"(?<![A-Za-z0-9])(?:" + "|".join(
    rf"{cc}[ .-]?(?:{_digits_rx(body)})" for cc, body in _VAT_BODIES.items()) + r")(?![A-Za-z0-9]|[.-]\d)")
_MASKED_PHONE = re.compile(r"^(?:\*{3}-)+\d{2,4}$")
#: Addresses that belong to Stripe, not to a customer (quoted in Stripe's own error messages).
_NOT_PII_DOMAINS = ("stripe.com",)

PATTERNS: dict[str, re.Pattern[str]] = {"key": _KEY, "email": _EMAIL, "iban": _IBAN, "card": _CARD, "ssn": _SSN,
                                        "cvc": _CVC, "link": _LINK, "vat": _VAT, "phone": _PHONE, "address": _ADDRESS}


def _luhn(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


#: IBAN length by country (SWIFT's IBAN registry, ISO 13616). Without it the mod-97 check alone
#: passed one random token in 97 (a widget's 32-hex model id failed a batch case now and then).
IBAN_LENGTHS: dict[str, int] = dict(
    AD=24, AE=23, AL=28, AT=20, AZ=28, BA=20, BE=16, BG=22, BH=22, BI=27, BR=29, BY=28, CH=21, CR=22,
    CY=28, CZ=24, DE=22, DJ=27, DK=18, DO=28, EE=20, EG=29, ES=24, FI=18, FK=18, FO=18, FR=27, GB=22,
    GE=22, GI=23, GL=18, GR=27, GT=28, HR=21, HU=28, IE=22, IL=23, IQ=23, IS=26, IT=27, JO=30, KW=30,
    KZ=20, LB=28, LC=32, LI=21, LT=20, LU=20, LV=21, LY=25, MC=27, MD=24, ME=22, MK=19, MN=20, MR=27,
    MT=31, MU=30, NI=28, NL=18, NO=15, OM=23, PK=24, PL=28, PS=29, PT=25, QA=29, RO=24, RS=22, RU=33,
    SA=24, SC=31, SD=18, SE=24, SI=19, SK=24, SM=27, SO=23, ST=25, SV=28, TL=23, TN=24, TR=26, UA=29,
    VA=22, VG=24, XK=20, YE=30,
)


def is_iban(text: str) -> bool:
    """ISO 13616: a registered country at its length; the first four characters moved to the
    end, letters to 10..35, mod 97 == 1."""
    compact = text.replace(" ", "").upper()
    if IBAN_LENGTHS.get(compact[:2]) != len(compact):
        return False
    digits = "".join(str(int(ch, 36)) for ch in compact[4:] + compact[:4])
    return int(digits) % 97 == 1


def _card_digits(match: str) -> str | None:
    digits = re.sub(r"\D", "", match)
    if 13 <= len(digits) <= 19 and len(set(digits)) > 1 and _luhn(digits):
        return digits
    return None


#: What :func:`_card_context` reads a card's surroundings with: an id's prefix (``cus_``,
#: ``price_``), a UUID, a date-time stamp (``20261124-120000``, a case id's).
_ID_PREFIX = re.compile(r"(?:^|[^A-Za-z0-9_])[a-z]{2,}(?:_[a-z]+)*_$")
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_STAMP = re.compile(r"(?:19|20)\d\d(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])[-_T ](?:[01]\d|2[0-3])[0-5]\d(?:[0-5]\d)?")
_HEX = frozenset("0123456789abcdefABCDEF")
#: How far :func:`_card_context` reads the word around a card (a Stripe id, a sha256 are shorter).
_WORD_REACH = 96


def _card_context(text: str, start: int, end: int) -> bool:
    """Whether a Luhn-valid match at ``text[start:end]`` stands where a card number can: not in a
    Stripe id (a lowercase prefix and ``_``, then a body with letters: ``cus_N4242...ab``), a hex
    digest or key (``bnb-`` + 32 hex digits, a sha256), a UUID, or a date-time stamp. A card may
    touch letters (``card4242...``), so the word around it is what tells."""
    lo, hi = start, end
    # the word read at most _WORD_REACH either side: ids and digests are shorter, and an
    # unbounded reach made a long run of cards in one word (4242x4242x...) quadratic
    floor, ceiling = max(0, start - _WORD_REACH), min(len(text), end + _WORD_REACH)
    while lo > floor and text[lo - 1].isascii() and text[lo - 1].isalnum():
        lo -= 1
    while hi < ceiling and text[hi].isascii() and text[hi].isalnum():
        hi += 1
    word = text[lo:start] + text[end:hi]
    if text[start:end].isdigit():  # an id's body or a digest is one word: no separators in it
        if any(ch.isalpha() for ch in word) and _ID_PREFIX.search(text[max(0, lo - 40):lo]):
            return False  # inside an id's body
        if hi - lo >= 32 and word and set(text[lo:hi]) <= _HEX:
            return False  # a hex digest or key
    wide_lo, wide_hi = max(0, start - 36), min(len(text), end + 36)
    if any(m.start() <= start and end <= m.end() for m in _UUID.finditer(text, wide_lo, wide_hi)):
        return False
    return not _STAMP.fullmatch(text[start:end])


def _matches(kind: str, text: str) -> list[tuple[int, int, str]]:
    """(start, end, match) of every real match of ``kind``'s pattern in ``text``, in order and not
    overlapping; a card by either reading of its digits (:data:`_CARD_GROUPS_FIRST`), the longer
    kept where both are real."""
    found = [(m.start(), m.end(), m.group(0)) for m in PATTERNS[kind].finditer(text) if _real_at(kind, m)]
    if kind != "card":
        return found
    found += [(m.start(), m.end(), m.group(0)) for m in _CARD_GROUPS_FIRST.finditer(text) if _real_at(kind, m)]
    found += _chained_cards(text)
    kept: list[tuple[int, int, str]] = []
    for hit in sorted(set(found), key=lambda h: (h[0], h[0] - h[1])):
        if not kept or hit[0] >= kept[-1][1]:
            kept.append(hit)
    return kept


def _chained_cards(text: str) -> list[tuple[int, int, str]]:
    """The cards of a run of four-digit groups longer than one card (:data:`_CARD_CHAIN`): each
    window of four groups from the run's start that is a real card where it stands. Masking one
    card of such a run changes what its neighbour touches, so without this a second masking (or
    the scan of a masked record) found a card the first had left: masking must be done at once."""
    out: list[tuple[int, int, str]] = []
    for m in _CARD_CHAIN.finditer(text):
        groups = [(g.start(), g.end()) for g in re.finditer(r"\d{4}", m.group(0))]
        for at in range(0, len(groups) - 3, 4):
            start, end = m.start() + groups[at][0], m.start() + groups[at + 3][1]
            if _card_digits(text[start:end]) is not None and _card_context(text, start, end):
                out.append((start, end, text[start:end]))
    return out


def _real_at(kind: str, m: re.Match[str]) -> bool:
    """:func:`_real`, and for a card its surroundings too (:func:`_card_context`)."""
    if not _real(kind, m.group(0)):
        return False
    return kind != "card" or _card_context(m.string, m.start(), m.end())


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
        return not _plain_email(text).lower().rsplit("@", 1)[-1].endswith(_NOT_PII_DOMAINS)
    return True


def _plain_email(text: str) -> str:
    """An email as written to fool a harvester (``jane (at) example (dot) com``), or with a quoted
    local part (``"jane doe"@example.com``), as an address: ``jane@example.com``."""
    text = _OBFUSCATED_DOT.sub(".", _OBFUSCATED_AT.sub("@", text))
    local, at, domain = text.rpartition("@")
    return f"{local.strip(chr(34))}{at}{domain}" if at else text


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
        prefix = re.match(_KEY_PREFIX, text)
        return f"{prefix.group(0) if prefix else ''}***"
    if kind == "ssn":
        label = text[:next((i for i, ch in enumerate(text) if ch.isdigit()), 0)]  # "SSN: " kept
        return f"{label}***-**-{text[-4:]}"
    if kind == "link":
        return f"{text.split('/', 3)[2]}/***"
    if kind == "cvc":
        return f"{text.rstrip('0123456789')}***"
    if kind == "email":
        return mask_email(_plain_email(text)) or "***"
    if kind == "vat":
        return f"{text[:3] if text.startswith('CHE') else text[:2]}***"
    if kind == "address":
        return "***"
    if kind == "card":
        return f"****{(_card_digits(text) or '')[-4:]}"
    if kind == "iban":
        return f"{text[:2].upper()}** ****{text.replace(' ', '')[-4:]}"
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


@lru_cache(maxsize=64)
def _known_regex(needles: tuple[str, ...]) -> tuple[re.Pattern[str] | None, dict[str, str], tuple[str, ...]]:
    """One alternation of the known strings that are not names (case-insensitive), each one's
    mask, and the names (found by :func:`.names.name_spans`: whole, any order, a part where the
    text uses it as a name)."""
    masks: dict[str, str] = {}
    names: list[str] = []
    for k in needles:
        kind = known_kind(k)
        if kind == "name":
            names.append(k)
        else:
            masks[k.lower()] = {"email": mask_email(k), "phone": mask_phone(k)}.get(kind) or "***"
    others = [k for k in needles if k.lower() in masks]
    whole = re.compile("|".join(re.escape(k) for k in others), re.IGNORECASE) if others else None
    return whole, masks, tuple(names)


def mask_text(text: str, known: Iterable[str] | None = None, common: Vocabulary = NO_WORDS) -> str:
    """Mask every kind of :data:`PATTERNS` in free text, and each ``known`` string of the customer's
    wherever it appears (case-insensitively; a name where the text names the customer, by
    :mod:`.names`' rules with ``common``: whole, any order, a part on its own where it is used as
    a name, the catalogue's names kept readable). Text is read through what
    hides it (:func:`_view`: zero-width characters, markdown escapes, HTML entities)."""
    if not text:
        return text
    needles = tuple(known_needles(known or []))
    if not needles and _plain(text):
        return text  # an id or an enum: no pattern can match (see _PLAIN); most strings a sync masks
    if needles:
        whole, masks, names = _known_regex(needles)
        if whole is not None:
            text = _replace(text, lambda view: [(m.start(), m.end(), masks.get(m.group(0).lower(), "***"))
                                                for m in whole.finditer(view)])
        if names:
            text = _replace(text, lambda view: name_spans(view, names, common))
    # until nothing more is found: masking one kind can uncover another (a phone written right
    # after a card, ``4242 4242 4242 4242 4155552671``: the card reads as a longer number until
    # the phone is masked), and the scan of what was saved must find nothing masking left
    for _ in range(_MASK_PASSES):
        before = text
        for kind in _possible(_ascii_digits(_view(text)[0])):
            text = _replace(text, lambda view, k=kind: [(start, end, _masked(k, found))
                                                        for start, end, found in _matches(k, _ascii_digits(view))])
        if text == before:
            break
    return text


#: How many times :func:`mask_text` reads its own output again; each pass that changes something
#: removes a match, and in practice a second pass finds what the first uncovered.
_MASK_PASSES = 4


#: What hides PII from a pattern without changing what a reader sees: zero-width characters and
#: soft hyphens (``4242\u200b4242...``, ``john\u200b.doe@``), markdown's backslash escapes
#: (``john.doe@gmail\.com``, ``sk\_live\_...``), HTML character references (``john&#64;gmail.com``)
#: and URL encoding of a printable ASCII character (``jane%40example.com``, ``sk%5Ftest%5F...`` in
#: a saved link or query string).
_HIDDEN = re.compile(r"[\u00ad\u200b-\u200d\u2060\ufeff]|\\(?=[!-/:-@\[-`{-~])"
                     r"|&(?:#\d{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});|%[2-7][0-9A-Fa-f]")


def _view(text: str) -> tuple[str, list[int] | None, list[int] | None]:
    """``text`` as read (see :data:`_HIDDEN`), and for each of its characters where it starts and
    ends in ``text`` (None when nothing was hidden: the same offsets)."""
    if not _HIDDEN.search(text):
        return text, None, None
    out: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    pos = 0
    for m in _HIDDEN.finditer(text):
        out.append(text[pos:m.start()])
        starts.extend(range(pos, m.start()))
        ends.extend(range(pos + 1, m.start() + 1))
        token = m.group(0)
        if token.startswith(("&", "%")):
            char = chr(int(token[1:], 16)) if token.startswith("%") else html.unescape(token)
            char = char if char != "\x7f" else token
            if len(char) == 1 and char != token:
                out.append(char)
                starts.append(m.start())
                ends.append(m.end())
            else:
                out.append(token)
                starts.extend(range(m.start(), m.end()))
                ends.extend(range(m.start() + 1, m.end() + 1))
        pos = m.end()
    out.append(text[pos:])
    starts.extend(range(pos, len(text)))
    ends.extend(range(pos + 1, len(text) + 1))
    return "".join(out), starts, ends


def _replace(text: str, spans_of: Callable[[str], list[tuple[int, int, str]]]) -> str:
    """``text`` with each (start, end, mask) that ``spans_of`` finds in its :func:`_view` replaced
    (spans in order, not overlapping), mapped back to where they stand in ``text``."""
    view, starts, ends = _view(text)
    for start, end, mask in reversed(spans_of(view)):
        if starts is not None and ends is not None:
            start, end = starts[start], ends[end - 1]
        text = text[:start] + mask + text[end:]
    return text


def _plain(text: str) -> bool:
    """An id or an enum (see :data:`_PLAIN`), in which no pattern can match."""
    return bool(_PLAIN.fullmatch(text)) and not any(k in text for k in _KEYISH) and not _PLAIN_PII.search(text)


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
    if "@" in line or _OBFUSCATED_AT.search(line):
        kinds.append("email")
    if "stripe.com/" in line:
        kinds.append("link")
    if digits >= 2:
        kinds.append("iban")
    if digits >= 13:
        kinds.append("card")
    if digits >= 9:
        kinds.append("ssn")
    if digits >= 3 and _CVC_LABEL.search(line):
        kinds.append("cvc")
    if digits >= 6:
        kinds.append("vat")
    if digits >= 8:
        kinds.append("phone")
    if digits:
        kinds.append("address")
    return kinds


def find_pii(line: str, known: list[str], common: Vocabulary = NO_WORDS) -> list[tuple[int, int, str]]:
    """Every (start, end, kind) of PII or a secret in ``line``; ``known`` from :func:`known_needles`
    (a known name only where it stands whole, as :func:`.names.name_spans` reads it with ``common``).
    Spans may overlap; the caller decides which to report."""
    hits: list[tuple[int, int, str]] = []
    view, starts, ends = _view(line)
    if not _plain(view):  # an id or an enum: no pattern can match
        norm = _ascii_digits(view)
        for kind in _possible(norm):
            hits += [(start, end, kind) for start, end, _ in _matches(kind, norm)]
    if known:
        whole, _, names = _known_regex(tuple(known))
        if whole is not None:
            hits += [(m.start(), m.end(), known_kind(m.group(0))) for m in whole.finditer(view)]
        hits += [(s, e, "name") for s, e, _ in name_spans(view, names, common, parts=False)]
    if starts is not None and ends is not None:  # offsets in ``line``, not in its view
        hits = [(starts[s], ends[e - 1], kind) for s, e, kind in hits]
    return hits
