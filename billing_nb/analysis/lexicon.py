"""Complaint wording as weighted concepts, in English, Spanish, German, French and Japanese.

Why a lexicon and not one regex per bucket: a complaint names what went wrong in many
ways ("the sync has not worked since your update", "los informes nunca llegan") and
often says what it is *not* ("not a duplicate, we need both", "nothing is broken").
Each concept is a list of patterns on normalised text (lower case, accents stripped,
curly quotes straightened) with a weight; a match with a negation cue just before it
(``not``, ``no``, ``nothing``, ``kein``, ``nicht``, ``pas``...) counts against its
concept instead of for it. Every hit keeps the words it matched, so the evidence can
name them.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from ..reading.pii import Vocabulary, merge, vocabulary
from ..reading.snapshot import CaseSnapshot

__all__ = ["CJK", "INTENTS", "VOCABULARY", "case_words", "Hit", "TextSignals", "failure_report", "normalise",
           "read_text"]

#: The intents a complaint can express; ``unclear`` is "none of them".
INTENTS: tuple[str, ...] = ("duplicate_subscription", "team_seats", "failed_payment", "missing_self_serve",
                            "product_failure", "unclear")


#: Kana and CJK ideographs: a run of them is one ``\w+`` "word" (Japanese has no spaces), so their
#: patterns use no ``\b``, and their marks (the dakuten of ボ, パ) are part of the letter, never stripped.
CJK = "\u2e80-\u9fff\uf900-\ufaff\uff66-\uff9f"
_CJK_CHAR = re.compile(f"[{CJK}]")


def _fold(ch: str) -> str:
    if ch >= "\u2e80":  # NFKD would split ボ into ホ + a combining mark, and the mark would be dropped
        return ch
    return "".join(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c))


def normalise(text: str) -> str:
    """Lower case, accents stripped (Latin only: kana keep their marks), full-width forms made ASCII,
    apostrophes and dashes straightened, whitespace collapsed."""
    text = "".join(_fold(ch) for ch in unicodedata.normalize("NFKC", text or ""))
    text = text.replace("\u2019", "'").replace("\u2018", "'").replace("\u2013", "-").replace("\u2014", "-")
    return re.sub(r"\s+", " ", text.lower()).strip()


_P = re.compile
_CANT = (r"(?:can'?t|cannot|couldn'?t|could not|unable to|no way to|not able to|how(?: on earth| the hell| exactly)? (?:do|can|would) (?:i|we)|how to|"
         r"where (?:do|can|is|are) (?:i|we)?|tried to|trying to|no option to|(?:does|did|do|would|will)n'?t let (?:me|us)|"
         r"there'?s no|there is no|nothing (?:in|on)|no option|"
         r"is there (?:any |a |really no |no )?(?:other )?(?:way|option|place|page|button|setting|link)s?(?: to| for| where)?|"
         r"(?:is it|it is|it'?s) (?:even )?(?:possible|impossible) to|can (?:i|we)(?: even| just)?|"
         r"(?:won'?t|doesn'?t|does not|will not) (?:let|allow) (?:me|us)(?: to)?)")
_SS_VERB = (r"(?:get out of|opt out|leave|quit|cancel\w*|cancle|unsubscrib\w*|downgrad\w*|stop\w*|end|pause|turn off|close|switch\w*|change (?:plans?|my plan)|"
            r"find\w*|download\w*|see (?:the|what|my|how|where|anything)|figure out|do it (?:myself|ourselves)|pausing|paused|"
            r"put (?:\w+ ){0,3}on hold|freeze (?:my|our|the|it))")
#: What a customer changes in a billing portal: a control over any of these they cannot find is a
#: missing self-serve control ("I can't remove my old card", "no way to edit the billing address"), where
#: the same verbs on their work ("I can't edit my documents") are the product failing.
_BILLING_OBJ = (r"(?:card|visa|mastercard|amex|payment (?:method|details|info\w*)|billing|address|e-?mail|invoices?|receipts?|"
                r"plan|subscription|sub|tier|membership|renewal|auto-?renew\w*|interval|monthly|yearly|annual\w*|vat|"
                r"tax id|company name)\b")
_CTL_VERB = (r"(?:chang\w*|updat\w*|edit\w*|modif\w*|remov\w*|delet\w*|take \w+ off|swap\w*|replac\w*|add\w*|"
             r"resum\w*|reactivat\w*|re-?enabl\w*|restart\w*|unpaus\w*|freez\w*|turn (?:\w+ )?back on|get (?:back|copies of)|"
             r"grab\w*|access|view|print|move|go back to)")
#: The customer refuses the control word before it ("I don't want to cancel, I want to pause"): the weak
#: cancel / pause words then count against self-serve, not for it.
_REFUSED = _P(r"\b(?:don'?t|do not|doesn'?t|does not|not|never|no longer|no intention (?:of|to)|rather not)\s+(?:really\s+|even\s+)?"
              r"(?:want|need|asking|ask|looking|expect|interested|trying|planning|going|wish)\w*(?:\s+\w+){0,3}\s*$")
#: A price rise and the notice the customer did not get, in either order within one sentence: a trust
#: break ("you raised my price and didn't tell anyone"), not the unexpected charge of a renewal.
_RISE = (r"(?:(?:price|pricing|cost|fee|rate|bill|subscription|plan|amount)s?(?: \w+){0,3}? (?:went up|go(?:es|ne)? up|"
         r"increas\w*|jump\w*|doubl\w*|rose|risen|skyrocket\w*|hik\w*|spik\w*|tripl\w*)|(?:rais\w*|increas\w*|hik\w*|"
         r"doubl\w*|jack\w* up|bump\w* up)(?: \w+){0,3}? (?:price|pricing|cost|fee|rate|bill)s?|price (?:increase|hike|rise|jump)s?|"
         r"hausse (?:de|des) (?:prix|tarifs?)|(?:prix|tarifs?) (?:a|ont|est|sont) (?:\w+ )?(?:augmente|double|monte)\w*|"
         r"augment\w* (?:le|les|nos|mes) (?:prix|tarifs?)|(?:preis\w*|kosten|gebuhr\w*|beitrag) (?:\w+ ){0,4}(?:erhoht|"
         r"gestiegen|verdoppelt|angehoben)|(?:erhoht|angehoben)(?: \w+){0,3}? (?:preis\w*|gebuhr\w*)|preiserhohung|teurer geworden|"
         r"(?:subi\w*|aument\w*) (?:el |los |la |las )?(?:precio|tarifa|cuota)s?|(?:el |los |la )?(?:precio|tarifa|cuota)s? "
         r"(?:\w+ ){0,2}(?:subi\w*|aument\w*)|aumento de (?:precio|tarifa)s?)")
_UNANNOUNCED = (r"(?:without (?:any |so much as an? |a |prior |even an? )?(?:notice|warning|email|heads[- ]up|telling|informing|"
                r"notifying|asking|announcement)|(?:no|zero|without) (?:\w+ )?(?:notice|warning|heads[- ]up|announcement)|"
                r"(?:didn'?t|did not|never|not) (?:\w+ ){0,2}(?:tell|told|warn\w*|notif\w*|inform\w*|announc\w*|mention\w*|email\w*)|"
                r"unannounced|nobody (?:told|warned|informed)|sans (?:aucun |le moindre |aucune )?(?:preavis|prevenir|avertissement|"
                r"avertir|annonce|information)|(?:jamais|pas) (?:ete )?(?:prevenue?s?|avertie?s?|informee?s?)|ohne (?:jede |jegliche |"
                r"vorherige |eine |\w+ )?(?:ankundigung|vorwarnung|vorankundigung|bescheid|info\w*|mitteilung|benachrichtigung)|"
                r"sin (?:previo |ningun )?avis\w*|sin (?:ninguna )?notificacion|sin decir nada|nadie (?:me |nos )?avis\w*)")

# (concept, weight, pattern). Concepts named after an intent feed that intent's score.
_CONCEPTS: tuple[tuple[str, float, re.Pattern[str]], ...] = (
    # --- duplicate subscription -----------------------------------------------------
    ("duplicate_subscription", 2.0, _P(r"\b(?:charged|billed|debited|paying|pay|subscribed|signed up|bought|purchased|taken)"
                                       r"(?: \w+){0,4}? (?:twice|two times|2 ?x|double|tiwce|twise|2 times)\b")),
    ("duplicate_subscription", 2.0, _P(r"\b(?:double[- ]?(?:charged?|billed|billing|payment|fired)|doubled charge|"
                                       r"duplicat\w*|dupliac\w*|dupe)\b")),
    ("duplicate_subscription", 1.5, _P(r"\b(?:two|2) (?:identical |separate |same )?(?:charges|subscriptions|subs|payments|"
                                       r"receipts|bills|plans|accounts|profiles)\b")),
    ("duplicate_subscription", 1.5, _P(r"\b(?:same (?:charge|amount|plan|subscription|thing|product)\w*(?: \w+){0,4}? "
                                       r"(?:twice|two times|again)|twice|two times|2x)\b")),
    ("duplicate_subscription", 1.5, _P(r"\b(?:second|extra|another) (?:subscription|account|plan|sub|profile)\b")),
    ("duplicate_subscription", 1.0, _P(r"\b(?:signed up|registered|subscribed|re-?subscribed) again\b|\bboth (?:accounts|are (?:being )?charg)")),
    ("duplicate_subscription", 2.0, _P(r"\b(?:dos veces|duplicad\w*|dos suscripciones|zweimal|doppelt\w*|zwei (?:abos|abonnements)"
                                       r"|deux fois|double prelevement|deux abonnements|doublon)\b")),
    # --- team seats -----------------------------------------------------------------------
    ("team_seats", 1.2, _P(r"\b(?:seats?|licen[cs]es?|head ?count|per[- ](?:user|seat|person|member)|quantity|qty)\b")),
    ("team_seats", 0.8, _P(r"\b(?:users?|members?|colleagues?|employees?|new hires?|team members?|people|interns|designers?)\b")),
    ("team_seats", 1.5, _P(r"\b(?:add|added|adding|remove|removed|reduce|reducing|fewer|more|drop|extra|additional)"
                           r"(?: \w+){0,3}? (?:seats?|users?|licen[cs]es?|members?|people|team members?)\b")),
    ("team_seats", 1.5, _P(r"\b(?:usuarios|licencias|asientos|lizenzen|nutzer|benutzer|platze|kollegen|mitarbeiter"
                           r"|utilisateurs|licences|sieges|asientos?|sitze?|sieges?|por usuario|pro (?:nutzer|kopf)|par utilisateur)\b")),
    ("team_seats", 1.5, _P(r"\b(?:flat (?:price|fee|rate)|one price for|\d+ ?x ?\$?\d+|(?:five|four|three|two|\d+) times the"
                           r"|whole (?:company|team|studio)|invited|each (?:colleague|member|invite))\b")),
    ("deliberate", 2.0, _P(r"\b(?:we need both|need both|not a (?:duplicate|mistake|double charge)|isn'?t a duplicate|"
                           r"not a double|(?:on purpose|intentionally|deliberately)|for (?:my|our) (?:colleague|partner|"
                           r"business partner|assistant|employee|new hire|second office|sales team|team)|"
                           r"one (?:per|for each) (?:person|user|designer|employee|seat)|each person|per employee|"
                           r"(?:two|2) (?:different )?(?:people|users|persons)|(?:that'?s|this is) right|uses the other|"
                           r"don'?t cancel anything|keep (?:them )?both|both are (?:needed|wanted|in use|used)|"
                           r"(?:second|other|extra) (?:plan|subscription|one) is for|for my (?:wife|husband|partner|son|"
                           r"daughter|kids?|family|friend|brother|sister|co-?founder|cofounder|boss|manager)|"
                           r"(?:two|three|four|several|\d+) (?:departments|teams|offices|branches|divisions|locations)|"
                           r"\d+ and \d+ (?:people|users|seats|members|employees|persons))\b")),
    ("unused_seats", 2.0, _P(r"\b(?:unused|not used|nobody used|aren'?t used|isn'?t used|no longer used|don'?t use all|empty|left the (?:company|team)|"
                             r"downsized|fewer (?:seats|users|people)|reduce|drop it to|go down to|only (?:\d+|two|three|four)"
                             r" (?:people|of us|using)|(?:only|just) (?:me|one) who|remove (?:a |one )?(?:user|seat)|"
                             r"reducir|solo somos|weniger|verlassen|reduire|ne sommes que)\b")),
    ("seat_increase", 2.0, _P(r"\b(?:went from \d+ to \d+|added (?:\w+ )?(?:seats|users)|increased (?:\w+ )?seats|bumped|"
                              r"grew the team|new (?:hires|people|team members)|on purpose|intentionally)\b")),
    # --- failed payment -------------------------------------------------------------------
    ("failed_payment", 2.0, _P(r"\b(?:declin\w*|paymnet|pymnt|past[- ]due|overdue|insufficient funds|unpaid invoice|"
                               r"outstanding invoice|payment required|billing problem|payment issue)\b")),
    ("failed_payment", 2.0, _P(r"\b(?:payment|renewal|charge|card|transaction|abbuchung|zahlung|paiement|pago|prelevement)"
                               r"(?: \w+){0,4}? (?:fail\w*|unsuccessful|didn'?t go thr\w*|did not go thr\w*|didn'?t work|"
                               r"refused|rejected|bounced|could not be processed|not processed|didn'?t charge|"
                               r"fehlgeschlagen|abgelehnt|hat nicht geklappt|a echoue|refusee?|fallo|rechazad\w*|"
                               r"n'est pas passe)\b")),
    ("failed_payment", 1.5, _P(r"\b(?:(?:update|updated|change|changed|replace|replaced|new)(?: \w+){0,2}? "
                               r"(?:credit |bank |company )?(?:card|payment method|payment details)|expired|old card|"
                               r"3d ?secure|checkout (?:failed|timed out|errored)|card page errored|incomplete|"
                               r"tarjeta|caduc\w*|vencid\w*|kreditkarte|karte|carte bancaire|ma carte)\b")),
    ("failed_payment", 1.0, _P(r"\b(?:locked out|suspended|on hold|lost access|retry|try again|lapsed|erneut)\b")),
    # --- missing self-serve ---------------------------------------------------------------
    ("missing_self_serve", 2.5, _P(rf"\b{_CANT}(?: \w+){{0,4}}? {_SS_VERB}")),
    ("missing_self_serve", 2.5, _P(rf"\b{_CANT}(?: \w+){{0,4}}? {_CTL_VERB}(?: \w+){{0,4}}? {_BILLING_OBJ}|"
                                   r"\b(?:can'?t|cannot|unable to|no way to|not able to) (?:edit|change|update|remove|delete) "
                                   r"(?:it|this|that|them) (?:anywhere|myself|online|on my own|in (?:the|my) (?:account|portal|"
                                   r"settings|dashboard|profile))")),
    # a control the customer looked for and did not find (read-only page, no button, nothing in settings)
    ("missing_self_serve", 2.0, _P(r"\b(?:read[- ]only|gr[ae]yed[- ]out|(?:button|option|field|setting|toggle|link)s? (?:is |are )?"
                                   r"(?:missing|disabled|locked)|only (?:lets?|allows?) (?:me|us)|(?:won'?t|doesn'?t|does not|will not|"
                                   r"didn'?t) (?:let|allow) (?:me|us)(?! (?:to )?(?:log|sign|in\b|access|open|use|save|export|upload|"
                                   r"work|load))|no (?:button|option|setting|field|toggle|link|menu)s?\b|nothing (?:in|on|under) "
                                   r"(?:the |my )?(?:settings|portal|account|dashboard|billing|profile)|instead of (?:quitting|"
                                   r"cancel\w*|leaving)|(?:where|how) (?:do|can|could) (?:i|we) do (?:that|this|it))")),
    ("missing_self_serve", 2.0, _P(r"\b(?:no option (?:for|to)|shows no option|no (?:button|link|page) (?:for|to)|"
                                   r"without (?:emailing|contacting|calling|writing to) (?:you|support|us)|"
                                   r"(?:myself|ourselves)\b|thought (?:my |the )?(?:trial|it) would (?:just )?end|"
                                   r"cancel\w* (?:button|option|link|page)|no (?:\w+ )?cancel\w*|cancel option|"
                                   r"self[- ]?serv\w*|auto[- ]?renew\w*|(?:stop|end) (?:the )?automatic renewal)\b")),
    ("missing_self_serve", 0.8, _CANCEL_WORDS := _P(r"\b(?:cancel\w*|unsubscrib\w*|portal|stop charging|stop billing|"
                                                    r"close my account)\b")),
    ("missing_self_serve", 0.8, _PAUSE_WORDS := _P(r"\b(?:pause\w*|paus(?:ing|ed)|unpause\w*|freeze (?:my|our|the) (?:account|"
                                                   r"subscription|plan|membership)|put (?:\w+ ){0,3}on hold|reactivat\w*|"
                                                   r"resume (?:my|our|the) (?:plan|subscription|membership|account|billing)|"
                                                   r"pausar\w*|pausier\w*|reactivar\w*|reaktivier\w*|suspendre|reactiver)\b")),
    ("missing_self_serve", 2.0, _P(r"\b(?:(?:never|didn'?t|did not|no) (?:get|got|receive\w*|see|saw)(?: \w+){0,2}? "
                                   r"(?:reminder|renewal notice|renewal email))\b")),
    ("missing_self_serve", 2.0, _P(r"\b(?:(?:never|didn'?t|did not|wasn'?t) (?:\w+ )?(?:authori[sz]ed?|agreed?|approved?|reali[sz]ed?|notic\w+|"
                                   r"consent\w*|warned|told|know|expect\w*|sign(?:ed)? up for a renewal)|nobody (?:told|said|"
                                   r"explained|warned)|without (?:my )?(?:consent|notice|warning|asking|any notice)|"
                                   r"don'?t (?:understand|recogni[sz]e) (?:this|the)|out of nowhere|surprise (?:invoice|charge)|"
                                   r"unexpected|extra charge|odd amount|random\w* (?:partial )?charge|charged \$?\d+ randomly|"
                                   r"prorat\w*|mid-?month|partial charge|negative and positive|never saw what)\b")),
    ("missing_self_serve", 2.0, _P(r"\b(?:(?:moved|upgraded|switched) (?:me )?(?:to|plans?)|plan change|changing plans|"
                                   r"after (?:the|my) (?:upgrade|plan change)|renew\w* (?:right )?before|before (?:it|the|my) "
                                   r"(?:plan )?renew\w*|before renewal|another year|new year the day)\b")),
    ("missing_self_serve", 2.0, _P(r"\b(?:cancelar|darme de baja|no encuentro|no pude|nadie me avis\w*|kundig\w*|finde nirgends|"
                                   r"unerwartet\w*|nicht angezeigt|resilier|desabonner|inattendu\w*|annuler|beenden|abbestellen|dar de baja)\b")),
    # controls beyond the cancel, in French, German and Spanish (pause, card, billing details, invoices, plan)
    ("missing_self_serve", 2.5, _P(r"\b(?:mettre (?:\w+ ){0,2}en pause|je ne trouve (?:pas|nulle part|rien)|nulle part|"
                                   r"(?:je n'arrive pas a|impossible de|je ne peux pas) (?:\w+ ){0,2}(?:supprimer|modifier|changer|"
                                   r"retirer|telecharger|trouver|mettre|passer|annuler|resilier|reactiver|suspendre|editer)|"
                                   r"(?:ne|n') (?:me |nous )?(?:permet|propose|laisse) (?:pas|rien)|il n'y a (?:rien|aucun\w*|pas d\w*) "
                                   r"(?:\w+ )?(?:dans|pour|sur|bouton|option)|comment (?:puis-je |je peux |faire pour |on fait pour )?"
                                   r"(?:\w+ ){0,2}(?:modifier|changer|supprimer|retirer|telecharger|reactiver|suspendre|passer)|"
                                   r"finde (?:\w+ ){0,3}(?:nichts|keine\w*|nicht|nirgends)|(?:kann|konnen|konnte) (?:\w+ ){0,3}nicht "
                                   r"(?:\w+ ){0,3}(?:loschen|entfernen|andern|aktualisieren|herunterladen|kundigen|wechseln|umstellen|"
                                   r"pausieren|bearbeiten|austauschen)|wo (?:kann|finde|konnen) (?:ich|wir)|wie (?:kann|konnen) (?:ich|wir) "
                                   r"(?:\w+ ){0,4}(?:pausieren|kundigen|andern|loschen|entfernen|wechseln|umstellen|herunterladen|"
                                   r"aktivieren|beenden|bearbeiten|austauschen)|keine (?:option|moglichkeit|schaltflache)|geht das nicht|"
                                   r"(?:feld|option|button|schaltflache) (?:ist |sind )?(?:gesperrt|ausgegraut|deaktiviert)|"
                                   r"no (?:puedo|logro|consigo) (?:\w+ ){0,2}(?:cambiar|eliminar|borrar|quitar|descargar|pausar|"
                                   r"modificar|actualizar|cancelar|reactivar|encontrar|editar)|no (?:me )?(?:deja|permite) (?:\w+ )?"
                                   r"(?:cambiar|eliminar|borrar|quitar|descargar|pausar|modificar|actualizar|cancelar)|"
                                   r"(?:hay|existe) (?:alguna|una) (?:forma|manera|opcion)|(?:no (?:hay|aparece|veo|encuentro)) "
                                   r"(?:ninguna |la |el |una )?(?:opcion|boton|forma|manera)|(?:como|donde) (?:puedo |se )?(?:\w+ )?"
                                   r"(?:cambi\w*|paus\w*|elimin\w*|borr\w*|descarg\w*|quit\w*|modific\w*|reactiv\w*))\b")),
    # --- product failure ------------------------------------------------------------------
    ("product_failure", 2.5, _P(r"\b(?:has ?n[o']t worked|have ?n[o']t worked|not worked|never worked|stopped (?:working|"
                                r"syncing|sending|firing|loading)|doesn'?t work|don'?t work|didn'?t work|does not work|"
                                r"not working|isn'?t working|won'?t (?:open|load|start|work)|no longer works?|just doesn'?t|"
                                r"it doesnt work|stopped completely|returns nothing|(?:haven'?t|hasn'?t|have not|has not|not) come through|"
                                r"nothing (?:has )?(?:synced|syncs|loads|works|happens|arrives)|does nothing|do(?:es)?n'?t do anything|"
                                r"(?:i'?m|we'?re|am|are|is|isn'?t|aren'?t) not (?:getting|receiving)|not (?:getting|receiving) "
                                r"(?:any|the|my|our)|(?:404|500|502|503|504)s?)\b")),
    ("product_failure", 2.5, _P(r"\b(?:never (?:arrive\w*|came|come|show\w*|ran|run|delivered|connected|get sent|sent|loads?|"
                                r"reach\w*|work\w*|load\w*|sync\w*|finish\w*|complete\w*)|(?<!\bi )(?<!\bwe )(?<!'d )(?<!'ve )(?<!\bhad )stopped \w+ing|"
                                r"(?:can'?t|cannot|unable to|could ?n'?t|can no longer) (?:log ?in|sign ?in|log on|access|open|load|"
                                r"connect|sync|save|export|import|upload)|"
                                r"(?:lost|deleted|wiped|erased) (?:all )?(?:of )?(?:my|our|the) (?:\w+ )?(?:data|notes|files|work|"
                                r"projects?|documents?|history|contacts|settings|drafts?)|disappeared|vanished|"
                                r"(?:not|aren'?t|isn'?t) (?:arriving|being delivered|delivered|syncing|loading|available|sent)|"
                                r"haven'?t (?:come|arrived)|have not arrived|(?:never|not) get sent)\b")),
    ("product_failure", 2.0, _P(r"\b(?:broken|brokn|broke|crash\w*|freez\w*(?! (?:my|our|the|an?) (?:account|subscription|plan|membership|billing))|errors?|error \d+|bug\w*|outage|down (?:for|since|"
                                r"most|all)|is it down|is down|unusable|useless|can'?t use|garbage|corrupt\w*|empty files|"
                                r"spinner|blank page|times? out|timing out|unreliable|silently failed|login loops|"
                                r"data (?:doesn'?t|don'?t) show|missing from)\b")),
    ("product_failure", 1.5, _P(r"\b(?:fail\w*)\b")),
    ("product_failure", 2.0, _P(r"\b(?:(?:team|support|you) (?:could ?n[o']t|couldn'?t|could not|was unable to|were unable to|"
                                r"had no answer)(?: \w+){0,2}? (?:fix|solve|resolve|answer|help)|without a fix|had no answer|"
                                r"doesn'?t do what|didn'?t do what|none of what|not what (?:i|we) (?:expected|paid)|"
                                r"not as (?:described|advertised|promised)|never delivered|still not available|"
                                r"doesn'?t add up|don'?t add up|always wrong|slow|duplicates every)\b")),
    ("product_failure", 2.5, _P(r"\b(?:no funciona|nunca llegan|se cierra|caido|fallando|funktioniert (?:\w+ )*?nicht|"
                                r"kommen nie an|sturzt|ausgefallen|schlagt (?:\w+ )*?fehl|fehler|ne fonctionne (?:plus|pas)|"
                                r"n'arrivent jamais|plante|en panne|rien ne (?:se )?\w+|ne marche (?:plus|pas)|no se (?:envia\w*|carga\w*|sincroniza\w*|"
                                r"abre|guarda\w*)|dejo de funcionar|no carga|ladt nicht|geht nicht mehr|nicht mehr|"
                                r"ne (?:charge|marche|fonctionne|s'ouvre|repond|synchronise|s'affiche|arrive)\w* (?:plus|pas)|"
                                r"va (?:muy )?lent\w*|se bloquea|se cuelga|no (?:abre|responde|sincroniza|llega\w*|aparece\w*)|"
                                r"(?:sind|ist) (?:seit \w+ )?leer|hangt|reagiert nicht|kaputt|abgesturzt|le bug|pas reussi a resoudre|no pudo arreglar\w*)\b")),
    # what the product shows is wrong (not what a bill says: "the invoice shows the wrong amount" is a billing question)
    ("product_failure", 2.0, _P(r"\b(?:shows?|showing|displays?|displaying|gives?|giving|returns?|returning|calculat\w*|computes?|"
                                r"exports?|generates?) (?:me |us )?(?:the |a |an )?(?:wrong|incorrect|inaccurate|garbled) "
                                r"(?!(?:amount|price|charge|total|invoice|bill|address|name|vat|currency|tax)\b)\w+|"
                                r"(?:numbers|figures|dates|results|values|metrics|stats|graphs|charts) (?:are|is|look|were) "
                                r"(?:all |completely |totally )?(?:wrong|incorrect|inaccurate|off)\b")),
    # nobody can use it ("none of our people can open the editor"), data lost by the product, a service that cannot be reached
    ("product_failure", 2.5, _P(r"\b(?:(?:none|nobody|no one|no-one) (?:of (?:us|our|the|my) )?(?:\w+ ){0,3}?(?:can|could|is able to|"
                                r"are able to|was able to|were able to) (?:log ?in|sign ?in|log on|access|open|load|use|connect|sync|work|"
                                r"see|reach|get in)|(?:records|files|data|notes|projects?|documents?|docs|work|history|contacts|photos|entries|"
                                r"tasks|spreadsheets?|changes|uploads|folders?)(?: \w+){0,2}? (?:are|is|were|was|got|have been|has been|"
                                r"went) (?:all |completely |just |simply )?(?:gone|lost|deleted|wiped|erased|missing|overwritten)|"
                                r"(?:wipes?|wiped|wiping|deletes|deleted|deleting|erases|erased|erasing|loses|lost|losing|overwr(?:ote|it\w*)|"
                                r"destroy\w*|corrupt\w*|ate)(?: all| half)?(?: of)? (?:my|our|the|all)(?: \w+){0,2}? (?:data|notes|"
                                r"files|work|records|projects?|documents?|docs|history|contacts|spreadsheets?|changes|entries|photos|"
                                r"folders?)|data loss|lost data|unreachable|inaccessible|down again|(?:went|goes|keeps going) down|"
                                r"ont disparu|a disparu|disparu\w*|(?:j'ai|nous avons|on a) perdu (?:\w+ ){0,2}(?:donnees|fichiers|"
                                r"notes|projets|documents|travail)|injoignable|(?:daten|dateien|projekte|notizen|dokumente|arbeit)\w* "
                                r"(?:\w+ ){0,4}(?:weg|verloren|geloscht|verschwunden)|verschwunden|nicht (?:mehr )?erreichbar|"
                                r"perd\w* (?:\w+ ){0,2}(?:archivos|datos|notas|proyectos|documentos|trabajo)|desaparec\w*|"
                                r"(?:se )?borr(?:o|aron) (?:\w+ ){0,2}(?:archivos|datos|notas|proyectos)|inaccesible)\b")),
    # --- trust break: a promise, an advertised term or a price the customer was not told of (a product failure) --
    ("product_failure", 3.0, _TRUST_RISE := _P(rf"\b(?:{_RISE}[^.!?]{{0,60}}?{_UNANNOUNCED}|{_UNANNOUNCED}[^.!?]{{0,60}}?{_RISE}|"
                                               rf"(?:preis\w*|gebuhr\w*|kosten|beitrag) (?:\w+ ){{0,2}}{_UNANNOUNCED} (?:\w+ ){{0,2}}"
                                               r"(?:erhoht|angehoben|verdoppelt))\b")),
    ("product_failure", 2.5, _TRUST_WORDS := _P(
        r"\b(?:lied|lying to|liars?|dishonest\w*|scam\w*|cheat\w*|ripped? off|rip-?off|bait[- ]and[- ]switch|deceiv\w*|"
        r"deceptive\w*|misleading|mislead\w*|misled|false(?:ly)? advertis\w*|betray\w*|i trusted you|(?:don'?t|can'?t|cannot|"
        r"no longer|won'?t|never) (?:\w+ )?trust|lost (?:\w+ )?trust|tricked|"
        r"promis\w*(?! (?:\w+ ){0,3}(?:refund|call|reply|to (?:get back|call|refund|reply)))|(?:was|were|been) (?:told|assured|"
        r"guaranteed)(?: (?:that|it|this|the|my|our|we|i|you))?(?: \w+){0,6}? (?:would|will|comes?|came|included|includes?|gets?)|"
        r"(?:you|they|sales\w*|your (?:\w+ )?(?:rep|team|site|website|page|docs|ad|ads)) (?:told|assured|guaranteed) (?:me|us)|"
        r"supposed to (?:include|come with|be included)|would (?:be included|come with|include)|"
        r"advertis\w*|(?:your|the) (?:ad|ads|advert|marketing|landing page|pricing page|sales page|homepage|website|site|docs|"
        r"documentation|brochure|sales rep)s? (?:clearly )?(?:claim\w*|promis\w*|guarantee\w*)|(?:your|the) (?:ad|ads|marketing|"
        r"landing page|pricing page|sales page|homepage) (?:clearly )?(?:says?|said|states?|stated|lists?|listed)|"
        r"unlimited(?: \w+){0,6}? (?:cap\w*|limit\w*|throttl\w*)|capped|throttl\w*|"
        r"hidden (?:fees?|charges?|costs?|extras?)|undisclosed|(?:fees?|charges?|costs?|add-?ons?)\b[^.!?]{0,40}?\b(?:never|not|"
        r"weren'?t|wasn'?t) (?:\w+ )?(?:mentioned|disclosed|explained|shown|listed|told|advertised)|never (?:mentioned|disclosed)|"
        r"(?:no|zero|not (?:a|one|a single)|never (?:got|had) (?:a|one|any)) (?:\w+ )?(?:reply|replies|response|responses|answer|"
        r"answers)|(?:nobody|no one|no-one|never)"
        r"(?: \w+){0,4}? (?:answers?|answered|replies|replied|responds?|responded|gets? back|got back)|(?:ignor\w*) (?:me|us|my|our)|"
        r"(?:is|are|been|keeps?) ignoring|go(?:es)? unanswered|unanswered|left on read|ghost\w*|"
        # French, German, Spanish
        r"on m'avait (?:promis|dit|assure)|(?:publicite|pub) mensongere|mensong\w*|trompeu\w*|arnaqu\w*|escroqu\w*|trahi\w*|"
        r"annonc\w* (?:un |une |des )?(?:\w+ )?illimit\w*|frais (?:\w+ )?cach\w*|personne ne (?:me |nous )?(?:repond|rappelle)|"
        r"aucune reponse|sans (?:aucune )?reponse|versproch\w*|zugesagt|werb\w* mit|beworben|irrefuhrend\w*|betrug\w*|betrog\w*|"
        r"abzocke\w*|abgezockt|hinters licht|versteckte? (?:gebuhr|kosten)\w*|keine rede war|keine antwort|niemand antwortet|"
        r"ignorier\w*|geworben|promet\w*|prometi\w*|publicidad enganosa|enganos\w*|estaf\w*|cobros? ocultos?|cargos? ocultos?|"
        r"comision\w* ocult\w*|costos? ocultos?|tarifas? ocultas?|nunca (?:me )?(?:explicaron|mencionaron|dijeron)|"
        r"nadie (?:\w+ ){0,3}(?:contesta|responde)|sin respuesta|ninguna respuesta|no (?:me )?(?:contestan|responden))\b")),
    # --- Japanese (no spaces, so no \b; a verb's negation follows it: 動かない, できません) ----------
    ("duplicate_subscription", 2.0, _P(r"(?:二重|2重|重複)(?:に)?(?:請求|課金|払い|決済|引き落とし|登録|契約)|"
                                       r"(?:2|二)(?:回|度)(?:も)?(?:請求|課金|引き落と|支払)|(?:2|二)つの(?:サブスク\w{0,6}|契約|プラン)")),
    ("team_seats", 1.5, _P(r"(?:席|シート|ライセンス|ユーザー数|人数|メンバー|アカウント数|ユーザー分|(?<![\d一二三四五六七八九十])(?:\d+|[一二三四五六七八九十]+)人分?)")),  # a count read from its first digit: linear
    ("deliberate", 2.0, _P(r"(?:両方(?:とも)?(?:必要|使って)|重複ではな|意図的|わざと|(?:2|二|複数)つの(?:部署|チーム)|部署ごと)")),
    ("unused_seats", 2.0, _P(r"(?:使っていない|使っていません|使われていない|使われていません|しか(?:使って|いません|いない)|"
                             r"減らしたい|減らして|退職)")),
    ("failed_payment", 2.0, _P(r"(?:支払い|決済|引き落とし|カード|更新)[^。、]{0,6}?(?:失敗|できませんでした|できなかった|"
                               r"拒否|通らな|通りませ|エラー)|未払い|有効期限(?:が)?切れ|カード(?:が|を)?(?:更新|変更)")),
    ("missing_self_serve", 2.5, _P(r"(?:解約|キャンセル|退会|停止|休止|再開|ダウングレード|プラン|領収書|請求書|カード|"
                                   r"支払(?:い)?方法|メール(?:アドレス)?|住所|請求先|年払い|月払い|ダウンロード)[^。、]{0,8}?"
                                   r"(?:見つか(?:らな|らず|りませ)|わから(?:な|ず)|分から(?:な|ず)|でき(?:な|ませ)|ありませ|どこ|"
                                   r"方法(?:は|が)?(?:ありますか|ありません|ない|教えて))")),
    ("missing_self_serve", 2.0, _P(r"(?:ボタン|項目|メニュー|オプション|リンク)(?:が|は)?(?:ありません|ない|見当たら|見つか(?:らな|りませ))")),
    ("missing_self_serve", 2.0, _P(r"(?:勝手に|知らないうちに|無断で|予告なく|連絡なく)|(?:更新|請求|課金)(?:される|された)(?:とは|なんて)|"
                                   r"(?:無料|お試し)(?:トライアル|体験|期間)[^。]{0,16}?(?:請求|課金|引き落と)|自動(?:更新|継続|課金)")),
    ("missing_self_serve", 0.8, _P(r"(?:解約|キャンセル|退会)")),
    ("product_failure", 2.5, _P(r"(?:動かな|動きませ|使えな|使えませ|機能しな|起動しな|ログインでき(?:な|ませ)|同期(?:され|し|でき)(?:な|ませ)|"
                                r"表示され(?:な|ませ)|届かな|届きませ|不具合|バグ|クラッシュ|落ちる|壊れ|エラーが(?:出|発生))")),
    ("product_failure", 3.0, _TRUST_JA_RISE := _P(r"(?:予告|連絡|通知|お知らせ|説明)(?:も)?(?:なく|なしに|なしで)[^。]{0,12}?値上げ|"
                                r"値上げ[^。]{0,20}?(?:連絡|通知|お知らせ|説明)(?:が|は|も)?(?:なかった|ありませんでした|なし)")),
    ("product_failure", 2.5, _TRUST_JA := _P(r"(?:約束|広告|宣伝|と(?:書いて|言われて|聞いて)(?:あった|い(?:た|ました))のに|騙さ|だまさ|詐欺|裏切|"
                                r"隠れた(?:手数料|費用|料金)|説明のない(?:手数料|料金|請求)|(?:返事|返信|回答)(?:が|は)?(?:ありません|ない|来ない|来ません)|"
                                r"無視され|消えて|消えた|消えま|消失|値上げ|(?:料金|価格|値段)が(?:上が|高くな)|繋がら|つながら|繋がりません|"
                                r"つながりません)")),
    ("refund", 1.0, _P(r"(?:返金|払い戻し|返して)")),
    ("dispute", 1.0, _P(r"(?:チャージバック|カード会社|銀行に)")),
    ("fraud", 2.0, _P(r"(?:不正(?:利用|請求)?|身に覚えのない|身に覚えがない)")),
    # --- modifiers --------------------------------------------------------------------------
    ("refund", 1.0, _P(r"\b(?:refund\w*|refnd|money back|reimburs\w*|reverse\w*|reembols\w*|devolver|devuelvan|"
                       r"erstatt\w*|geld zuruck|rembours\w*)\b")),
    ("dispute", 1.0, _P(r"\b(?:chargeback|dispute\w*|(?:my|the) bank|card company|bank sided)\b")),
    ("fraud", 2.0, _P(r"\b(?:fraud\w*|stolen|without (?:my )?permission|don'?t know who|someone used)\b")),
)
_NEGATION = _P(r"(?:\b(?:not|no|nothing(?: is)?|never|nor|neither|without|kein\w*|nicht|pas|ni|nunca|jamais|isn'?t|"
               r"aren'?t)\b|n't\b)\W*(?:\w+\W+){0,1}$")
#: Japanese negation follows what it negates, after a particle or a few kana: ではない, じゃない,
#: ではありません, (し)ていません, なかった
_JA_NEGATION = _P(r"(?:[はがもをに]|で|って)?[^。、!?！？.,]{0,4}?(?:ではな|じゃな|ありませ|ていな|ていませ|ません|ない|なかった|なく)")
#: "don't want a refund", "not asking for a refund": a wish refused a few words before it
#: ("didn't get a refund" still asks for one, so only words of wanting count)
_NOT_WANTED = _P(r"\b(?:don'?t|do not|doesn'?t|does not|not|never|no longer)\s+(?:really\s+)?"
                 r"(?:want|need|asking|ask|looking|expect|interested)\w*(?:\s+\w+){0,2}\s*$")
_WISHES = {"refund"}
_FEEDS = {"unused_seats": "team_seats", "seat_increase": "team_seats", "deliberate": "team_seats"}
_NO_NEGATION = {"missing_self_serve", "deliberate", "fraud"}  # their patterns carry the negation themselves
#: Bare control words a refusal before them turns against self-serve ("I don't want to cancel, I want to pause").
_REFUSABLE = {_CANCEL_WORDS, _PAUSE_WORDS}
#: A trust break (broken promise, misleading advertising, a price rise or fee nobody announced, support that never
#: answers): product-failure wording, flagged ``trust_break`` so the evidence can say so.
_TRUST = {_TRUST_RISE, _TRUST_WORDS, _TRUST_JA_RISE, _TRUST_JA}
#: The notice not given inside a price-rise phrase: the words belong to the trust break, not to a renewal the
#: customer did not expect (self-serve).
_SPANS_OVER = {_TRUST_RISE: "missing_self_serve", _TRUST_JA_RISE: "missing_self_serve"}


def _vocabulary() -> Vocabulary:
    r"""The words the lexicon's patterns spell out (``cancel``, ``team``, ``person``, ``refund``...),
    and the stems it matches with any ending (``cancel\w*``): the toolkit's billing vocabulary."""
    sources = [p.pattern for _, _, p in _CONCEPTS] + [_NEGATION.pattern, _NOT_WANTED.pattern]
    text = " ".join(sources)
    stems = re.findall(r"(?<![a-z\\])([a-z]+)\\w[*+]", text)
    words = re.findall(r"[a-z]+", re.sub(r"\\[A-Za-z]", " ", text))
    return vocabulary(words, stems)


#: The lexicon's words and stems: a customer's name part that is one of them ("Cancel" of "Cara
#: Cancel") is an ordinary billing word on its own, not masked as the customer (reading.pii).
VOCABULARY: Vocabulary = _vocabulary()


def case_words(snapshot: CaseSnapshot | None = None) -> Vocabulary:
    """The words a case itself uses: the lexicon's and its catalogue's (product names, price
    nicknames). Every masking of a case's text is given these, so a lone name part is read the
    same way in the complaint, the snapshot, the record and the scan."""
    return VOCABULARY if snapshot is None else merge(VOCABULARY, snapshot.catalogue_words())


@dataclass(frozen=True)
class Hit:
    concept: str
    words: str
    weight: float
    negated: bool = False


@dataclass(frozen=True)
class TextSignals:
    """Per-intent lexicon scores and the hits behind them; modifiers as booleans."""

    scores: dict[str, float]
    hits: tuple[Hit, ...] = ()
    flags: frozenset[str] = field(default_factory=frozenset)

    def words(self, concept: str, *, negated: bool = False) -> list[str]:
        return list(dict.fromkeys(h.words for h in self.hits if h.concept == concept and h.negated == negated))

    def has(self, flag: str) -> bool:
        return flag in self.flags


def read_text(text: str) -> TextSignals:
    """Score the complaint: each concept's non-overlapping hits, negated ones subtracted."""
    norm = normalise(text)
    scores = {intent: 0.0 for intent in INTENTS}
    hits: list[Hit] = []
    taken: dict[str, list[tuple[int, int]]] = {}
    covered: dict[str, list[tuple[int, int]]] = {}  # spans another concept's phrase owns (see _SPANS_OVER)
    trust = False
    at: dict[int, tuple[int, int]] = {}  # id(hit) -> its span
    for concept, weight, pattern in sorted(_CONCEPTS, key=lambda c: -c[1]):  # strongest pattern first
        spans = taken.setdefault(concept, [])
        for m in pattern.finditer(norm):
            if any(m.start() < e and s < m.end() for s, e in spans):
                continue
            spans.append((m.start(), m.end()))
            if pattern in _SPANS_OVER:
                covered.setdefault(_SPANS_OVER[pattern], []).append((m.start(), m.end()))
            before = norm[max(0, m.start() - 24):m.start()]
            if _CJK_CHAR.search(m.group(0)):  # Japanese negates after the word: 二重請求ではありません
                # しか + a negative verb is "only" (2人しか使っていません: only two use it), not a negation
                negated = concept not in _NO_NEGATION and bool(_JA_NEGATION.match(norm, m.end())) \
                    and not norm.startswith("しか", m.end())
            else:
                negated = concept not in _NO_NEGATION and bool(_NEGATION.search(before)) \
                    and not _NEGATION.match(m.group(0))
            if concept in _WISHES and not negated:
                negated = bool(_NOT_WANTED.search(norm[max(0, m.start() - 48):m.start()]))
            if pattern in _REFUSABLE:
                negated = bool(_REFUSED.search(norm[max(0, m.start() - 60):m.start()]))
            trust = trust or (pattern in _TRUST and not negated)
            hits.append(hit := Hit(concept, m.group(0), weight, negated))
            at[id(hit)] = (m.start(), m.end())
    # a payment failure is not a product failure: drop bare "fail" hits inside a payment phrase
    pay = [(norm.find(h.words), len(h.words)) for h in hits if h.concept == "failed_payment" and not h.negated]
    kept: list[Hit] = []
    for h in hits:
        if h.concept == "product_failure" and h.words.startswith("fail") and pay:
            start = norm.find(h.words)
            if any(s <= start < s + n for s, n in pay):
                continue
        start, end = at[id(h)]
        if any(s <= start and end <= e for s, e in covered.get(h.concept, ())):
            continue
        kept.append(h)
    flags = {"trust_break"} if trust else set()
    for h in kept:
        if h.concept in scores:
            scores[h.concept] += -0.5 * h.weight if h.negated else h.weight
        elif not h.negated:
            flags.add(h.concept)
            if h.concept in _FEEDS:
                scores[_FEEDS[h.concept]] += h.weight / 2
        if h.negated and h.concept == "duplicate_subscription":
            flags.add("not_duplicate")
        if h.negated and h.concept == "product_failure":
            flags.add("not_broken")
    return TextSignals({k: round(max(v, 0.0), 3) for k, v in scores.items()}, tuple(kept), frozenset(flags))


_SINCE = _P(r"\b((?:ever )?since [^.,;!?()]{2,40}|for (?:the (?:last|past) )?(?:\d+|a|an|one|two|three|four|five|six|a few|"
            r"several) (?:hours?|days?|weeks?|months?)|(?:desde|seit|depuis) [^.,;!?()]{2,30})", re.I)
_TRAIL = {"and", "it", "been", "did", "does", "do", "has", "have", "had", "is", "are", "was", "were", "that", "which",
          "just", "still", "always", "completely", "now", "again", "keeps", "keep", "simply", "totally", "they", "we"}
_LEAD = _P(r"^(?:and|but|so|then|also|now|hi|hello|hey|ok|well|sadly|unfortunately)\b\W*", re.I)


def failure_report(text: str) -> tuple[str, str, str | None]:
    """(what failed, the words that say so, since when) from a product-failure complaint.

    What failed is the few words before the first failure phrase in its clause ("the sync
    feature" in "The sync feature has not worked since your last update").
    """
    norm = normalise(text)
    hits = [h for h in read_text(text).hits if h.concept == "product_failure" and not h.negated]
    since_m = _SINCE.search(text or "")
    since = since_m.group(1).strip() if since_m else None
    if not hits:
        return "not named in the complaint", "", since
    first = min(hits, key=lambda h: norm.find(h.words))
    at = norm.find(first.words)
    clause = re.split(r"[.,;:!?()]| - ", norm[:at])[-1].strip()
    words = clause.split()[-6:]
    while words and words[-1] in _TRAIL:
        words.pop()
    while words and words[0] in ("for", "with", "and", "but", "so", "that", "because"):
        words.pop(0)
    subject = _LEAD.sub("", " ".join(words)).strip()
    return (subject or "the product"), first.words, since
