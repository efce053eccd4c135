"""``billing-nb sandbox ...``: help text, start/status/reset/stop of a real background
process, and seed's plumbing (with a stand-in seeder)."""

from __future__ import annotations

import argparse
import sys
import types
from pathlib import Path
from typing import Any

import httpx
import pytest

from billing_nb.sandbox.cli import add_sandbox_parser, run_sandbox

COMMANDS = ("serve", "start", "stop", "reset", "status", "seed")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="billing-nb sandbox")
    add_sandbox_parser(parser.add_subparsers(dest="sandbox_command", required=True))
    return parser


@pytest.mark.parametrize("cmd", COMMANDS)
def test_every_command_has_help(cmd: str, capsys: pytest.CaptureFixture[str]) -> None:
    from billing_nb.cli import build_parser  # seed is the demo's, registered by the toolkit's CLI

    with pytest.raises(SystemExit) as stop:
        (build_parser().parse_args(["sandbox", cmd, "--help"]) if cmd == "seed" else _parser().parse_args([cmd, "--help"]))
    assert stop.value.code == 0
    out = capsys.readouterr().out
    assert len(out) > 120, out
    if cmd in ("serve", "start"):
        for flag in ("--port", "--state", "--latency-ms", "--rate-limit", "--fail-rate"):
            assert flag in out


def test_start_status_reset_stop(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("BILLING_NB_SANDBOX_DIR", str(tmp_path / "run"))
    parser = _parser()
    assert run_sandbox(parser.parse_args(["status"])) == 1
    capsys.readouterr()
    try:
        assert run_sandbox(parser.parse_args(["start", "--latency-ms", "0"])) == 0
        out = capsys.readouterr().out
        url = out.split("running at ")[1].split()[0]
        assert url.startswith("http://127.0.0.1:")
        assert f"export STRIPE_API_BASE={url} STRIPE_API_KEY=sk_test_" in out
        auth = {"Authorization": "Bearer sk_test_cli"}
        assert httpx.post(f"{url}/v1/products", data={"name": "cli"}, headers=auth).status_code == 200
        assert run_sandbox(parser.parse_args(["status"])) == 0
        assert "objects" in capsys.readouterr().out
        assert run_sandbox(parser.parse_args(["reset"])) == 0
        assert httpx.get(f"{url}/v1/products", headers=auth).json()["data"] == []
    finally:
        assert run_sandbox(parser.parse_args(["stop"])) == 0
    assert "stopped" in capsys.readouterr().out
    assert run_sandbox(parser.parse_args(["status"])) == 1
    assert run_sandbox(parser.parse_args(["reset"])) == 1


def test_seed_passes_a_client_for_the_target(monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    seen: dict[str, Any] = {}

    def seed_demo(client: Any) -> list[str]:
        seen["client"] = client
        return ["a", "b"]

    fake = types.ModuleType("billing_nb.demo.seed")
    fake.seed_demo = seed_demo  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "billing_nb.demo.seed", fake)
    monkeypatch.setenv("STRIPE_API_BASE", "http://127.0.0.1:1")
    monkeypatch.setenv("STRIPE_API_KEY", "sk_test_seed")
    from billing_nb.cli import main

    assert main(["sandbox", "seed"]) == 0
    assert "seeded 2 demo customers at http://127.0.0.1:1" in capsys.readouterr().out
    assert seen["client"] is not None
    monkeypatch.setenv("STRIPE_API_KEY", "sk_live_nope")
    assert main(["sandbox", "seed"]) == 2
