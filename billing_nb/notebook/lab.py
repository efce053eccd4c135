"""``billing-nb open``: a hand-driven case's record folder and notebook, opened in JupyterLab.

When a Jupyter server already runs with the record under its root, its URL is printed
instead of starting another; with ``--no-browser`` the command that opens the notebook
is printed and nothing is started.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from ..config import load_settings
from ..exceptions import BadInputError
from ..records.manual import prepare_manual_case

__all__ = ["open_in_lab", "running_server_for", "existing_notebook", "JUPYTER_ENV"]


def existing_notebook(lookup: str) -> Path | None:
    """The record notebook ``lookup`` names (a record folder or its case.ipynb), if it is one."""
    path = Path(lookup).expanduser()
    if path.is_dir() and (path / "case.ipynb").is_file():
        return path / "case.ipynb"
    if path.suffix == ".ipynb":
        if not path.is_file():
            raise BadInputError(f"no notebook at {path}")
        return path
    return None


def running_server_for(notebook: Path) -> dict[str, Any] | None:
    """A running Jupyter server whose root holds ``notebook``, with ``lab_url`` for it."""
    try:
        from jupyter_server.serverapp import list_running_servers
    except ImportError:  # pragma: no cover - jupyter_server comes with jupyterlab
        return None
    target = notebook.resolve()
    for server in list_running_servers():
        root = Path(str(server.get("root_dir") or server.get("notebook_dir") or "")).expanduser().resolve()
        if target.is_relative_to(root):
            rel = target.relative_to(root).as_posix()
            return {**server, "lab_url": f"{str(server['url']).rstrip('/')}/lab/tree/{rel}"}
    return None


#: The jupyter command to start instead of the one beside this Python (a wrapper, another env).
JUPYTER_ENV = "BILLING_NB_JUPYTER"


def _lab_command(notebook: Path, root: Path) -> list[str]:
    """``jupyter lab`` from this Python's environment (its kernel has billing_nb), rooted so
    the record is inside the lab's tree, opening the notebook by its path under that root."""
    jupyter = Path(sys.executable).parent / "jupyter"
    exe = os.environ.get(JUPYTER_ENV) or (str(jupyter) if jupyter.exists() else "jupyter")
    return [exe, "lab", f"--ServerApp.root_dir={root}", str(notebook.resolve().relative_to(root))]


def open_in_lab(lookup: str, *, complaint: str = "", cases_dir: Path | None = None, no_browser: bool = False) -> int:
    """Create (or find) the case's notebook and open it; the exit code."""
    notebook = existing_notebook(lookup)
    if notebook is None:
        settings = load_settings()
        case = prepare_manual_case(lookup, settings=settings, cases_dir=cases_dir, complaint=complaint)
        notebook = case.notebook
        print(f"case {case.case_id}: record folder {case.record_dir}")
    cwd = Path.cwd().resolve()
    root = cwd if notebook.resolve().is_relative_to(cwd) else notebook.resolve().parent
    server = running_server_for(notebook)
    if server is not None:
        print(f"JupyterLab is running (pid {server.get('pid')}): open {server['lab_url']}")
        return 0
    cmd = _lab_command(notebook, root)
    if no_browser:
        print("open it with:\n  " + " ".join(cmd))
        print("then Run All, Confirm the bucket, tick and Execute; `billing-nb export "
              f"{notebook}` finishes the record")
        return 0
    env = {**os.environ}
    print("starting JupyterLab (Ctrl-C stops it); `billing-nb export "
          f"{notebook}` finishes the record", flush=True)
    return subprocess.call(cmd, cwd=root, env=env)
