"""`sandbox start`, `reset` and the demo never adopt a server they did not start.

A stranger on the port (another helper's sandbox, any other program) must neither be
reported as ours nor seeded nor reset: the pid file carries an instance token that the
managed server reports on /_sandbox/health.
"""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from billing_nb.sandbox import server
from billing_nb.sandbox.server import SandboxStartError, ThreadedSandbox


@pytest.fixture
def run_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    where = tmp_path / "run"
    monkeypatch.setenv("BILLING_NB_SANDBOX_DIR", str(where))
    yield where
    server.stop(where)


@pytest.fixture
def stranger() -> Iterator[ThreadedSandbox]:
    with ThreadedSandbox() as sb:
        sb.store.objects.setdefault("customer", {})["cus_stranger"] = {"id": "cus_stranger", "object": "customer"}
        yield sb


def _count(sb: ThreadedSandbox) -> int:
    return len(sb.store.objects.get("customer", {}))


def test_start_on_a_busy_port_fails_clearly(run_dir: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        with pytest.raises(SandboxStartError, match=f"port {port} on 127.0.0.1 is already in use"):
            server.start(port, run_dir=run_dir)
    assert not (run_dir / "sandbox.json").exists()


def test_cli_start_busy_port_exits_1(run_dir: Path, stranger: ThreadedSandbox, capsys: pytest.CaptureFixture[str]) -> None:
    from billing_nb.cli import main

    assert main(["sandbox", "start", "--port", str(stranger.port)]) == 1
    err = capsys.readouterr().err
    assert "already in use" in err and "running at" not in err


def test_a_pid_file_pointing_at_a_stranger_is_not_adopted_and_reset_spares_it(
        run_dir: Path, stranger: ThreadedSandbox, capsys: pytest.CaptureFixture[str]) -> None:
    from billing_nb.cli import main

    run_dir.mkdir(parents=True)
    # a live pid (this test process) and the stranger's port, without the stranger's instance token
    (run_dir / "sandbox.json").write_text(json.dumps({"pid": os.getpid(), "port": stranger.port, "instance": "ours"}))
    assert server.status(run_dir) is None
    assert main(["sandbox", "reset"]) == 1
    assert "not running" in capsys.readouterr().err
    assert _count(stranger) == 1, "the stranger's data is untouched"
    assert server.stop(run_dir) is False, "no signal to a process that is not our server"


def test_started_sandbox_is_recognised_and_reused(run_dir: Path) -> None:
    info = server.start(None, run_dir=run_dir)
    saved = json.loads((run_dir / "sandbox.json").read_text())
    assert saved["pid"] == info.pid and len(saved["instance"]) == 32
    assert server.health(info.url)["instance"] == saved["instance"]  # type: ignore[index]
    assert server.status(run_dir) == info
    assert server.start(None, run_dir=run_dir) == info
    with pytest.raises(SandboxStartError, match="already runs"):
        server.start(info.port + 1 if info.port < 65535 else info.port - 1, run_dir=run_dir)


def test_demo_never_seeds_a_stranger_on_its_port(run_dir: Path, stranger: ThreadedSandbox,
                                                 monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    import billing_nb.demo.command as command

    monkeypatch.setattr(command, "DEMO_PORT", stranger.port)
    monkeypatch.setenv("STRIPE_API_BASE", "unset-by-teardown")  # the demo sets both: restored after the test
    monkeypatch.setenv("STRIPE_API_KEY", "unset-by-teardown")
    url = command.start_demo_sandbox()
    assert url != stranger.url
    assert f"{stranger.port} is in use by a server this demo did not start" in capsys.readouterr().err
    mine = server.status(run_dir)
    assert mine is not None and mine.url == url == os.environ["STRIPE_API_BASE"]
    assert _count(stranger) == 1
