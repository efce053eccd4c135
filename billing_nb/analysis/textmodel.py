"""What the complaint text says, behind a small interface a team can replace.

:class:`IntentModel` is the seam: anything with ``read(text) -> IntentReading`` can be
passed to :func:`billing_nb.analysis.classify.classify` (a team's own model, a stub in a
test). The default, :class:`BlendedModel`, adds two readings: the multilingual lexicon
(:mod:`billing_nb.analysis.lexicon`, which names the words it matched and handles
negation) and a multinomial naive-Bayes model over word stems and character trigrams,
trained on the development parts of ``tests/data/complaints.jsonl`` and
``tests/data/paraphrases.jsonl`` by
``scripts/train_classifier.py`` and shipped as ``intent_model.json`` next to this module.
Both are plain Python, offline, deterministic and take well under a millisecond.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from .lexicon import CJK, INTENTS, TextSignals, normalise, read_text

__all__ = ["IntentModel", "IntentReading", "NaiveBayes", "BlendedModel", "MODEL_PATH", "features", "default_model"]

MODEL_PATH = Path(__file__).with_name("intent_model.json")
_WORD = re.compile(r"[a-z0-9']+")
_CJK_RUN = re.compile(f"[{CJK}]+")


@dataclass(frozen=True)
class IntentReading:
    """Scores per intent (higher = more likely), the lexicon's signals, and evidence lines.

    ``set_aside`` holds (intent, line) for what the model read toward an intent and then
    discounted (a lean on words the complaint negates): such a line argues *against* that
    intent, so the classifier files it with the evidence against when it suggests it. The
    words the complaint negates are not evidence lines: they are in ``signals`` (negated hits),
    and the classifier files them by the bucket it suggests.
    """

    scores: dict[str, float]
    signals: TextSignals
    evidence: tuple[str, ...] = ()
    probabilities: dict[str, float] = field(default_factory=dict)
    set_aside: tuple[tuple[str, str], ...] = ()

    def top(self) -> str:
        return max(INTENTS, key=lambda i: (self.scores.get(i, 0.0), -INTENTS.index(i)))


@runtime_checkable
class IntentModel(Protocol):
    """A reader of complaint text: the one method the classifier calls."""

    def read(self, text: str) -> IntentReading: ...


def features(text: str) -> list[str]:
    """Word stems (first 6 letters), stem bigrams and character trigrams of each word; in kana/CJK
    text, which has no spaces to split words on, character bigrams of each run (``j:解約``)."""
    norm = normalise(text)
    words = _WORD.findall(norm)
    stems = [w[:6] for w in words]
    out = [f"w:{s}" for s in stems]
    out += [f"b:{a}_{b}" for a, b in zip(stems, stems[1:])]
    for w in words:
        padded = f"_{w}_"
        out += [f"c:{padded[i:i + 3]}" for i in range(len(padded) - 2)]
    for run in _CJK_RUN.findall(norm):
        out += [f"j:{run[i:i + 2]}" for i in range(max(1, len(run) - 1))]
    return out


class NaiveBayes:
    """Multinomial naive Bayes with Laplace smoothing; log-probabilities stored as JSON."""

    def __init__(self, priors: dict[str, float], logp: dict[str, dict[str, float]], unseen: dict[str, float],
                 trained_on: int = 0) -> None:
        self.priors, self.logp, self.unseen, self.trained_on = priors, logp, unseen, trained_on

    @classmethod
    def train(cls, texts: list[str], labels: list[str], alpha: float = 0.5) -> NaiveBayes:
        counts: dict[str, dict[str, int]] = {c: {} for c in INTENTS}
        docs = {c: 0 for c in INTENTS}
        vocab: set[str] = set()
        for text, label in zip(texts, labels):
            docs[label] += 1
            for f in features(text):
                counts[label][f] = counts[label].get(f, 0) + 1
                vocab.add(f)
        total = sum(docs.values())
        priors = {c: math.log((docs[c] + 1) / (total + len(INTENTS))) for c in INTENTS}
        logp: dict[str, dict[str, float]] = {}
        unseen: dict[str, float] = {}
        for c in INTENTS:
            denom = sum(counts[c].values()) + alpha * (len(vocab) + 1)
            unseen[c] = round(math.log(alpha / denom), 4)
            logp[c] = {f: round(math.log((n + alpha) / denom), 4) for f, n in sorted(counts[c].items())}
        return cls(priors, logp, unseen, total)

    def as_json(self) -> dict[str, Any]:
        return {"kind": "multinomial_naive_bayes", "features": "word stems (6), stem bigrams, char trigrams",
                "trained_on": self.trained_on, "priors": self.priors, "unseen": self.unseen, "logp": self.logp}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> NaiveBayes:
        return cls(data["priors"], data["logp"], data["unseen"], int(data.get("trained_on", 0)))

    def posterior(self, text: str) -> tuple[dict[str, float], list[str]]:
        """Probabilities per intent (tempered by the feature count) and the most telling words."""
        feats = features(text)
        if not feats:
            return {c: 1.0 / len(INTENTS) for c in INTENTS}, []
        raw = {c: self.priors[c] + sum(self.logp[c].get(f, self.unseen[c]) for f in feats) for c in INTENTS}
        scale = math.sqrt(len(feats))
        top = max(raw.values())
        exp = {c: math.exp((v - top) / scale) for c, v in raw.items()}
        z = sum(exp.values())
        probs = {c: exp[c] / z for c in INTENTS}
        best = max(INTENTS, key=lambda c: probs[c])
        words = [f[2:] for f in feats if f.startswith("w:")]
        telling = sorted(set(words), key=lambda w: -(self.logp[best].get(f"w:{w}", self.unseen[best])
                                                    - max(self.logp[c].get(f"w:{w}", self.unseen[c]) for c in INTENTS
                                                          if c != best)))
        return probs, telling[:3]


@lru_cache(maxsize=1)
def _shipped() -> NaiveBayes | None:
    if not MODEL_PATH.is_file():
        return None
    return NaiveBayes.from_json(json.loads(MODEL_PATH.read_text(encoding="utf-8")))


class BlendedModel:
    """Lexicon score + ``weight`` x the naive-Bayes probability, per intent."""

    def __init__(self, nb: NaiveBayes | None = None, weight: float = 2.0, *, use_nb: bool = True) -> None:
        self.nb = (nb or _shipped()) if use_nb else None
        self.weight = weight

    def read(self, text: str) -> IntentReading:
        signals = read_text(text)
        scores = dict(signals.scores)
        evidence: list[str] = []
        for intent in INTENTS[:-1]:
            words = signals.words(intent)
            if words:
                evidence.append(f"complaint words for {intent}: " + ", ".join(f"'{w}'" for w in words[:4]))
        denied = {i for i in INTENTS[:-1] if signals.words(i, negated=True) and not signals.words(i)}
        set_aside: list[tuple[str, str]] = []
        probs: dict[str, float] = {}
        if self.nb is not None and text.strip():
            probs, telling = self.nb.posterior(text)
            for intent in INTENTS:
                scores[intent] = scores.get(intent, 0.0) + self.weight * probs[intent]
            best = max(INTENTS, key=lambda c: probs[c])
            line = (f"text model ({self.nb.trained_on} labelled complaints) leans {best} "
                    f"(p={probs[best]:.2f})" + (f" on {', '.join(repr(w) for w in telling)}" if telling else ""))
            if best in denied:  # it read the very words the customer negates: not a reading for it
                set_aside.append((best, line + f", set aside: the complaint negates its {best} words"))
            else:
                evidence.append(line)
        for intent in denied:  # the customer said it is *not* this: the model may not bring it back
            scores[intent] = 0.0
        return IntentReading({k: round(v, 3) for k, v in scores.items()}, signals, tuple(evidence), probs,
                             tuple(set_aside))


@lru_cache(maxsize=1)
def default_model() -> BlendedModel:
    """The shipped model (lexicon + naive Bayes), built once per process."""
    return BlendedModel()
