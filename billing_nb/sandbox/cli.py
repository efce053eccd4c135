"""``billing-nb sandbox serve|start|stop|reset|status|seed``.

The sandbox is a Stripe-compatible server on 127.0.0.1 for trying the toolkit without
a Stripe key and for tests. ``start`` runs it in the background with a pid file under
``.sandbox/`` (or ``BILLING_NB_SANDBOX_DIR``); the other commands find it there.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

__all__ = ["add_sandbox_parser", "run_sandbox", "url_of_running", "DEFAULT_PORT", "SANDBOX_KEY"]

DEFAULT_PORT = 12111
#: Any sk_test_ key works against the sandbox; this is the one the CLI prints.
SANDBOX_KEY = "sk_test_sandbox"


def _knob_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--state", type=Path, metavar="PATH",
                   help="save the account to PATH (a snapshot plus PATH.journal of each write's changes, "
                        "within 2 s) and load it on start, so the sandbox survives a restart "
                        "(default: memory only)")
    p.add_argument("--latency-ms", type=int, default=0, metavar="N",
                   help="add N milliseconds before every API response (default 0)")
    p.add_argument("--rate-limit", type=float, default=0.0, metavar="R",
                   help="answer 429 rate_limit errors past R requests per second (default 0: unlimited)")
    p.add_argument("--fail-rate", type=float, default=0.0, metavar="F",
                   help="fail a fraction F (0..1) of requests with a 500 or a dropped connection (default 0)")


def add_sandbox_parser(subparsers: Any) -> None:
    """Register the sandbox sub-commands on the ``billing-nb sandbox`` sub-parser group."""
    serve = subparsers.add_parser(
        "serve", help="run the sandbox in the foreground (Ctrl-C stops it)",
        description="Serve the Stripe-compatible sandbox on 127.0.0.1 in the foreground. Point the "
                    "stripe SDK at it with STRIPE_API_BASE=http://127.0.0.1:PORT and any sk_test_ key.")
    serve.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port on 127.0.0.1 (default {DEFAULT_PORT})")
    _knob_args(serve)

    start = subparsers.add_parser(
        "start", help="start the sandbox in the background and print the export lines",
        description="Start the sandbox as a background process (pid file in .sandbox/ or "
                    "BILLING_NB_SANDBOX_DIR), wait until it answers, and print its URL and the "
                    "`export STRIPE_API_BASE=... STRIPE_API_KEY=...` lines. Reuses the one it started "
                    "(checked by pid and instance token); never adopts another server on the port.")
    start.add_argument("--port", type=int, default=None,
                       help="port on 127.0.0.1 (default: a free port); a port already in use is refused")
    _knob_args(start)

    subparsers.add_parser("stop", help="stop the background sandbox",
                          description="Stop the sandbox started with `billing-nb sandbox start`.")
    subparsers.add_parser("reset", help="delete every object in the running sandbox",
                          description="Empty the running sandbox's account (POST /_sandbox/reset), "
                                      "including its saved state file. Only the sandbox `start` launched "
                                      "(checked by its instance token) is ever reset.")
    subparsers.add_parser("status", help="show whether the background sandbox runs, its URL and object count",
                          description="Exit 0 and print the URL when the background sandbox runs, else exit 1.")


def _run_dir() -> Path:
    """Where the pid file lives; read at call time so tests and users can redirect it."""
    return Path(os.environ.get("BILLING_NB_SANDBOX_DIR", ".sandbox"))


def url_of_running() -> str | None:
    from .server import status

    info = status(_run_dir())
    return info.url if info else None


def _post(url: str, path: str) -> dict[str, Any]:
    import urllib.request  # here, not at the top: ``billing-nb --help`` builds this parser

    req = urllib.request.Request(url + path, data=b"", method="POST")
    with urllib.request.urlopen(req, timeout=10) as resp:
        return json.loads(resp.read() or b"{}")


def _get(url: str, path: str) -> dict[str, Any]:
    import urllib.request

    with urllib.request.urlopen(url + path, timeout=10) as resp:
        return json.loads(resp.read() or b"{}")


def _knobs(args: argparse.Namespace) -> Any:
    from .app import Knobs

    return Knobs(latency_ms=args.latency_ms, rate_limit=args.rate_limit, fail_rate=args.fail_rate)


def _exports(url: str) -> str:
    return f"export STRIPE_API_BASE={url} STRIPE_API_KEY={SANDBOX_KEY}"


def run_sandbox(args: argparse.Namespace) -> int:
    """Run one sandbox sub-command; returns the process exit code."""
    from . import server

    cmd = getattr(args, "sandbox_command", None)
    if cmd == "serve":
        print(f"sandbox: serving http://{server.HOST}:{args.port}  ({_exports(f'http://{server.HOST}:{args.port}')})",
              flush=True)
        server.serve(args.port, state=args.state, knobs=_knobs(args), log_level="info")
        return 0
    if cmd == "start":
        try:
            info = server.start(args.port, run_dir=_run_dir(), state=args.state, knobs=_knobs(args))
        except server.SandboxStartError as exc:
            print(f"sandbox: {exc}", file=sys.stderr)
            return 1
        print(f"sandbox: running at {info.url} (pid {info.pid})")
        print(_exports(info.url))
        return 0
    if cmd == "stop":
        stopped = server.stop(_run_dir())
        print("sandbox: stopped" if stopped else "sandbox: not running")
        return 0
    if cmd in ("reset", "status"):
        url = url_of_running()
        if url is None:
            print("sandbox: not running (start it with `billing-nb sandbox start`)",
                  file=sys.stderr if cmd == "reset" else sys.stdout)
            return 1
        try:
            if cmd == "reset":
                _post(url, "/_sandbox/reset")
                print(f"sandbox: reset {url}")
            else:
                health = _get(url, "/_sandbox/health")
                print(f"sandbox: running at {url} ({health.get('objects', 0)} objects)")
                print(_exports(url))
        except OSError as exc:  # urllib's URLError is an OSError
            print(f"sandbox: {url} does not answer: {exc}", file=sys.stderr)
            return 1
        return 0
    print(f"billing-nb sandbox: unknown command {cmd!r}", file=sys.stderr)
    return 2
