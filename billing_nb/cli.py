"""``billing-nb``: cases, batches, the demo, scans, the casebook and the sandbox.

Exit codes: 0 done, 2 bad input, 3 Stripe error, 4 needs confirmation, 5 PII in clear (scan).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from .exceptions import BillingNbError
from .records.console import print_table

__all__ = ["main", "build_parser", "run_report", "REPORTS", "BUCKETS", "STATUSES"]

#: The account-wide notebooks ``billing-nb report`` runs.
REPORTS = ("portfolio", "portal", "casebook")
#: The buckets --bucket accepts: analysis.classify.Bucket's values, spelled out here so that a
#: bad one is refused by the parser before the analysis stack is even imported (a test keeps
#: the two lists equal).
BUCKETS = ("duplicate_subscription", "team_seats", "failed_payment", "missing_self_serve", "product_failure",
           "unclear")
#: The casebook's work queue, in the order it is worked.
STATUSES = ("pending", "failed", "interrupted", "done")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="billing-nb",
        description="Investigate customer billing cases on Stripe with parameterised notebooks. "
        "The key comes from STRIPE_API_KEY; STRIPE_API_BASE points at the local sandbox.",
        epilog="Exit codes: 0 done, 2 bad input, 3 Stripe error, 4 needs confirmation, 5 PII in clear (scan).",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    case = sub.add_parser("case", help="run the case notebook for one customer",
                          description="Resolve LOOKUP (email, cus_/sub_/in_/ch_/pi_/cs_ id, or metadata:KEY=VALUE), "
                          "run notebooks/case.ipynb unattended, and write the record folder.")
    case.add_argument("lookup", help="email, Stripe id, metadata:KEY=VALUE, or a record folder to re-run "
                      "(its customer and saved complaint)")
    case.add_argument("--complaint", default="", help="the customer's complaint (masked before it is saved)")
    case.add_argument("--bucket", choices=BUCKETS, metavar="BUCKET",
                      help="the confirmed bucket (" + ", ".join(BUCKETS) + "); without it the case stays pending")
    # extend: `--approve A --approve B` approves both (a plain nargs="*" kept only the last flag's ids)
    case.add_argument("--approve", nargs="*", action="extend", default=[], metavar="ACTION_ID",
                      help="action ids to execute (repeat the flag or list several); none means a dry run")
    case.add_argument("--json", action="store_true", help="print case.json to stdout")
    case.add_argument("--out", type=Path, help="cases folder (default: ./cases or BILLING_NB_CASES_DIR)")
    case.add_argument("--live", action="store_true", help="allow writes with a live key")
    case.add_argument("--timeout", type=int, default=300, help="per-cell timeout in seconds")

    batch = sub.add_parser("batch", help="run many cases from a JSON-lines file in a process pool",
                           description="Each line: {\"lookup\": ..., \"complaint\": ..., \"bucket\": ..., \"approve\": [...]}.")
    batch.add_argument("file", type=Path, help="JSON-lines file, one case per line (checked whole before any case runs)")
    batch.add_argument("--out", type=Path, help="cases folder (default: ./cases or BILLING_NB_CASES_DIR)")
    batch.add_argument("--workers", type=int, help="parallel cases (default: the number of cores)")

    opened = sub.add_parser(
        "open", help="open a case by hand in JupyterLab: the record folder, its notebook, the lab",
        description="Resolve LOOKUP, create the record folder cases/<YYYY-MM-DD>/<case_id>/ with the case notebook "
                    "parameterised for it, and open JupyterLab on that notebook (when a Jupyter server already "
                    "serves the folder, print its URL instead). Confirm and Execute in the notebook write the "
                    "record; `billing-nb export` finishes it. Given an existing record folder or its case.ipynb, "
                    "reopen that case.")
    opened.add_argument("lookup", help="email, Stripe id, metadata:KEY=VALUE, or an existing record folder to reopen")
    opened.add_argument("--complaint", default="", help="the customer's complaint (masked before it is saved)")
    opened.add_argument("--out", type=Path, help="cases folder (default: ./cases or BILLING_NB_CASES_DIR)")
    opened.add_argument("--no-browser", action="store_true",
                        help="create the record and print the command that opens it, without starting JupyterLab")

    demo = sub.add_parser("demo", help="start the sandbox, seed the demo account, run a case per demo customer")
    demo.add_argument("--out", type=Path, default=Path("cases"), help="cases folder (default: ./cases)")
    demo.add_argument("--no-cases", action="store_true", help="only seed and list the demo customers")

    scan = sub.add_parser("scan", help="report PII or secrets in clear in a file or folder")
    scan.add_argument("path", type=Path, help="a file or a folder (searched recursively)")

    casebook = sub.add_parser("casebook", help="the work queue: cases by status and age, with the command to resume",
                              description="List indexed cases grouped by status (pending, failed, interrupted, done), "
                                          "oldest first within each, with each open case's resume command.")
    casebook.add_argument("--out", type=Path, help="cases folder (default: ./cases or BILLING_NB_CASES_DIR)")
    casebook.add_argument("--json", action="store_true", help="print the rows as JSON instead of a table")
    casebook.add_argument("--status", choices=STATUSES, action="append", metavar="STATUS",
                          help="only cases with this status (" + ", ".join(STATUSES) + "; repeatable)")
    casebook.add_argument("--bucket", choices=BUCKETS, metavar="BUCKET",
                          help="only cases confirmed as (or, when pending, suggested as) this bucket")

    report = sub.add_parser("report", help="run an account notebook (portfolio, portal, casebook) into reports/",
                            description="Execute notebooks/<NAME>.ipynb with papermill and write the executed notebook "
                            "to <out>/<YYYY-MM-DD>/<NAME>-<HHMMSS>.ipynb, then scan it for PII and secrets.")
    report.add_argument("name", choices=REPORTS, help="which notebook: " + ", ".join(REPORTS))
    report.add_argument("--out", type=Path, default=Path("reports"), help="reports folder (default: ./reports)")
    report.add_argument("--cases", type=Path, help="cases folder for the casebook (default: ./cases or BILLING_NB_CASES_DIR)")
    report.add_argument("--max-pages", type=int, default=20, help="pages of 100 objects read per list (portfolio, portal)")
    report.add_argument("--timeout", type=int, default=300, help="per-cell timeout in seconds")

    export = sub.add_parser("export", help="add the handoff cell and handoff.md to a notebook run by hand")
    export.add_argument("notebook", type=Path, help="the record's case.ipynb (or its folder)")

    from .reports.command import add_account_commands

    add_account_commands(sub)

    sandbox = sub.add_parser("sandbox", help="the local Stripe-compatible server (serve, start, stop, reset, status, seed)")
    from .sandbox.cli import add_sandbox_parser

    sandbox_commands = sandbox.add_subparsers(dest="sandbox_command", required=True, metavar="SANDBOX_COMMAND")
    add_sandbox_parser(sandbox_commands)
    seed = sandbox_commands.add_parser(
        "seed", help="build the demo account through the public API",
        description="Create the demo customers, subscriptions, invoices and disputes with the stripe SDK. "
                    "Targets STRIPE_API_BASE/STRIPE_API_KEY when set, else the background sandbox. "
                    "Deterministic and idempotent: re-running it changes nothing.")
    seed.add_argument("--url", help="API base URL (default: STRIPE_API_BASE, else the running sandbox)")
    return parser


def _cmd_case(args: argparse.Namespace) -> int:
    from .config import load_settings
    from .reading.lookup import lookup_kind
    # a record folder re-runs its customer with its complaint; records.queue (which imports the
    # action stack and stripe) loads only when the lookup names a record's case.json on disk
    found = None
    named = Path(args.lookup)
    try:
        on_disk = (named.parent if named.suffix in (".json", ".ipynb") else named).joinpath("case.json").is_file()
    except (OSError, ValueError):  # a name too long for the file system (or with a NUL): not a record
        on_disk = False
    if on_disk:
        from .records.queue import recorded_case

        found = recorded_case(args.lookup)
    if found is not None:
        args.lookup, saved, _ = found
        args.complaint = args.complaint or saved
    lookup_kind(args.lookup)  # bad input fails before the runner (stripe, jupyter) is imported
    from .records.runner import CaseRequest, run_case

    settings = load_settings(live=args.live)
    request = CaseRequest(lookup=args.lookup, complaint=args.complaint, bucket=args.bucket,
                          approve=tuple(dict.fromkeys(args.approve)), live=args.live)
    result = run_case(request, settings=settings, cases_dir=args.out, timeout=args.timeout)
    if args.json:
        print(json.dumps(result.record, indent=2))
        if result.error:  # stdout stays the JSON a script parses; the reason still reaches the terminal
            print(f"error: {result.error}", file=sys.stderr)
    else:
        print(f"case {result.case_id}: {result.status} -> {result.record_dir}")
        if result.error:
            print(f"error: {result.error}", file=sys.stderr)
        cls = result.record.get("classification") or {}
        if result.status == "pending" and cls.get("suggested"):
            print(f"suggested bucket: {cls['suggested']} ({cls.get('confidence', 0):.0%}); nothing is planned to move "
                  f"money until a bucket is confirmed: re-run with --bucket {cls['suggested']} (or another bucket)",
                  file=sys.stderr)
        elif result.status == "done" and result.record.get("plan") and not result.record.get("executed"):
            ids = " ".join(a["id"] for a in result.record["plan"])
            print(f"dry run: to carry out the plan, re-run with --approve {ids} (any subset)", file=sys.stderr)
    return result.exit_code


def _batch_requests(path: Path) -> tuple[list[Any], list[str]]:
    """The batch file's requests, and one ``FILE:LINE: cause`` per bad line (those are skipped)."""
    from .exceptions import BadInputError, StorageError
    from .records.runner import CaseRequest

    try:
        text = path.read_text()
    except FileNotFoundError:
        raise BadInputError(f"{path}: no such batch file") from None
    except (OSError, UnicodeDecodeError) as err:
        if isinstance(err, UnicodeDecodeError):
            raise BadInputError(f"{path}: not a text file ({err.reason})") from None
        raise StorageError.of(path, err) from err
    requests: list[Any] = []
    bad: list[str] = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            d = json.loads(line)
        except json.JSONDecodeError as err:
            bad.append(f"{path}:{n}: not JSON ({err.msg} at column {err.colno})")
            continue
        if not isinstance(d, dict) or not isinstance(d.get("lookup"), str) or not d["lookup"].strip():
            bad.append(f"{path}:{n}: needs an object with a \"lookup\" string")
            continue
        approve = d.get("approve", [])
        if not isinstance(approve, list) or not all(isinstance(a, str) for a in approve):
            bad.append(f"{path}:{n}: \"approve\" must be a list of action ids")
            continue
        if not isinstance(d.get("complaint", ""), str) or not isinstance(d.get("bucket") or "", str):
            bad.append(f"{path}:{n}: \"complaint\" and \"bucket\" must be strings")
            continue
        if d.get("bucket") is not None and d["bucket"] not in BUCKETS:
            bad.append(f"{path}:{n}: unknown bucket {str(d['bucket'])[:40]!r}; use one of: {', '.join(BUCKETS)}")
            continue
        requests.append(CaseRequest(lookup=d["lookup"], complaint=d.get("complaint", ""), bucket=d.get("bucket"),
                                    approve=tuple(approve)))
    return requests, bad


def _cmd_batch(args: argparse.Namespace) -> int:
    from .records.console import progress
    from .records.batch import run_batch

    requests, bad = _batch_requests(args.file)
    for line in bad:
        print(f"billing-nb: {line}", file=sys.stderr)
    results = []
    if requests:
        with progress(len(requests), "cases") as bar:
            results = run_batch(requests, cases_dir=args.out, workers=args.workers,
                                on_done=lambda r: bar.step(f"{r.case_id or '?'} {r.status}"))
    print_table([{"case": r.case_id, "status": r.status, "exit": r.exit_code, "record": r.record_dir or r.error}
                  for r in results])
    if bad:
        print(f"{len(bad)} bad line(s) skipped; {len(results)} case(s) run", file=sys.stderr)
    # the batch's code: PII in clear (5) over a Stripe error (3) over bad input (2) over pending (4) over done (0)
    rank = {5: 4, 3: 3, 2: 2, 4: 1, 0: 0}
    codes = [r.exit_code for r in results] + [2] * len(bad)
    return max(codes, key=lambda c: rank.get(c, 3), default=0)


def _cmd_scan(args: argparse.Namespace) -> int:
    from .exceptions import RedactionError
    from .records.scan import masked_place, scan

    leaks = scan(args.path)
    for leak in leaks:
        print(f"{masked_place(leak.path)}:{leak.line}: {leak.kind}: {leak.excerpt}")
    print(f"{len(leaks)} leak(s) found")
    return RedactionError.exit_code if leaks else 0


def _cmd_casebook(args: argparse.Namespace) -> int:
    from .config import load_settings
    from .records.queue import queue_rows

    cases = args.out or load_settings(require_key=False).cases_dir
    rows = queue_rows(cases, statuses=args.status, bucket=args.bucket)
    if args.json:
        print(json.dumps(rows, indent=2, default=str))
        return 0
    print_table([{k: r[k] for k in ("status", "age", "case", "customer", "bucket", "executed", "refunded",
                                     "credited", "next")} for r in rows])
    return 0


def run_report(name: str, *, out: Path = Path("reports"), cases_dir: Path | None = None, max_pages: int = 20,
               timeout: int = 300) -> Path:
    """Execute one account notebook through papermill (ipc kernel, one retry) into
    ``out/<date>/<name>-<time>.ipynb``; the path of the executed notebook."""
    from datetime import UTC, datetime

    from .config import load_settings
    from .records.runner import _execute, notebook_path  # pyright: ignore[reportPrivateUsage]

    now = datetime.now(UTC)
    target = out / now.strftime("%Y-%m-%d") / f"{name}-{now.strftime('%H%M%S')}.ipynb"
    target.parent.mkdir(parents=True, exist_ok=True)
    n = 1
    while target.exists():  # reports are never overwritten
        n += 1
        target = target.with_name(f"{name}-{now.strftime('%H%M%S')}-{n}.ipynb")
    if name == "casebook":
        cases = cases_dir or load_settings(require_key=False).cases_dir
        params: dict[str, Any] = {"cases_dir": str(Path(cases).resolve())}
    else:
        load_settings()  # fail before a kernel starts when there is no key
        params = {"max_pages": max_pages}
    _execute(notebook_path(f"{name}.ipynb"), target.resolve(), params, timeout, progress=sys.stderr.isatty())
    return target


def _cmd_report(args: argparse.Namespace) -> int:
    from .exceptions import RedactionError
    from .reading.masking import mask_text
    from .records.scan import scan
    from .records.runner import _exit_code_for  # pyright: ignore[reportPrivateUsage]

    try:
        path = run_report(args.name, out=args.out, cases_dir=args.cases, max_pages=args.max_pages, timeout=args.timeout)
    except BillingNbError:
        raise  # before any kernel: bad input or configuration
    except Exception as err:  # noqa: BLE001 - a failed cell: papermill kept the notebook with its error cell
        ename = getattr(err, "ename", None)
        print(f"billing-nb: report {args.name} failed: {ename or type(err).__name__}: "
              f"{mask_text(str(getattr(err, 'evalue', err)))}", file=sys.stderr)
        return _exit_code_for(ename)
    leaks = scan(path)
    for leak in leaks:
        print(f"{leak.path}:{leak.line}: {leak.kind}: {leak.excerpt}", file=sys.stderr)
    print(f"report {args.name} -> {path}" + (f" ({len(leaks)} leak(s) found)" if leaks else ""))
    return RedactionError.exit_code if leaks else 0


def _cmd_export(args: argparse.Namespace) -> int:
    from .exceptions import RedactionError
    from .records.manual import finish_record
    from .records.runner import export_record

    notebook = args.notebook / "case.ipynb" if args.notebook.is_dir() else args.notebook
    rec = export_record(notebook)
    rec = finish_record(notebook.parent)
    print(f"exported handoff for {rec.get('case_id')} ({rec.get('status')}) -> {notebook.parent / 'handoff.md'}")
    if rec.get("status") == "failed" and str(rec.get("error") or "").startswith("redaction scan:"):
        print(f"billing-nb: {rec['error']}", file=sys.stderr)
        return RedactionError.exit_code
    return 3 if rec.get("status") == "failed" else 0


def _cmd_open(args: argparse.Namespace) -> int:
    from .notebook.lab import open_in_lab

    return open_in_lab(args.lookup, complaint=args.complaint, cases_dir=args.out, no_browser=args.no_browser)


def _dispatch(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    if args.command == "case":
        return _cmd_case(args)
    if args.command == "batch":
        return _cmd_batch(args)
    if args.command == "open":
        return _cmd_open(args)
    if args.command == "demo":
        from .demo.command import run_demo

        return run_demo(out=args.out, run_cases=not args.no_cases)
    if args.command == "scan":
        return _cmd_scan(args)
    if args.command == "casebook":
        return _cmd_casebook(args)
    if args.command == "export":
        return _cmd_export(args)
    if args.command == "report":
        return _cmd_report(args)
    if args.command in ("sync", "metrics", "sweep"):
        from .reports.command import run_account_command

        return run_account_command(args)
    if args.command == "sandbox" and args.sandbox_command == "seed":
        from .demo.command import seed_command

        return seed_command(args.url)
    if args.command == "sandbox":
        from .sandbox.cli import run_sandbox

        return run_sandbox(args)
    parser.error(f"unknown command {args.command}")
    return 2


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return _dispatch(args, parser)
    except BillingNbError as err:
        print(f"billing-nb: {err}", file=sys.stderr)
        return err.exit_code
    except BrokenPipeError:
        # the reader went away (`billing-nb casebook --json | head`): stop quietly, as a Unix tool does;
        # point stdout at /dev/null so the interpreter's final flush does not raise again
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141
    except KeyboardInterrupt:
        print("billing-nb: interrupted", file=sys.stderr)
        return 130
    except OSError as err:  # a disk or file failure not met where it happened: still one line
        from .exceptions import StorageError

        ours = StorageError.of(getattr(err, "filename", None) or "billing-nb", err)
        print(f"billing-nb: {ours}", file=sys.stderr)
        return ours.exit_code


if __name__ == "__main__":
    sys.exit(main())
