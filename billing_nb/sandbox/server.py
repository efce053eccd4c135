"""Run the sandbox: in the foreground (``serve``), as a managed background process
(``start``/``stop`` with a pid file and a readiness check), or in-process in a thread
for tests (:class:`ThreadedSandbox`)."""

from __future__ import annotations

import json
import os
import secrets
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

from .app import INSTANCE_ENV, Knobs, create_app
from .store import Store

__all__ = ["serve", "start", "stop", "status", "free_port", "port_in_use", "health", "wait_ready", "ThreadedSandbox",
           "SandboxInfo", "SandboxStartError", "HOST"]

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


class SandboxStartError(RuntimeError):
    """The sandbox could not be started as asked (a busy port, a child that died)."""


def port_in_use(port: int) -> bool:
    """Whether something already listens on 127.0.0.1:``port``.

    With SO_REUSEADDR, as the server itself binds (uvicorn sets it on POSIX): connections of a
    stopped sandbox left in TIME_WAIT do not make its port look taken for the next minute."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        if os.name == "posix":
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((HOST, port))
        except OSError:
            return True
    return False


def health(url: str, timeout: float = 1.0) -> dict[str, object] | None:
    """The sandbox health document at ``url``, or None when nothing (or no sandbox) answers."""
    try:
        with urllib.request.urlopen(f"{url}/_sandbox/health", timeout=timeout) as resp:
            if resp.status == 200:
                data = json.loads(resp.read() or b"{}")
                return data if isinstance(data, dict) else None
    except Exception:  # noqa: BLE001 - not up, or not a sandbox
        return None
    return None


def wait_ready(url: str, timeout: float = 20.0, *, instance: str | None = None,
               proc: subprocess.Popen[bytes] | None = None) -> None:
    """Poll the health endpoint until the server answers or ``timeout`` passes.

    With ``instance``, only a server reporting that instance token counts (so a stranger on
    the port is never taken for ours); with ``proc``, a child that exits fails at once.
    """
    deadline = time.monotonic() + timeout
    seen: dict[str, object] | None = None
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise SandboxStartError(f"the sandbox process exited with code {proc.returncode} before it answered")
        seen = health(url)
        if seen is not None and (instance is None or seen.get("instance") == instance):
            return
        time.sleep(0.05)
    raise TimeoutError(f"sandbox at {url} not ready after {timeout}s" + (f" (a server answered as {seen.get('instance')!r}, "
                                                                          "not this instance)" if seen else ""))


def serve(port: int, *, state: Path | None = None, knobs: Knobs | None = None, log_level: str = "warning") -> None:
    """Serve in the foreground until interrupted."""
    store = Store(state_path=state)
    app = create_app(store, knobs)
    try:
        uvicorn.run(app, host=HOST, port=port, log_level=log_level, access_log=False)
    finally:
        store.close()  # the last writes, after SIGTERM's graceful shutdown


def _pid_file(run_dir: Path) -> Path:
    return run_dir / "sandbox.json"


def status(run_dir: Path = RUN_DIR) -> SandboxInfo | None:
    """The running managed sandbox, or None (a stale pid file is removed).

    Ours only if the pid is alive and the server on the recorded port reports the instance
    token written at start: a pid reused by another program, or another server that took
    the port, is never adopted.
    """
    path = _pid_file(run_dir)
    if not path.exists():
        return None
    try:
        info = json.loads(path.read_text())
        pid, port, instance = int(info["pid"]), int(info["port"]), str(info.get("instance") or "")
    except (ValueError, KeyError, TypeError):
        path.unlink(missing_ok=True)
        return None
    try:
        os.kill(pid, 0)
    except OSError:
        path.unlink(missing_ok=True)
        return None
    found = health(f"http://{HOST}:{port}", timeout=2.0)
    if found is None or not instance or found.get("instance") != instance:
        return None  # alive but not (or no longer) our server: leave the file, adopt nothing
    return SandboxInfo(pid=pid, port=port)


def start(
    port: int | None = None,
    *,
    run_dir: Path = RUN_DIR,
    state: Path | None = None,
    knobs: Knobs | None = None,
) -> SandboxInfo:
    """Start a background sandbox (or return the running one we started) and wait until ready.

    A busy ``port`` is refused with :class:`SandboxStartError` (never adopted); with no port a
    free one is picked.
    """
    running = status(run_dir)
    if running is not None:
        if port is not None and port != running.port:
            raise SandboxStartError(f"the sandbox already runs at {running.url} (pid {running.pid}); "
                                    f"stop it first to start one on port {port}")
        return running
    if port is not None and port_in_use(port):
        raise SandboxStartError(f"port {port} on {HOST} is already in use by another process (not a sandbox this "
                                "command started); choose another --port, or omit --port for a free one")
    run_dir.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    kn = knobs or Knobs()
    instance = secrets.token_hex(16)
    cmd = [sys.executable, "-m", "billing_nb.sandbox", "serve", "--port", str(port),
           "--latency-ms", str(kn.latency_ms), "--rate-limit", str(kn.rate_limit), "--fail-rate", str(kn.fail_rate)]
    if state is not None:
        cmd += ["--state", str(state)]
    log = open(run_dir / "sandbox.log", "ab")  # noqa: SIM115 - handed to the child
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                            env={**os.environ, INSTANCE_ENV: instance})
    info = SandboxInfo(pid=proc.pid, port=port)
    try:
        wait_ready(info.url, instance=instance, proc=proc)
    except (TimeoutError, SandboxStartError) as err:
        if proc.poll() is None:
            proc.kill()
        tail = (run_dir / "sandbox.log").read_text(errors="replace").strip().splitlines()[-1:]
        raise SandboxStartError(f"the sandbox did not start on port {port}: {err}"
                                + (f" ({tail[0].strip()})" if tail else "")) from None
    _pid_file(run_dir).write_text(json.dumps({"pid": proc.pid, "port": port, "instance": instance}))
    return info


def stop(run_dir: Path = RUN_DIR) -> bool:
    """Stop the managed sandbox; True when one was running (a pid that is not our server is never signalled)."""
    info = status(run_dir)
    if info is None:
        return False
    os.kill(info.pid, signal.SIGTERM)
    for _ in range(100):
        try:
            os.waitpid(info.pid, os.WNOHANG)  # started by this process: reap it, or it lingers as a zombie
        except ChildProcessError:
            pass
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
        self.store.close()
