"""The account commands: ``billing-nb sync``, ``billing-nb metrics NAME``, ``billing-nb sweep``.

Kept here (``cli.py`` only adds them) so the account-wide work stays in one package.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from ..exceptions import BadInputError
from .queries import METRICS

__all__ = ["add_account_commands", "run_account_command", "ACCOUNT_COMMANDS"]

ACCOUNT_COMMANDS = ("sync", "metrics", "sweep")
_DB_HELP = "the account store (default: .billing-nb/account.duckdb in the current folder)"


def _rate(value: str) -> float:
    try:
        rate = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--rate-limit must be a number of requests per second, not {value!r}") from None
    if rate < 0:
        raise argparse.ArgumentTypeError("--rate-limit must be 0 (no limit) or more")
    return rate


def add_account_commands(sub: Any) -> None:
    """Add the three subcommands to ``billing-nb``'s subparsers."""
    sync = sub.add_parser("sync", help="copy the whole account into a local DuckDB store (resumable, incremental)",
                          description="Read every customer, product, price, subscription, invoice, charge, refund, "
                          "credit note and dispute into Sigma-shaped tables, PII masked. A second run reads only what "
                          "was created or changed since (by events); an interrupted run resumes where it stopped.")
    sync.add_argument("--db", type=Path, help=_DB_HELP)
    sync.add_argument("--rate-limit", type=_rate, default=25.0, metavar="N",
                      help="requests per second, all lists together (default 25, Stripe's test-mode limit; "
                           "100 for live; 0 for none)")
    sync.add_argument("--full", action="store_true", help="read everything again instead of what changed")
    sync.add_argument("--no-progress", action="store_true", help="no progress bars")

    metrics = sub.add_parser("metrics", help="print an account metric computed in SQL over the store",
                             description="MRR, movements, plan/interval mix, conversion, seats, churn, retention, "
                             "dunning and refunds, from the store `billing-nb sync` fills.")
    metrics.add_argument("name", choices=METRICS, metavar="NAME", help=", ".join(METRICS))
    metrics.add_argument("--db", type=Path, help=_DB_HELP)
    metrics.add_argument("--json", action="store_true", help="a JSON array of rows (money in integer minor units)")

    sweep = sub.add_parser("sweep", help="find the account's problems and write a batch file of cases",
                           description="Duplicate live subscriptions and customers, past_due/unpaid subscriptions, "
                           "failing default cards, open disputes, renewals charged just before a cancellation: one "
                           "JSON line per case ({lookup, reason, suggested bucket}) for `billing-nb batch`.")
    sweep.add_argument("--db", type=Path, help=_DB_HELP)
    sweep.add_argument("--out", type=Path, help="the batch file (default: print the lines)")


def _bars(enabled: bool) -> tuple[Any, list[Any]]:
    from tqdm import tqdm

    bars: list[Any] = []

    def bar(kind: str) -> Any:
        made = tqdm(desc=f"{kind:>14}", unit=" obj", position=len(bars), leave=True, disable=not enabled,
                    file=sys.stderr, dynamic_ncols=True)
        bars.append(made)
        return made

    return bar, bars


def _sync(args: argparse.Namespace) -> int:
    from ..config import load_settings
    from ..reading.provider import StripeReader, make_client
    from ..records.console import print_table
    from .store import open_store
    from .sync import source_of, sync_account

    settings = load_settings()
    reader = StripeReader(make_client(settings))
    bar, bars = _bars(not args.no_progress and sys.stderr.isatty())
    with open_store(args.db) as store:
        try:
            result = sync_account(reader, store, rate_limit=args.rate_limit or None, progress=bar, full=args.full,
                                  source=source_of(settings.api_key, settings.api_base))
        finally:
            for made in bars:
                made.close()
        counts = store.counts()
    print_table([{"table": t, "rows": n} for t, n in counts.items()])
    rate = result.requests / result.seconds if result.seconds else 0.0
    print(f"{result.mode} sync -> {store.path}: {sum(result.saved.values())} listed, {result.refreshed} refreshed "
          f"from events, {result.requests} requests in {result.seconds:.1f} s ({rate:.1f}/s)")
    return 0


def _metrics(args: argparse.Namespace) -> int:
    from ..records.console import print_table
    from .metrics import DuckEngine, formatted, metric_json, run_metric
    from .store import open_store

    with open_store(args.db, read_only=True) as store:
        frame = run_metric(DuckEngine(store.con), args.name)
    if args.json:
        print(metric_json(frame))
    else:
        rows = formatted(args.name, frame).to_dict(orient="records")
        if rows:
            print_table(rows)
        else:
            print(f"no rows for {args.name}: is the store empty? (run `billing-nb sync`)")
    return 0


def _sweep(args: argparse.Namespace) -> int:
    from .store import open_store
    from .sweep import batch_lines, sweep

    with open_store(args.db, read_only=True) as store:
        found = sweep(store)
    lines = batch_lines(found)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text("".join(line + "\n" for line in lines))
        print(f"{len(lines)} case(s) -> {args.out}; run them with `billing-nb batch {args.out}`")
    else:
        for line in lines:
            print(line)
    return 0


def run_account_command(args: argparse.Namespace) -> int:
    """Run ``sync``, ``metrics`` or ``sweep``."""
    handlers = {"sync": _sync, "metrics": _metrics, "sweep": _sweep}
    if args.command not in handlers:
        raise BadInputError(f"unknown account command {args.command}")
    return handlers[args.command](args)
