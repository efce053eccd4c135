"""A successful report is quiet: no kernel chatter (jupyter_client interrupts a kernel
before shutting it down, and ipykernel then logs ``KeyboardInterrupt caught in kernel``)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.notebook


def test_casebook_report_prints_no_kernel_noise(tmp_path: Path) -> None:
    env = {**os.environ, "BILLING_NB_CASES_DIR": str(tmp_path / "cases")}
    (tmp_path / "cases").mkdir()
    done = subprocess.run([sys.executable, "-m", "billing_nb", "report", "casebook", "--out", str(tmp_path / "reports"),
                           "--cases", str(tmp_path / "cases")], capture_output=True, text=True, env=env, timeout=600,
                          cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "report casebook ->" in done.stdout
    assert "KeyboardInterrupt" not in done.stderr and "IPKernelApp" not in done.stderr, done.stderr[-3000:]


def test_kernels_write_their_stderr_to_a_log_of_their_own() -> None:
    """The noise is racy (an interrupt landing inside a handler), so pin the cause: the
    kernel's fd 2 is its own log file, not the CLI's stderr."""
    import asyncio

    from billing_nb.records.kernels import IpcKernelManager

    async def run() -> str:
        km = IpcKernelManager(kernel_name="python3")
        await km.start_kernel()
        try:
            pid = km.provisioner.pid  # type: ignore[union-attr]
            return os.readlink(f"/proc/{pid}/fd/2")
        finally:
            await km.shutdown_kernel(now=True)

    target = asyncio.run(run())
    assert target.endswith("kernel-stderr.log"), target
