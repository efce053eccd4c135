"""Kernel plumbing for papermill runs: the ipc transport, and warm kernels for batches.

TCP port races kill kernels when several start at once, so every kernel the runner
starts talks over ipc sockets in its own private temporary folder.

A :class:`WarmKernel` is started once and runs many notebooks: papermill executes each
one on it through the ``billing-nb-warm`` engine (nbclient with a pre-started kernel
manager and client, which it then neither shuts down nor replaces). Before each notebook
the kernel is reset to the state it had after warming up: ``%reset -f`` (the user
namespace), every package first imported since the warm-up dropped from ``sys.modules``
(a case's own imports run again, side effects included; submodules a warm package loads
lazily stay, or a second copy of their classes would appear), the environment, ``sys.path``
and the working folder restored, and a garbage collection (the last case's open files and connections).
The warm-up imports what the case notebook's first cell imports, so that cost is paid
once per kernel instead of once per case, and then freezes the garbage collector's view of
what it built (``gc.freeze``): every later collection -- the reset's, IPython's own on
``%reset`` -- scans only what cases made since, not the imported libraries' objects again
(that was more than half of a warm kernel's CPU per case).
"""

from __future__ import annotations

import os
import queue
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from jupyter_client.manager import AsyncKernelManager

__all__ = ["IpcKernelManager", "WarmKernel", "WARM_IMPORTS", "WARM_ENGINE", "SAVE_EVERY", "import_nbformat_without_iri_grammar"]

#: What the case notebook's cells import; a warm kernel imports it once.
#: (pandas' Styler too: the views' tables use it, and it loads lazily on first use -- half a
#: second of step 1 otherwise, now paid while the runner imports papermill)
WARM_IMPORTS = ("import billing_nb.notebook.cells, billing_nb.notebook.views, billing_nb.records.case, "
                "pandas.io.formats.style")
#: The papermill engine name that runs a notebook on a :class:`WarmKernel`.
WARM_ENGINE = "billing-nb-warm"
#: Seconds between the running notebook's saves on a warm kernel (besides its start and end).
SAVE_EVERY = 5.0

_WARM_UP = f"""
import sys as _sys, os as _os
{WARM_IMPORTS}
_sys.__dict__['_billing_nb_warm'] = (frozenset(_sys.modules), dict(_os.environ), list(_sys.path))
del _sys, _os
import gc as _gc
_gc.collect()
_gc.freeze()
del _gc
"""

_ENTER = """
import os as _os
_os.environ.update({env!r}); _os.chdir({cwd!r})
del _os
"""

_RESET = """
get_ipython().run_line_magic('reset', '-f')
import sys as _sys, os as _os, gc as _gc
_base, _env, _path = _sys.__dict__['_billing_nb_warm']
_sys.path[:] = _path
_tops = {{n.partition('.')[0] for n in _base}}
_name = None
for _name in [n for n in _sys.modules if n.partition('.')[0] not in _tops]:
    del _sys.modules[_name]
_os.environ.clear(); _os.environ.update(_env); _os.environ.update({env!r})
_os.chdir({cwd!r})
del _sys, _os, _base, _env, _path, _tops, _name
_gc.collect()
del _gc
"""


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

    async def _async_wait(self, pollinterval: float = 0.005) -> None:
        """Poll a killed kernel every 5 ms, not jupyter_client's 100 ms: a SIGKILLed kernel
        is gone within a millisecond or two, and every batch worker and every cold case
        waits for it at its end."""
        await super()._async_wait(pollinterval=pollinterval)


def import_nbformat_without_iri_grammar() -> None:
    """Import nbformat (papermill's notebook format) without ``rfc3987_syntax``.

    nbformat's validator imports jsonschema's format checks, which import ``rfc3987_syntax``
    when it is installed (Jupyter's own dependencies bring it), and that compiles a Lark grammar
    at import: about 2 s of CPU, more than the rest of a case's imports. It only checks the
    ``iri``/``iri-reference`` formats, and nbformat's schemas use no ``format`` at all. So
    jsonschema's checks are imported here with that module hidden, then the hiding is undone:
    a later ``import rfc3987_syntax`` in this process works as usual; only jsonschema's
    FormatChecker here lacks the two IRI formats. Nothing happens when jsonschema's checks
    were imported already.
    """
    import sys

    if "jsonschema._format" not in sys.modules and "rfc3987_syntax" not in sys.modules:
        sys.modules["rfc3987_syntax"] = None  # type: ignore[assignment]  # an ImportError, caught by jsonschema
        try:
            import jsonschema._format  # noqa: F401  # pyright: ignore[reportUnusedImport]
        finally:
            if sys.modules.get("rfc3987_syntax", ...) is None:
                del sys.modules["rfc3987_syntax"]
    import nbformat  # noqa: F401  # pyright: ignore[reportUnusedImport]


def _register_engine() -> None:
    """Register the papermill engine that runs on a pre-started kernel (idempotent)."""
    import_nbformat_without_iri_grammar()
    from papermill.clientwrap import PapermillNotebookClient
    from papermill.engines import NBClientEngine, NotebookExecutionManager, papermill_engines
    from papermill.utils import merge_kwargs, remove_args

    if WARM_ENGINE in papermill_engines._engines:  # pyright: ignore[reportPrivateUsage]
        return

    class SparseSaves(NotebookExecutionManager):
        """Papermill's manager, saving the notebook at its start, at most every
        :data:`SAVE_EVERY` seconds while it runs, and at its end (also after a failure: the
        engine's ``finally``), instead of before and after every cell: each save validates and
        deep-copies the whole notebook, and a case's ~30 of them were a third of its CPU in the
        batch worker."""

        _final = False
        _saved = False

        def save(self, **kwargs: Any) -> None:
            if self._final or not self._saved or (self.now() - self.last_save_time).total_seconds() >= SAVE_EVERY:
                self._saved = True
                super().save(**kwargs)

        def notebook_complete(self, **kwargs: Any) -> None:
            self._final = True
            super().notebook_complete(**kwargs)

    class WarmEngine(NBClientEngine):
        @classmethod
        def execute_notebook(cls, nb: Any, kernel_name: str, output_path: Any = None, progress_bar: bool = True,
                             log_output: bool = False, autosave_cell_every: int = 30, **kwargs: Any) -> Any:
            """papermill's ``Engine.execute_notebook`` with :class:`SparseSaves` as the manager."""
            nb_man = SparseSaves(nb, output_path=output_path, progress_bar=progress_bar, log_output=log_output,
                                 autosave_cell_every=autosave_cell_every)
            nb_man.notebook_start()
            try:
                cls.execute_managed_notebook(nb_man, kernel_name, log_output=log_output, **kwargs)
            finally:
                nb_man.cleanup_pbar()
                nb_man.notebook_complete()
            return nb_man.nb

        @classmethod
        def execute_managed_notebook(cls, nb_man: Any, kernel_name: str, log_output: bool = False,
                                     stdout_file: Any = None, stderr_file: Any = None, start_timeout: int = 60,
                                     execution_timeout: int | None = None, **kwargs: Any) -> Any:
            warm: WarmKernel = kwargs.pop("warm_kernel")
            kwargs = remove_args(["input_path", "timeout", "startup_timeout"], **kwargs)
            final = merge_kwargs(kwargs, timeout=execution_timeout, startup_timeout=start_timeout,
                                 kernel_name=kernel_name, log_output=log_output,
                                 stdout_file=stdout_file, stderr_file=stderr_file)
            client = PapermillNotebookClient(nb_man, km=warm.km, **final)
            client.kc = warm.kc  # nbclient keeps a client it did not create, and the kernel
            return client.execute()

    papermill_engines.register(WARM_ENGINE, WarmEngine)


class WarmKernel:
    """One kernel that runs many notebooks, each in a fresh namespace (module docstring).

    ``wait=False`` returns as soon as the kernel's process is launched, with the warm-up
    already queued on its shell channel (zmq holds it until the kernel reads it): the
    kernel boots and imports while the caller does its own start-up and reads the first
    case; the first :meth:`reset` waits for the warm-up's reply.
    """

    def __init__(self, *, cwd: Path | None = None, start_timeout: int = 60, wait: bool = True) -> None:
        from jupyter_core.utils import run_sync

        self._run_sync = run_sync
        self._start_timeout = start_timeout
        self.km = IpcKernelManager(kernel_name="python3")
        run_sync(self.km.start_kernel)(cwd=str(cwd or Path.cwd()))
        self.runs = 0
        self.broken = False  # a timed-out or dead kernel: its worker starts another
        try:
            self.kc = self.km.client()
            self.kc.start_channels()
            self._warming: str | None = self.kc.execute(_WARM_UP, silent=False, store_history=False)
            if wait:
                self.wait_ready()
        except BaseException:
            self.shutdown()
            raise

    def wait_ready(self) -> None:
        """Wait for the warm-up (once): its reply says the kernel is up and warm; its
        messages on IOPub say outputs will be seen (else jupyter_client's own readiness
        check runs, which also waits for IOPub)."""
        if self._warming is None:
            return
        warming, self._warming = self._warming, None
        try:
            # papermill's import here runs while the kernel imports the case's modules (its own process)
            _register_engine()
            self._reply(warming, timeout=self._start_timeout, dead_check=True)
            if not self._iopub_saw(warming):
                self._run_sync(self.kc.wait_for_ready)(timeout=self._start_timeout)
        except BaseException:
            self.broken = True
            raise

    def _iopub_saw(self, msg_id: str) -> bool:
        """Drain IOPub; whether a message of ``msg_id`` was on it (the warm-up's idle comes
        last, after its reply, so wait briefly for it)."""
        seen = False
        while True:
            try:
                msg = self._run_sync(self.kc.get_iopub_msg)(timeout=0.05 if not seen else 0.01)
            except queue.Empty:
                return seen
            if msg.get("parent_header", {}).get("msg_id") == msg_id:
                seen = True
                if msg.get("msg_type") == "status" and msg["content"].get("execution_state") == "idle":
                    return True

    def _silent(self, code: str, *, timeout: float = 60) -> None:
        """Run code without a cell; its error (if any) is raised here."""
        self._reply(self.kc.execute(code, silent=False, store_history=False), timeout=timeout)

    def _reply(self, msg_id: str, *, timeout: float, dead_check: bool = False) -> None:
        """Wait for the reply to one execute request; its error (if any) is raised here.
        ``dead_check``: a kernel that died while booting fails at once, not after ``timeout``."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            try:
                reply = self._run_sync(self.kc.get_shell_msg)(timeout=max(0.01, min(left, 1.0) if dead_check else left))
            except queue.Empty:
                if time.monotonic() < deadline and dead_check and self.alive():
                    continue
                raise RuntimeError("warm kernel did not answer" if self.alive() else "warm kernel died while starting") from None
            if reply["parent_header"].get("msg_id") == msg_id:
                break
        content = reply["content"]
        if content.get("status") != "ok":
            raise RuntimeError(f"warm kernel: {content.get('ename')}: {content.get('evalue')}")

    def alive(self) -> bool:
        return bool(self._run_sync(self.km.is_alive)())

    def reset(self, *, cwd: Path, env: dict[str, str] | None = None) -> None:
        """Back to the warmed-up state, in ``cwd`` with ``env`` added to the environment
        (a kernel that has run nothing yet only moves there)."""
        self.wait_ready()
        code = _RESET if self.runs else _ENTER
        # absolute: the kernel is still in the last case's folder, where a relative one is not
        self._silent(code.format(cwd=str(Path(cwd).resolve()), env=dict(env or {})))

    def execute(self, nb_in: Path, nb_out: Path, params: dict[str, Any], *, timeout: int,
                env: dict[str, str] | None = None) -> None:
        """Reset the kernel and run one notebook on it with papermill."""
        self.reset(cwd=nb_out.parent, env=env)  # first: its wait imports nbformat without the IRI grammar
        import papermill as pm

        self.runs += 1
        pm.execute_notebook(str(nb_in), str(nb_out), parameters=params, kernel_name="python3",
                            progress_bar=False, execution_timeout=timeout, engine_name=WARM_ENGINE,
                            warm_kernel=self)

    def shutdown(self) -> None:
        """Stop the kernel at once (its notebooks are written) and remove its sockets."""
        try:
            if getattr(self, "kc", None) is not None:
                self.kc.stop_channels()
            self._run_sync(self.km.shutdown_kernel)(now=True)
        finally:
            shutil.rmtree(getattr(self.km, "_ipc_dir", ""), ignore_errors=True)

    def stop(self) -> None:
        """:meth:`shutdown` for a kernel that may be dead already (its errors are not news)."""
        try:
            self.shutdown()
        except Exception:  # noqa: BLE001 - already dead
            pass

    def __enter__(self) -> WarmKernel:
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()


def kernel_env() -> dict[str, str]:
    """The variables a case's kernel must see as the runner sets them now."""
    return {k: v for k, v in os.environ.items() if k.startswith(("BILLING_NB_", "STRIPE_"))}
