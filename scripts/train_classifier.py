"""Train the shipped intent model on the development part of the complaint corpus.

Usage: python scripts/train_classifier.py [--corpus tests/data/complaints.jsonl tests/data/paraphrases.jsonl] [--out PATH]

Pure Python (no scikit-learn needed): a multinomial naive-Bayes model over word stems,
stem bigrams and character trigrams, labelled with each row's ``intent`` (what the text
says on its own). Only ``split == "dev"`` rows are used (of the complaint corpus and of the
session-9 paraphrases), so both held-out parts stay an honest test. The JSON it writes is deterministic (sorted keys, rounded log-probabilities).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from billing_nb.analysis.textmodel import MODEL_PATH, NaiveBayes

ROOT = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, nargs="+",
                    default=[ROOT / "tests" / "data" / "complaints.jsonl", ROOT / "tests" / "data" / "paraphrases.jsonl"])
    ap.add_argument("--out", type=Path, default=MODEL_PATH)
    args = ap.parse_args(argv)
    rows = [json.loads(line) for path in args.corpus for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip()]
    dev = [r for r in rows if r["split"] == "dev"]
    model = NaiveBayes.train([r["text"] for r in dev], [r["intent"] for r in dev])
    args.out.write_text(json.dumps(model.as_json(), sort_keys=True, separators=(",", ":")) + "\n", encoding="utf-8")
    print(f"trained on {len(dev)} development complaints -> {args.out} ({args.out.stat().st_size // 1024} KiB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
