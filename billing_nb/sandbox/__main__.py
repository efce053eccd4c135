"""``python -m billing_nb.sandbox serve --port P``: the process ``start`` launches."""

from __future__ import annotations

import argparse
from pathlib import Path

from .app import Knobs
from .server import serve


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m billing_nb.sandbox")
    sub = parser.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("serve")
    s.add_argument("--port", type=int, default=12111)
    s.add_argument("--state", type=Path)
    s.add_argument("--latency-ms", type=int, default=0)
    s.add_argument("--rate-limit", type=float, default=0.0)
    s.add_argument("--fail-rate", type=float, default=0.0)
    args = parser.parse_args()
    serve(args.port, state=args.state,
          knobs=Knobs(latency_ms=args.latency_ms, rate_limit=args.rate_limit, fail_rate=args.fail_rate))


if __name__ == "__main__":
    main()
