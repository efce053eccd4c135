"""What the complaint asks for, beside which bucket it is (pure).

The bucket says what went wrong; the plan also needs what the customer wants done about it:
which of two plans they switched to ("I switched to the annual plan"), which portal task they
could not do ("where do I download my invoices": the portal home, not the cancel flow),
whether they refuse a cancel ("please don't cancel my account"), what share of the money they
ask back ("refund half"), how many seats they use. Patterns run on
:func:`~.lexicon.normalise`\\ d text (lower case, accents stripped), in the lexicon's
languages where the phrase is common.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction

from .lexicon import VOCABULARY, normalise

__all__ = ["PortalAsk", "asked_share", "asks_to_cancel", "keeps_subscription", "portal_ask", "product_not_held", "seats_used",
           "switched_to"]

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


# --- the portal task, and "don't cancel" ------------------------------------------------------
#: The customer says not to cancel. Only a wish or an order counts: "I could not cancel" and
#: "no puedo cancelar" ask for the cancel they could not find, "don't cancel" refuses it.
_CANCEL_WORD = (r"(?:cancel\w*|cancle|unsubscrib\w*|terminat\w*|end (?:my|our|the) (?:subscription|plan|account)|"
                r"close (?:my|our) account)")
_KEEP_PLAN = re.compile("|".join((
    rf"\b(?:don'?t|dont|do not|please do not)\s+(?:ever\s+)?{_CANCEL_WORD}",
    rf"\b(?:don'?t|dont|do not|doesn'?t|does not|not|no|never)\s+(?:really\s+)?(?:want|wish|need|mean|intend|plan|"
    rf"try|look|go|ask)\w*\s+(?:to\s+|you to\s+|for you to\s+)?(?:\w+\s+)?{_CANCEL_WORD}",
    rf"\b(?:not to|rather not|without)\s+(?:\w+\s+)?{_CANCEL_WORD}",
    r"\b(?:(?:i|we) (?:want|would like|'d like|wish) to|please|let (?:me|us)) (?:keep|stay on) (?:using )?"
    r"(?:my|our|the) (?:\w+ )?(?:plan|subscription|account)\b",
    # Spanish: "no quiero cancelar", "no cancelen", "sin cancelar" ("no puedo cancelar" asks for it)
    r"\bno (?:quiero|deseo|necesito|pienso|voy a|queremos)\s+(?:\w+\s+)?(?:cancelar\w*|dar\w* de baja|anular\w*)",
    r"\bno (?:cancele\w*|cancelen|anule\w*|den de baja)\b|\bsin cancelar\b",
    # German: "ich möchte nicht kündigen", "bitte nicht kündigen", "keine Kündigung" ("kann nicht")
    r"\b(?:will|mochte\w*|wollen|bitte)\b(?:\s+\w+){0,3}?\s+nicht\s+(?:\w+\s+)?(?:kundig\w*|stornier\w*)",
    r"\bkeine kundigung\b|\bohne (?:zu )?kundig\w*",
    # French: "je ne veux pas annuler", "n'annulez pas", "sans annuler" ("je ne peux pas" asks for it)
    r"\bne (?:veux|souhaite|voudrais|desire|voulons)\w* pas (?:\w+ )?(?:annuler|resilier)",
    r"\bn'annulez pas|\bne (?:l')?(?:annulez|resiliez) pas|\bne pas (?:l')?(?:annuler|resilier)|\bsans (?:l')?annuler",
    # Japanese: 解約しないで, 解約したくない, キャンセルするつもりはありません (解約できない asks for it)
    r"(?:解約|キャンセル|退会)(?:は|を)?(?:しないで|したくな|したくありませ|するつもりはな|するつもりはありませ|しません|しない)",
)))
#: The customer says they keep the service, whatever the words ("I still want to use it", "I'm not
#: leaving", "I want to continue", "I don't want to lose access"): no cancel follows from such a
#: complaint. A stay phrase with a refusal just before it in its clause ("I don't want to keep using
#: it", "there's no way I'm staying") says the opposite and is no keep.
_LEAVE = r"(?:leav\w*|quit\w*|churn\w*|go (?:anywhere|elsewhere)|switch\w* (?:to )?(?:a )?(?:competitor|someone else))"
_SERVICE = (r"(?:plan|subscription|account|service|membership|access|product|app|tool|it|this|you|you guys|us|"
            r"the (?:app|tool|product|service|software|platform)|my (?:\w+ )?(?:plan|subscription|account|data)|"
            r"our (?:\w+ )?(?:plan|subscription|account|data))")
_STAY = re.compile("|".join((
    # keep / continue / carry on using it
    r"\b(?:keep|continue|carry on|go on)\s+(?:to\s+)?(?:us(?:e|ing)|subscrib\w*|pay\w*(?: for)?|with (?:you|us|the (?:app|service|plan|subscription|product)))\b",
    r"\b(?:still|really|definitely|do|genuinely)\s+(?:want|wish|need|plan|intend|like|love|mean)\w*\s+to\s+"
    r"(?:keep\s+|continue\s+)?(?:us(?:e|ing)|have|stay|be a customer|subscrib\w*)\b",
    r"\b(?:still|happily|happy to keep|happy)\s+(?:us(?:e|ing)|paying for)\b",
    r"\b(?:want|wish|like|prefer|intend|plan|hope)\w*\s+to\s+(?:continue|carry on|stay|remain|keep going|"
    r"keep (?:it|this|using|paying|going|access|(?:my|our|the) (?:\w+ )?(?:plan|subscription|account|membership|service|access)))\b",
    r"\bkeep (?:my|our|the) (?:\w+ )?(?:plan|subscription|account|membership|service|access)\b",
    r"\b(?:i|we)(?:'m| am|'re| are) (?:staying|remaining|sticking with|keeping (?:it|my|our|the))\b",
    r"\b(?:i|we)(?:'ll| will| shall|'d like to| would like to)\s+(?:stay|remain|keep (?:it|using))\b",
    r"\b(?:stay|remain)\s+(?:subscribed|a customer|a subscriber|with you|on board|on the (?:\w+ )?plan)\b",
    r"\b(?:i|we)(?:'m| am|'re| are) not (?:leaving|quitting|going anywhere|churning|going to (?:leave|quit|cancel\w*)|"
    r"gonna (?:leave|quit|cancel\w*)|cancel+ing|unsubscribing|asking (?:you )?to cancel\w*)\b",
    r"\b(?:i|we) (?:won'?t|will not|will never|would never|do not|don'?t) (?:be )?(?:leav\w*|quit\w*|cancel\w*|"
    r"unsubscrib\w*)\b",
    r"\b(?:don'?t|do not|never|not)\s+(?:want|wish|mean|plan|intend)\w*\s+to\s+(?:leave|quit|lose|stop using|"
    r"give up)\b",
    r"\b(?:don'?t|do not|never)\s+(?:(?:want|wish)\s+to\s+|let\s+(?:me|us)\s+)?lose\s+(?:my |our |the )?(?:access|account|subscription|plan|"
    r"data|service)\b",
    r"\bno (?:intention|plan|plans|desire) (?:of|to) (?:leav\w*|quit\w*|cancel\w*|stop\w*)\b",
    rf"\b(?:rather not|not planning to|not looking to|no reason to)\s+{_LEAVE}",
    # Spanish: "quiero seguir usándolo", "me quedo", "no me voy", "no quiero perder el acceso"
    r"\b(?:quiero|queremos|deseo|deseamos|prefiero|voy a|vamos a)\s+(?:seguir|continuar|mantener|conservar|quedarme|"
    r"quedarnos)\b",
    r"\b(?:sigo|seguimos|seguire) (?:usando|con|utilizando)\b|\bme quedo\b|\bnos quedamos\b|"
    r"\bno me voy\b|\bno nos vamos\b",
    r"\bno (?:quiero|queremos|deseo) perder (?:el |mi |la |mis )?(?:acceso|cuenta|suscripcion|plan|datos)\b",
    # German: "ich will es weiter nutzen", "ich bleibe", "ich möchte den Zugang nicht verlieren"
    r"\b(?:will|mochte\w*|wollen|werde|werden)\b(?:\s+(?!nicht\b|kein)\w+){0,3}?\s+weiter(?:hin)?\s+(?:\w+\s+)?"
    r"(?:nutzen|benutzen|verwenden|zahlen|bezahlen)\b",
    r"\b(?:ich bleibe|wir bleiben|bleibe (?:ich )?kunde|bleiben (?:wir )?kunde)\b",
    r"\b(?:will|mochte\w*|wollen)\b(?:\s+(?!nicht\b|kein)\w+){0,3}?\s+(?:behalten|bleiben)\b",
    r"\b(?:zugang|zugriff|konto|abo)\w* (?:\w+ )?nicht verlieren\b",
    r"\bich gehe nicht\b|\bich kundige nicht\b",
    # French: "je veux continuer à l'utiliser", "je reste", "je ne pars pas", "ne pas perdre l'accès"
    r"\b(?:je veux|je voudrais|je souhaite|nous voulons|nous souhaitons|je compte|j'aimerais)\s+"
    r"(?:continuer|rester|garder|conserver)\b",
    r"\b(?:je reste|nous restons|on reste)\b|\bje ne (?:pars|quitte|resilie|m'en vais) pas\b",
    r"\bne (?:veux|voulons|souhaite)\w* pas perdre\b|\bne pas perdre (?:l'|mon |mes |notre )?acces\b",
    # Japanese: 使い続けたい, 継続したい, 続けたい, 辞めません, 解約するつもりはない (in _KEEP_PLAN)
    r"(?:使い続け|利用し続け|継続し|続け)(?:たい|ます|るつもり)|(?:辞め|やめ)(?:ません|たくな|るつもりはな)",
)))
#: a refusal of the stay phrase in its own clause ("i don't want to keep using it", "no way i'm staying")
_NOT_STAYING = re.compile(r"(?:\b(?:don'?t|do not|doesn'?t|does not|not|no|never|no longer|won'?t|can'?t|cannot|"
                          r"couldn'?t|wouldn'?t|why would|nicht|kein\w*|ne|pas|nunca)\b|n't)\W*(?:\w+\W+){0,2}$")
_GOES_ON_TO_CANCEL = re.compile(r"\s*(?:with\s+|to\s+)?(?:the\s+|my\s+|our\s+)?(?:cancel\w*|unsubscrib\w*|terminat\w*|"
                                r"leav\w*|quit\w*|refund process)")
_CLAUSE_END = re.compile(r"[.,;:!?]|\b(?:but|and|so|yet|though|although|however|pero|aber|mais)\b")


def _stays(norm: str) -> list[re.Match[str]]:
    """The stay phrases of ``norm`` not refused in their own clause."""
    out = []
    for m in _STAY.finditer(norm):
        before = norm[max(0, m.start() - 40):m.start()]
        cut = [c.end() for c in _CLAUSE_END.finditer(before)]
        clause = before[cut[-1]:] if cut else before
        own_negation = m.group(0).startswith(("i'm not", "we're not", "i am not", "we are not", "i won", "we won",
                                              "i will not", "we will not", "i do not", "i don", "we do not", "we don",
                                              "don", "do not", "never", "not", "no ", "rather", "ne ", "je ne"))
        if not own_negation and _NOT_STAYING.search(clause):
            continue
        if _GOES_ON_TO_CANCEL.match(norm, m.end()):  # "I want to continue with the cancellation"
            continue
        out.append(m)
    return out


_CANCEL = re.compile(rf"\b(?:{_CANCEL_WORD}|cancelar\w*|dar\w* de baja|kundig\w*|abbestell\w*|annul\w*|resili\w*|"
                     r"desabonn\w*|desinscri\w*)|解約|キャンセル|退会")
_PM_NOUN = (r"(?:credit card|debit card|(?:my|our|the|a|new|other) card|card (?:details|number|info\w*)|"
            r"payment (?:method|details|info\w*|card)|billing card|tarjeta|metodo de pago|forma de pago|"
            r"zahlungs(?:methode|mittel|art|daten)|kreditkarte|karte|carte(?: bancaire| de credit)?|"
            r"moyen de paiement|mode de paiement)")
_PM_VERB = (r"(?:updat\w*|chang\w*|replac\w*|add\w*|remov\w*|edit\w*|switch\w*|swap\w*|actualiz\w*|cambi\w*|"
            r"anadi\w*|agreg\w*|aktualisier\w*|ander\w*|wechsel\w*|hinterleg\w*|mettre a jour|modifi\w*|ajout\w*|"
            r"remplac\w*)")
_PAYMENT = re.compile(rf"\b{_PM_VERB}(?:\s+[^\s.,;!?]+){{0,3}}?\s+{_PM_NOUN}\b|"
                      rf"\b{_PM_NOUN}\s+(?:(?:has|have|had|needs?|must|is|was)\s+(?:to\s+)?(?:be\s+)?)?"
                      r"(?:expir\w*|updat\w*|chang\w*|replac\w*)\b|\bexpired card\b|"
                      # German puts the verb last: "meine Kreditkarte ändern"
                      rf"\b{_PM_NOUN}(?:\s+[^\s.,;!?]+){{0,2}}?\s+(?:ander\w*|aktualisier\w*|wechsel\w*|hinterleg\w*|"
                      r"austausch\w*)\b|"
                      r"(?:カード|支払い方法|決済方法)(?:情報)?(?:の|を)?(?:変更|更新|登録|追加|差し替え)")
_PLAN = re.compile(r"\b(?:downgrad\w*|upgrad\w*|(?:change|switch)\w* (?:my |our |the |to (?:a |the )?)?(?:plan|tier|"
                   r"subscription|seats?|seat count|number of seats|cheaper|smaller|lower|bigger)\w*|"
                   r"(?:add|remove|reduce|lower) (?:\w+ )?(?:seats|users|licen[cs]es)|cambiar (?:de |el |mi )?plan|"
                   r"bajar de plan|(?:plan|abo|tarif) (?:wechseln|andern|downgraden)|tarif wechseln|"
                   r"changer (?:de |mon )?(?:formule|forfait|abonnement|offre))\b|プラン(?:の)?変更|ダウングレード|アップグレード")
_HOME = re.compile(r"\b(?:invoices?|receipts?|billing (?:history|address|details|info\w*|email)|payment history|"
                   r"tax id|vat (?:number|id)|company (?:name|address)|facturas?|recibos?|comprobantes?|"
                   r"rechnung\w*|quittung\w*|beleg\w*|factures?|recus?|historique de facturation|"
                   r"adresse de facturation)\b|領収書|請求書|明細")
#: "can't find", "where do I", "how to": the task the customer could not do sits next to it
_CUE = re.compile(r"\b(?:can'?t|cannot|couldn'?t|could not|unable to|no way to|how (?:do|can) (?:i|we)|how to|where|"
                  r"no (?:option|button|link) to|no encuentro|no puedo|donde|como|finde|kann nicht|wo kann|"
                  r"ne trouve|impossible de|comment|ou (?:est|sont|puis))\b|見つか|どこ|わから|分から")
#: flow_data.type per task; "home" is no flow: the portal home lists invoices and billing details
_FLOWS = (("subscription_cancel", _CANCEL), ("subscription_update", _PLAN), ("payment_method_update", _PAYMENT),
          ("home", _HOME))


@dataclass(frozen=True)
class PortalAsk:
    """The portal task a complaint asks for: ``flow`` is Stripe's ``flow_data.type``
    (``home``: no flow, the portal home page) and ``words`` the complaint's words for it;
    ``keep`` holds the words refusing a cancel ("don't cancel my account"), if any."""

    flow: str
    words: str
    keep: str | None = None


def keeps_subscription(text: str) -> str | None:
    """The complaint's words saying not to cancel ("do not cancel my plan") or that the customer
    keeps the service ("I still want to use it", "I'm not leaving"), the first of them; None."""
    norm = normalise(text)
    found = [m for m in _KEEP_PLAN.finditer(norm)] + _stays(norm)
    if not found:
        return None
    return min(found, key=lambda m: m.start()).group(0)


#: what a cancel word ends when it is about seats, not the plan ("cancel the two unused seats")
_SEAT_OBJECT = re.compile(r"^\W*(?:(?:the|my|our|those|these|\w+|\d+)\W+){0,3}?(?:seats?|users?|licen[cs]es?|members?|"
                          r"people|persons?|asientos?|usuarios?|licencias?|platze?|nutzer\w*|lizenz\w*|sieges?|"
                          r"utilisateurs?)\b")


def asks_to_cancel(text: str) -> str | None:
    """The complaint's words asking to end the plan ("cancel the whole team plan", "please unsubscribe
    us"), or None: a cancel it refuses or a customer who keeps the service does not count, nor a
    cancel of seats or users ("cancel the two unused seats" is a seat reduction)."""
    norm = normalise(text)
    if keeps_subscription(text) is not None:
        return None
    for m in _CANCEL.finditer(norm):
        if not _SEAT_OBJECT.match(norm[m.end():m.end() + 60]):
            return norm[m.start():min(len(norm), m.end() + 40)].split(".")[0].strip()
    return None


def portal_ask(text: str) -> PortalAsk | None:
    """Which portal flow answers the complaint: the task next to a "can't find / where /
    how" cue, else the first of cancel, plan change, payment method, invoices it names. A
    cancel the complaint refuses never counts; None when it names no task (``keep`` then
    lost: call :func:`keeps_subscription` for it)."""
    norm = normalise(text)
    refused = sorted([m.span() for m in _KEEP_PLAN.finditer(norm)] + [m.span() for m in _stays(norm)])
    stays = bool(_stays(norm))
    found: list[tuple[str, re.Match[str]]] = []
    for flow, pattern in _FLOWS:
        for m in pattern.finditer(norm):
            # a customer who keeps the service ("I'm staying") asks for no cancel flow: what they
            # cancel beside it (a duplicate, an add-on) is the plan's to say, not the portal's
            if flow == "subscription_cancel" and (stays or any(s <= m.start() < e for s, e in refused)):
                continue
            found.append((flow, m))
    keep = norm[refused[0][0]:refused[0][1]] if refused else None
    if not found:
        return PortalAsk("home", "", keep) if keep else None
    order = [f for f, _ in _FLOWS]
    cues = [c.span() for c in _CUE.finditer(norm)]

    def distance(m: re.Match[str]) -> int:
        gaps = [m.start() - e if m.start() >= e else s - m.end() for s, e in cues]
        near = [g for g in gaps if 0 <= g <= 60]
        return min(near) if near else 10_000
    flow, m = min(found, key=lambda fm: (distance(fm[1]), order.index(fm[0]), fm[1].start()))
    return PortalAsk(flow, m.group(0), keep)


# --- a share of the money back ("refund half", "50% back") -------------------------------------
_MONEY_WORD = (r"(?:refund\w*|money|back|credit|reimburs\w*|discount|reembols\w*|devol\w*|devuel\w*|dinero|"
               r"erstatt\w*|zuruck|geld|argent|"
               r"gutschrift|rembours\w*|avoir|返金|払い戻し)")
_SHARES = ((r"(?<![\w.])(\d{1,3}(?:\.\d+)?) ?(?:%|percent\b|per cent\b|por ciento\b|prozent\b|pour ?cent\b)", None),
           (r"\b(?:half|la mitad|(?:die )?halfte|(?:la )?moitie)\b|半額|半分", Fraction(1, 2)),
           (r"\b(?:a third|one third|un tercio|ein drittel|un tiers)\b", Fraction(1, 3)),
           (r"\b(?:a quarter|one quarter|un cuarto|ein viertel|un quart)\b", Fraction(1, 4)))


def asked_share(text: str) -> Fraction | None:
    """The share of the charge the customer asks back ("refund half", "50% back"), named
    within a few words of a money word (so "50% of syncs fail" names none); None when no
    share, or two different ones, are named."""
    norm = normalise(text)
    found: set[Fraction] = set()
    for pattern, share in _SHARES:
        for m in re.finditer(pattern, norm):
            window = norm[max(0, m.start() - 40):m.end() + 40]
            if not re.search(_MONEY_WORD, window):
                continue
            value = share if share is not None else Fraction(m.group(1)) / 100
            if 0 < value <= 1:
                found.add(value)
    return found.pop() if len(found) == 1 else None


# --- how many seats the customer says they use ("we only have 3 people") ---------------------------
_NUMBERS = {w: n for n, words in enumerate((
    (), ("one", "uno", "una", "eins", "ein", "eine", "un", "une", "一"), ("two", "dos", "zwei", "deux", "二"),
    ("three", "tres", "drei", "trois", "三"), ("four", "cuatro", "vier", "quatre", "四"),
    ("five", "cinco", "funf", "cinq", "五"), ("six", "seis", "sechs", "六"), ("seven", "siete", "sieben", "sept", "七"),
    ("eight", "ocho", "acht", "huit", "八"), ("nine", "nueve", "neun", "neuf", "九"), ("ten", "diez", "zehn", "dix", "十"),
    ("eleven", "once", "elf", "onze"), ("twelve", "doce", "zwolf", "douze"))) for w in words}
_N = r"(\d{1,4}|" + "|".join(sorted((w for w in _NUMBERS if w.isascii()), key=len, reverse=True)) + r")"
_WHO = (r"(?:people|persons?|users?|members?|employees|staff|seats?|licen[cs]es?|colleagues|team members|active users|"
        r"of us|personas|usuarios|miembros|empleados|personen|nutzer|benutzer|mitarbeiter\w*|leute|platze|lizenzen|"
        r"personnes|utilisateurs|membres|salaries)")
_SEATS_USED = re.compile("|".join((
    rf"\b(?:only|just)\s+(?:(?:have|has|need|use|are|got|employ)\s+)?(?:about\s+)?{_N}\s+{_WHO}",
    rf"\b(?:we are|we'?re)\s+(?:only\s+|just\s+)?{_N}(?:\s+{_WHO})?\b",
    rf"\b(?:there are|there'?s|there is)\s+(?:only\s+|just\s+)?{_N}\s+{_WHO}",
    rf"\b(?:we|i) (?:have|employ)\s+(?:only\s+|just\s+)?{_N}\s+(?:people|users|members|employees|staff|colleagues|"
    r"team members|active users)\b",
    rf"\b(?:need|use|using|want)\s+(?:only\s+|just\s+)?{_N}\s+(?:seats?|licen[cs]es?)\b",
    rf"\b(?:team|company) of (?:only\s+|just\s+)?{_N}\b",
    rf"\b(?:solo|solamente)\s+(?:somos|tenemos|usamos|necesitamos|hay)\s+{_N}\b",
    rf"\bsomos (?:solo )?{_N}\b",
    rf"\b(?:nur|lediglich)\s+{_N}\s+{_WHO}",
    rf"\bwir sind (?:nur |zu )?{_N}\b",
    rf"\b(?:seulement|que|juste)\s+{_N}\s+{_WHO}",
    rf"\b(?:nous sommes|on est|on n'est que) (?:seulement )?{_N}\b",
    r"(\d{1,4}|[一二三四五六七八九十])(?:人|名)(?:しか|だけ|で(?:使|利用))",
)), re.I)


def seats_used(text: str) -> tuple[int, str] | None:
    """The seat count the customer says they use ("we only have 3 people", "solo somos 2")
    and the words saying it; None when it names none, or two different counts."""
    found: dict[int, str] = {}
    for m in _SEATS_USED.finditer(normalise(text)):
        word = next(g for g in m.groups() if g)
        n = int(word) if word.isdigit() else _NUMBERS[word]
        found.setdefault(n, m.group(0))
    if len(found) != 1:
        return None
    return next(iter(found.items()))


# --- a product the complaint names that the customer does not have -------------------------------
#: Nouns for something bought on its own. A module, integration, extension, plugin or option is
#: as often a feature of the plan the customer has ("the reporting module has been broken since we
#: bought the annual plan"): naming one is no sign of a product they lack.
_PRODUCT_NOUN = (r"(?:add-?ons?|add on|addons?|plan|subscription|package|bundle|tier|licen[cs]e|product|edition|"
                 r"pack|complemento|paquete|zusatz\w*|paket|forfait|formule)")
_NAMED_PRODUCT = re.compile(rf"\b(?:my|our|the|this|your|for|mi|mein\w*|unser\w*|mon|ma|notre|le|la|el|das|den)\s+"
                            rf"((?:[a-z][\w'-]*\s+){{1,3}}?){_PRODUCT_NOUN}\b")
#: Spanish and French put the name after the noun: "mi complemento Analytics", "le module Rapports"
_PRODUCT_NAMED = re.compile(r"\b(?:el|mi|la|le|mon|ma|notre|nuestro|nuestra|mein\w*)\s+(?:complemento|paquete|"
                            r"forfait|formule|plan|abonnement|suscripcion|paket)\s+(?:de\s+|d')?"
                            r"([a-z][\w'-]*)")
#: words that say which plan without naming a product ("my annual plan", "our team plan", "the old one")
_GENERIC = frozenset("""
a an the my our your this that these those its of for to on with and or one two three both either each every all any
annual annually yearly year monthly month weekly week daily quarterly 12-month recurring current old new newer older
previous prior existing whole entire full first second third other another extra duplicate duplicated same paid free
trial main base basic-tier cheap cheaper expensive upgraded downgraded renewed renewal auto-renewing auto canceled
cancelled unused last latest recent next personal individual single team family business company corporate work
subscription subscriptions plan plans billing account seat seats user users license licence member members
monthly-plan yearly-plan pricing price paying payment charge charged entire overall whole-team new-ish stupid
mensual anual jahres jahrlich monatlich annuel mensuel mes ano jahr mois an pago precio prix mensuelle annuelle
equipo equipe personal personnel base
""".split())


def _tokens(text: str) -> set[str]:
    return {t for t in re.findall(r"[a-z][a-z'-]+", normalise(text)) if t not in _GENERIC and len(t) > 2}


def _same_word(a: str, b: str) -> bool:
    return a == b or (min(len(a), len(b)) >= 4 and (a.startswith(b) or b.startswith(a)))


def product_not_held(text: str, held: list[str]) -> str | None:
    """The product the complaint names ("refund my Analytics add-on") when it is none of ``held`` (the
    names of the customer's plans: product names, price nicknames) and the complaint names none of
    them elsewhere; None when it names no product, or one the customer has.

    Why: a refund for a product the customer does not have must not land on the plan they do have;
    the case asks them which charge they mean.
    """
    norm = normalise(text)
    held_words = set().union(*(_tokens(h) for h in held if h)) if held else set()
    said = set(re.findall(r"[a-z][a-z'-]+", norm))
    if any(_same_word(w, h) for w in said for h in held_words):
        return None  # the complaint names a plan the customer has
    for pattern in (_NAMED_PRODUCT, _PRODUCT_NAMED):
        for m in pattern.finditer(norm):
            name = [w for w in m.group(1).split() if w not in _GENERIC and len(w) > 2 and w not in VOCABULARY[0]]
            if name:
                return m.group(0).split(None, 1)[1]  # without its "my" / "the"
    return None

