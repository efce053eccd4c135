"""What the complaint asks for, beside which bucket it is (pure).

The bucket says what went wrong; the plan also needs what the customer wants done about it:
which of two plans they switched to ("I switched to the annual plan"). Patterns run on
:func:`~.lexicon.normalise`\\ d text (lower case, accents stripped), in the lexicon's
languages where the phrase is common.
"""

from __future__ import annotations

import re

from .lexicon import normalise

__all__ = ["switched_to"]

_YEAR = r"(?:annual\w*|yearly|year|12[- ]month|anual\w*|jahres\w*|jahrlich\w*|annuel\w*)"
_MONTH = r"(?:monthly|month|mensual\w*|monat\w*|mensuel\w*)"
_TO = (r"\b(?:switch\w*|upgrad\w*|mov\w*|chang\w*|went|go(?:ne)?|convert\w*|cambi\w*|wechsel\w*|gewechselt|"
       r"umgestellt|pass\w*)(?: \w+){0,3}? (?:to|onto|for|a|al|zum|zur|auf|au|en|vers)"
       r" (?:the |an? |my |our |el |la |un |une |den |das |die |le |l')?(?:(?:pro|plus|premium|new|nuevo|neue\w*) )?"
       r"(?:(?:plan|abo|abonnement|formule|billing) )?")
_SWITCH = re.compile(_TO + f"({_YEAR}|{_MONTH})\\b")
_KEEP = re.compile(r"\b(?:keep|want|prefer|stay on|quiero|behalten|garder)(?: \w+){0,2}? (?:the |my |el |la |le )?"
                   f"({_YEAR}|{_MONTH})\\b")


def switched_to(text: str) -> str | None:
    """The billing interval the customer says they moved to or want to keep: ``"year"``,
    ``"month"``, or None when the complaint names neither."""
    norm = normalise(text)
    m = _SWITCH.search(norm) or _KEEP.search(norm)
    if m is None:
        return None
    return "year" if re.fullmatch(_YEAR, m.group(1)) else "month"
