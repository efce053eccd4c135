"""Classifier benchmark: accuracy and confusion matrix on the held-out complaint corpus.

Each row's described billing state is built into a real snapshot (tests/fixtures/corpus.py)
and run through identify + classify, exactly as a case would. Prints accuracy per split,
the held-out confusion matrix, per-language accuracy and the median time per complaint.
Usage: python benchmarks/classifier.py [--split heldout|dev|all] [--corpus complaints|paraphrases] [--errors]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from billing_nb.analysis.classify import Bucket, classify  # noqa: E402
from billing_nb.analysis.identify import identify  # noqa: E402
from tests.fixtures.corpus import rows, snapshot_for  # noqa: E402

_SHORT = {"duplicate_subscription": "dup", "team_seats": "team", "failed_payment": "failed",
          "missing_self_serve": "selfserve", "product_failure": "product", "unclear": "unclear"}


def evaluate(split: str | None, corpus: str = "complaints") -> tuple[list[tuple[dict[str, Any], str]], list[float]]:
    out, times = [], []
    for row in rows(split, corpus):
        snap = snapshot_for(row["state"])
        start = time.perf_counter()
        got = classify(snap, identify(snap), row["text"]).suggested.value
        times.append((time.perf_counter() - start) * 1000)
        out.append((row, got))
    return out, times


def confusion(results: list[tuple[dict[str, Any], str]]) -> str:
    labels = [b.value for b in Bucket]
    counts = Counter((r["bucket"], got) for r, got in results)
    head = "expected \\ got".ljust(16) + "".join(_SHORT[b].rjust(10) for b in labels)
    lines = [head] + [_SHORT[e].ljust(16) + "".join(str(counts[(e, g)]).rjust(10) for g in labels) for e in labels]
    return "\n".join(lines)


def report(split: str = "heldout", errors: bool = False, corpus: str = "complaints") -> float:
    results, times = evaluate(None if split == "all" else split, corpus)
    right = sum(r["bucket"] == got for r, got in results)
    accuracy = right / len(results)
    print(f"classifier on the {split} {corpus} corpus: {right}/{len(results)} = {accuracy:.1%} "
          f"(median {statistics.median(times):.2f} ms per complaint incl. identify)")
    print(confusion(results))
    langs = Counter(r["lang"] for r, _ in results)
    ok = Counter(r["lang"] for r, got in results if r["bucket"] == got)
    print("by language: " + ", ".join(f"{lang} {ok[lang]}/{n}" for lang, n in sorted(langs.items())))
    subs = Counter(r["sub"] for r, _ in results if "sub" in r)
    if subs:
        sub_ok = Counter(r["sub"] for r, got in results if "sub" in r and r["bucket"] == got)
        print("by sub-intent: " + ", ".join(f"{s} {sub_ok[s]}/{n}" for s, n in sorted(subs.items())))
    if errors:
        for r, got in results:
            if r["bucket"] != got:
                print(f"  {r['id']} expected {r['bucket']} got {got} [{r['state']['preset']}]: {r['text'][:90]}")
    return accuracy


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--split", default="heldout", choices=("heldout", "dev", "all"))
    ap.add_argument("--corpus", default="complaints", choices=("complaints", "paraphrases"))
    ap.add_argument("--errors", action="store_true")
    args = ap.parse_args(argv)
    report(args.split, args.errors, args.corpus)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
