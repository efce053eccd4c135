"""Complaint wording as weighted concepts, in English, Spanish, German and French.

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
_CANT = r"(?:can'?t|cannot|couldn'?t|could not|unable to|no way to|not able to|how(?: on earth| the hell| exactly)? (?:do|can|would) (?:i|we)|how to|" \
        r"where (?:do|can|is|are) (?:i|we)?|tried to|trying to|no option to|(?:does|did|do|would|will)n'?t let (?:me|us)|" \
        r"there'?s no|there is no|nothing (?:in|on)|no option)"
_SS_VERB = r"(?:get out of|opt out|leave|quit|cancel\w*|cancle|unsubscrib\w*|downgrad\w*|stop\w*|end|pause|turn off|close|switch\w*|change (?:plans?|my plan)|" \
           r"find\w*|download\w*|see (?:the|what|my|how|where|anything)|figure out|do it (?:myself|ourselves))"

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
    ("missing_self_serve", 2.0, _P(r"\b(?:no option (?:for|to)|shows no option|no (?:button|link|page) (?:for|to)|"
                                   r"without (?:emailing|contacting|calling|writing to) (?:you|support|us)|"
                                   r"(?:myself|ourselves)\b|thought (?:my |the )?(?:trial|it) would (?:just )?end|"
                                   r"cancel\w* (?:button|option|link|page)|no (?:\w+ )?cancel\w*|cancel option|"
                                   r"self[- ]?serv\w*|auto[- ]?renew\w*|(?:stop|end) (?:the )?automatic renewal)\b")),
    ("missing_self_serve", 0.8, _P(r"\b(?:cancel\w*|unsubscrib\w*|portal|stop charging|stop billing|close my account)\b")),
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
    # --- product failure ------------------------------------------------------------------
    ("product_failure", 2.5, _P(r"\b(?:has ?n[o']t worked|have ?n[o']t worked|not worked|never worked|stopped (?:working|"
                                r"syncing|sending|firing|loading)|doesn'?t work|don'?t work|didn'?t work|does not work|"
                                r"not working|isn'?t working|won'?t (?:open|load|start|work)|no longer works?|just doesn'?t|"
                                r"it doesnt work|stopped completely|returns nothing|(?:haven'?t|hasn'?t|have not|has not|not) come through|"
                                r"nothing (?:has )?(?:synced|syncs|loads|works|happens|arrives)|does nothing|do(?:es)?n'?t do anything|"
                                r"(?:i'?m|we'?re|am|are|is|isn'?t|aren'?t) not (?:getting|receiving)|not (?:getting|receiving) "
                                r"(?:any|the|my|our)|(?:404|500|502|503|504)s?)\b")),
    ("product_failure", 2.5, _P(r"\b(?:never (?:arrive\w*|came|come|show\w*|ran|run|delivered|connected|get sent|sent|loads?|"
                                r"reach\w*|work\w*|load\w*|sync\w*|finish\w*|complete\w*)|stopped \w+ing|"
                                r"(?:can'?t|cannot|unable to|could ?n'?t|can no longer) (?:log ?in|sign ?in|log on|access|open|load|"
                                r"connect|sync|save|export|import|upload)|"
                                r"(?:lost|deleted|wiped|erased) (?:all )?(?:of )?(?:my|our|the) (?:\w+ )?(?:data|notes|files|work|"
                                r"projects?|documents?|history|contacts|settings|drafts?)|disappeared|vanished|"
                                r"(?:not|aren'?t|isn'?t) (?:arriving|being delivered|delivered|syncing|loading|available|sent)|"
                                r"haven'?t (?:come|arrived)|have not arrived|(?:never|not) get sent)\b")),
    ("product_failure", 2.0, _P(r"\b(?:broken|brokn|broke|crash\w*|freez\w*|errors?|error \d+|bug\w*|outage|down (?:for|since|"
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
    # --- Japanese (no spaces, so no \b; a verb's negation follows it: 動かない, できません) ----------
    ("duplicate_subscription", 2.0, _P(r"(?:二重|2重|重複)(?:に)?(?:請求|課金|払い|決済|引き落とし|登録|契約)|"
                                       r"(?:2|二)(?:回|度)(?:も)?(?:請求|課金|引き落と|支払)|(?:2|二)つの(?:サブスク\w{0,6}|契約|プラン)")),
    ("team_seats", 1.5, _P(r"(?:席|シート|ライセンス|ユーザー数|人数|メンバー|アカウント数|ユーザー分|(?<![\d一二三四五六七八九十])(?:\d+|[一二三四五六七八九十]+)人分?)")),  # a count read from its first digit: linear
    ("deliberate", 2.0, _P(r"(?:両方(?:とも)?(?:必要|使って)|重複ではな|意図的|わざと|(?:2|二|複数)つの(?:部署|チーム)|部署ごと)")),
    ("unused_seats", 2.0, _P(r"(?:使っていない|使われていない|減らしたい|減らして|退職)")),
    ("failed_payment", 2.0, _P(r"(?:支払い|決済|引き落とし|カード|更新)[^。、]{0,6}?(?:失敗|できませんでした|できなかった|"
                               r"拒否|通らな|通りませ|エラー)|未払い|有効期限(?:が)?切れ|カード(?:が|を)?(?:更新|変更)")),
    ("missing_self_serve", 2.5, _P(r"(?:解約|キャンセル|退会|停止|ダウングレード|プラン(?:の)?変更|領収書|請求書)[^。、]{0,8}?"
                                   r"(?:見つか(?:らな|らず|りませ)|わから(?:な|ず)|分から(?:な|ず)|でき(?:な|ませ)|ありませ|どこ)")),
    ("missing_self_serve", 2.0, _P(r"(?:勝手に|知らないうちに|無断で|予告なく|連絡なく)|(?:更新|請求|課金)(?:される|された)(?:とは|なんて)|"
                                   r"(?:無料|お試し)(?:トライアル|体験|期間)[^。]{0,16}?(?:請求|課金|引き落と)|自動(?:更新|継続|課金)")),
    ("missing_self_serve", 0.8, _P(r"(?:解約|キャンセル|退会)")),
    ("product_failure", 2.5, _P(r"(?:動かな|動きませ|使えな|使えませ|機能しな|起動しな|ログインでき(?:な|ませ)|同期(?:され|し|でき)(?:な|ませ)|"
                                r"表示され(?:な|ませ)|届かな|届きませ|不具合|バグ|クラッシュ|落ちる|壊れ|エラーが(?:出|発生))")),
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
    for concept, weight, pattern in sorted(_CONCEPTS, key=lambda c: -c[1]):  # strongest pattern first
        spans = taken.setdefault(concept, [])
        for m in pattern.finditer(norm):
            if any(m.start() < e and s < m.end() for s, e in spans):
                continue
            spans.append((m.start(), m.end()))
            before = norm[max(0, m.start() - 24):m.start()]
            if _CJK_CHAR.search(m.group(0)):  # Japanese negates after the word: 二重請求ではありません
                negated = concept not in _NO_NEGATION and bool(_JA_NEGATION.match(norm, m.end()))
            else:
                negated = concept not in _NO_NEGATION and bool(_NEGATION.search(before)) \
                    and not _NEGATION.match(m.group(0))
            if concept in _WISHES and not negated:
                negated = bool(_NOT_WANTED.search(norm[max(0, m.start() - 48):m.start()]))
            hits.append(Hit(concept, m.group(0), weight, negated))
    # a payment failure is not a product failure: drop bare "fail" hits inside a payment phrase
    pay = [(norm.find(h.words), len(h.words)) for h in hits if h.concept == "failed_payment" and not h.negated]
    kept: list[Hit] = []
    for h in hits:
        if h.concept == "product_failure" and h.words.startswith("fail") and pay:
            at = norm.find(h.words)
            if any(s <= at < s + n for s, n in pay):
                continue
        kept.append(h)
    flags = set()
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
