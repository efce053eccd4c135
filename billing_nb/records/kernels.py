"""Kernel plumbing for papermill runs: the ipc transport and one retry on start.

TCP port races kill kernels when several start at once, so every kernel the runner
starts talks over ipc sockets in its own private temporary folder.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from jupyter_client.manager import AsyncKernelManager

__all__ = ["IpcKernelManager"]


class IpcKernelManager(AsyncKernelManager):
    """An AsyncKernelManager on the ipc transport, sockets in a private temp dir."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.transport = "ipc"
        self._ipc_dir = tempfile.mkdtemp(prefix="bnb-ipc-")
        self.ip = str(Path(self._ipc_dir) / "kernel")

    async def _async_launch_kernel(self, kernel_cmd: list[str], **kw: Any) -> None:
        """Launch with the kernel's stderr in a log of its own: jupyter_client interrupts a
        kernel before shutting it down, and ipykernel then prints ``KeyboardInterrupt caught
        in kernel`` on a run that succeeded. Failures still reach the caller as cell errors."""
        if "stderr" not in kw:
            with open(Path(self._ipc_dir) / "kernel-stderr.log", "ab") as log:
                kw["stderr"] = log
                await super()._async_launch_kernel(kernel_cmd, **kw)
            return
        await super()._async_launch_kernel(kernel_cmd, **kw)
