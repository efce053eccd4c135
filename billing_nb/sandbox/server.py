"""Run the sandbox: in the foreground (``serve``), as a managed background process
(``start``/``stop`` with a pid file and a readiness check), or in-process in a thread
for tests (:class:`ThreadedSandbox`)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import uvicorn

from .app import Knobs, create_app
from .store import Store

__all__ = ["serve", "start", "stop", "status", "free_port", "wait_ready", "ThreadedSandbox", "SandboxInfo", "HOST"]

HOST = "127.0.0.1"  # never 0.0.0.0: the sandbox is for this machine only
RUN_DIR = Path(os.environ.get("BILLING_NB_SANDBOX_DIR", ".sandbox"))


@dataclass(frozen=True)
class SandboxInfo:
    pid: int
    port: int

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def wait_ready(url: str, timeout: float = 20.0) -> None:
    """Poll the health endpoint until the server answers or ``timeout`` passes."""
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/_sandbox/health", timeout=1) as resp:
                if resp.status == 200:
                    return
        except Exception as exc:  # noqa: BLE001 - not up yet
            last = exc
        time.sleep(0.05)
    raise TimeoutError(f"sandbox at {url} not ready after {timeout}s: {last}")


def serve(port: int, *, state: Path | None = None, knobs: Knobs | None = None, log_level: str = "warning") -> None:
    """Serve in the foreground until interrupted."""
    store = Store(state_path=state)
    app = create_app(store, knobs)
    try:
        uvicorn.run(app, host=HOST, port=port, log_level=log_level, access_log=False)
    finally:
        store.flush()  # the last writes, after SIGTERM's graceful shutdown


def _pid_file(run_dir: Path) -> Path:
    return run_dir / "sandbox.json"


def status(run_dir: Path = RUN_DIR) -> SandboxInfo | None:
    """The running managed sandbox, or None (a stale pid file is removed)."""
    path = _pid_file(run_dir)
    if not path.exists():
        return None
    info = json.loads(path.read_text())
    try:
        os.kill(int(info["pid"]), 0)
    except OSError:
        path.unlink(missing_ok=True)
        return None
    return SandboxInfo(pid=int(info["pid"]), port=int(info["port"]))


def start(
    port: int | None = None,
    *,
    run_dir: Path = RUN_DIR,
    state: Path | None = None,
    knobs: Knobs | None = None,
) -> SandboxInfo:
    """Start a background sandbox (or return the running one) and wait until ready."""
    running = status(run_dir)
    if running is not None:
        return running
    run_dir.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    kn = knobs or Knobs()
    cmd = [sys.executable, "-m", "billing_nb.sandbox", "serve", "--port", str(port),
           "--latency-ms", str(kn.latency_ms), "--rate-limit", str(kn.rate_limit), "--fail-rate", str(kn.fail_rate)]
    if state is not None:
        cmd += ["--state", str(state)]
    log = open(run_dir / "sandbox.log", "ab")  # noqa: SIM115 - handed to the child
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    info = SandboxInfo(pid=proc.pid, port=port)
    try:
        wait_ready(info.url)
    except TimeoutError:
        proc.kill()
        raise
    _pid_file(run_dir).write_text(json.dumps({"pid": proc.pid, "port": port}))
    return info


def stop(run_dir: Path = RUN_DIR) -> bool:
    """Stop the managed sandbox; True when one was running."""
    info = status(run_dir)
    if info is None:
        return False
    os.kill(info.pid, signal.SIGTERM)
    for _ in range(100):
        try:
            os.kill(info.pid, 0)
        except OSError:
            break
        time.sleep(0.05)
    _pid_file(run_dir).unlink(missing_ok=True)
    return True


class ThreadedSandbox:
    """A sandbox on a free port in a background thread, for tests and benchmarks."""

    def __init__(self, knobs: Knobs | None = None, store: Store | None = None) -> None:
        self.store = store or Store()
        self.app = create_app(self.store, knobs)
        self.port = free_port()
        self.server = uvicorn.Server(uvicorn.Config(self.app, host=HOST, port=self.port, log_level="error", access_log=False))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def __enter__(self) -> ThreadedSandbox:
        self.thread.start()
        wait_ready(self.url)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=5)
        self.store.flush()
