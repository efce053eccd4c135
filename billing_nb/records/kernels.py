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
