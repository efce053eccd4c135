"""The case notebook in a real JupyterLab, driven by headless Chromium through Playwright.

What a person does: open notebooks/case.ipynb (parameterised for one demo customer),
Run All, confirm the suggested bucket in the picker, tick one harmless action in the
plan checklist and press "Execute ticked". The handlers run in the lab's kernel and
write case.json; the test reads that record and the sandbox, never the widgets' state.

Run with `make test-browser` (installs chromium and playwright when missing). It is not
part of `make test`, and it never skips: a missing browser or playwright is an error.
Screenshots of each stage land in the test's tmp dir (printed on failure).
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat
import pytest
import stripe
from papermill.iorw import load_notebook_node
from papermill.parameterize import parameterize_notebook
from playwright.sync_api import Browser, Locator, Page, sync_playwright
from playwright.sync_api import expect

from billing_nb.config import API_VERSION
from billing_nb.demo.seed import seed_demo
from billing_nb.sandbox.server import ThreadedSandbox

REPO = Path(__file__).resolve().parents[2]
NOTEBOOK = REPO / "notebooks" / "case.ipynb"
BIN = Path(sys.executable).parent  # the venv's bin: jupyter lab and its kernel come from here
CHROMIUM = os.environ.get("BILLING_NB_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
KEY = "sk_test_billing_nb_browser"
STORY = "dup_personal"  # suggested bucket is the right one; its plan has a harmless document action
CASE_ID = "browser-1"
LAB_START_TIMEOUT = 60.0
UI_TIMEOUT_MS = 60_000  # kernel start + Run All + a Stripe round trip per step, on 2 cores


@dataclass
class Sandbox:
    url: str
    client: stripe.StripeClient
    customer_id: str
    expected_bucket: str


@dataclass
class Lab:
    url: str
    token: str
    root: Path
    log: Path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with ThreadedSandbox() as sb:
        client = stripe.StripeClient(KEY, base_addresses={"api": sb.url}, stripe_version=API_VERSION)
        (story,) = seed_demo(client, (STORY,))
        yield Sandbox(sb.url, client, story.customer_id, story.expected_bucket)


def _write_settings(settings_dir: Path) -> None:
    """Lab user settings of the test's own: no news/update fetches, every cell in the DOM."""
    prefs = {
        "@jupyterlab/apputils-extension/notification.jupyterlab-settings":
            {"fetchNews": "false", "checkForUpdates": False},
        "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    }
    for rel, value in prefs.items():
        path = settings_dir / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(value))


def _write_notebook(root: Path, customer_id: str) -> Path:
    nb = load_notebook_node(str(NOTEBOOK))  # papermill's reader: every cell gets its tags list
    nb = parameterize_notebook(nb, {"case_id": CASE_ID, "customer": customer_id, "interactive": True,
                                    "output_dir": str(root), "lookup_kind": "customer"})
    path = root / "case.ipynb"
    nbformat.write(nb, str(path))
    return path


def _wait_for_lab(url: str, token: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + LAB_START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"jupyter lab exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=2) as r:
                if r.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.25)
    raise RuntimeError(f"jupyter lab did not answer in {LAB_START_TIMEOUT}s:\n{log.read_text()[-3000:]}")


def _descendants(pid: int) -> list[int]:
    """The processes under `pid` (its kernels), read from /proc."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _stop_lab(proc: subprocess.Popen[bytes], url: str, token: str, runtime: Path) -> None:
    """Ask the server to shut down (it stops its kernels), then end its process group and
    any of its kernels still alive (a kernel may sit in a process group of its own)."""
    kernels = _descendants(proc.pid)
    try:
        req = urllib.request.Request(f"{url}/api/shutdown", method="POST",
                                     headers={"Authorization": f"token {token}"})
        urllib.request.urlopen(req, timeout=5).close()
    except (urllib.error.URLError, OSError):
        pass
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        pass
    for sig, wait in ((signal.SIGTERM, 10), (signal.SIGKILL, 5)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            break
        try:
            proc.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            continue
    for pid in kernels:
        try:  # still ours only if its command line names our runtime dir (its connection file)
            if str(runtime) in Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace"):
                os.kill(pid, signal.SIGKILL)
        except (OSError, ProcessLookupError):
            pass
    if proc.poll() is None:
        raise RuntimeError(f"jupyter lab (pid {proc.pid}) did not stop")


@pytest.fixture
def lab(sandbox: Sandbox, tmp_path: Path) -> Iterator[Lab]:
    root = tmp_path / "lab"
    root.mkdir()
    _write_notebook(root, sandbox.customer_id)
    _write_settings(tmp_path / "settings")
    token = secrets.token_hex(16)
    port = _free_port()
    env = {
        **os.environ,
        "STRIPE_API_KEY": KEY,
        "STRIPE_API_BASE": sandbox.url,
        "BILLING_NB_CASES_DIR": str(tmp_path / "cases"),
        "JUPYTERLAB_SETTINGS_DIR": str(tmp_path / "settings"),
        "JUPYTERLAB_WORKSPACES_DIR": str(tmp_path / "workspaces"),
        "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"),
    }
    log = tmp_path / "lab.log"
    url = f"http://127.0.0.1:{port}"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [str(BIN / "jupyter"), "lab", "--no-browser", f"--port={port}", "--ip=127.0.0.1",
             f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
             "--ServerApp.port_retries=0", *(["--allow-root"] if os.geteuid() == 0 else [])],
            cwd=root, env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True,  # its own process group: kernels and all end together
        )
    try:
        _wait_for_lab(url, token, proc, log)
        yield Lab(url, token, root, log)
    finally:
        _stop_lab(proc, url, token, tmp_path / "runtime")


@pytest.fixture
def browser() -> Iterator[Browser]:
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


class Shots:
    """Numbered screenshots of each stage, in the test's tmp dir."""

    def __init__(self, page: Page, where: Path) -> None:
        self.page, self.where, self.n = page, where, 0
        where.mkdir(exist_ok=True)

    def take(self, stage: str, focus: Locator | None = None) -> Path:
        if focus is not None:
            focus.scroll_into_view_if_needed()
        self.n += 1
        path = self.where / f"{self.n:02d}-{stage}.png"
        self.page.screenshot(path=str(path))
        return path


def _cell_errors(page: Page) -> list[str]:
    """Tracebacks shown in the notebook (error outputs, not stderr chatter)."""
    return page.locator('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.error"]').all_inner_texts()


def _wait_visible(page: Page, target: Locator, what: str, shots: Shots, lab: Lab) -> None:
    """Wait for `target`, failing early (with the cell's traceback) if a cell errors."""
    deadline = time.monotonic() + UI_TIMEOUT_MS / 1000
    while time.monotonic() < deadline:
        if target.count() and target.first.is_visible():
            return
        errors = _cell_errors(page)
        if errors:
            shots.take(f"error-waiting-for-{what}")
            pytest.fail(f"a cell failed while waiting for {what}:\n" + "\n".join(errors)[-4000:])
        page.wait_for_timeout(250)
    shots.take(f"timeout-waiting-for-{what}")
    pytest.fail(f"{what} did not appear in {UI_TIMEOUT_MS / 1000:.0f}s; screenshots in {shots.where};"
                f" lab log tail:\n{lab.log.read_text()[-3000:]}")


def _record(root: Path) -> dict[str, Any]:
    return json.loads((root / "case.json").read_text())


def _wait_record(root: Path, ok: Any, what: str, timeout: float = 30.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    rec: dict[str, Any] = {}
    while time.monotonic() < deadline:
        try:
            rec = _record(root)
            if ok(rec):
                return rec
        except (FileNotFoundError, json.JSONDecodeError):
            pass  # not written yet, or caught mid-write
        time.sleep(0.2)
    pytest.fail(f"case.json never showed {what}; last seen: {json.dumps(rec)[:2000]}")


def test_confirm_and_execute_in_jupyterlab(sandbox: Sandbox, lab: Lab, browser: Browser, tmp_path: Path) -> None:
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.set_default_timeout(UI_TIMEOUT_MS)
    shots = Shots(page, tmp_path / "shots")
    print(f"\nscreenshots: {shots.where}\nlab log: {lab.log}")
    try:
        _confirm_and_execute(page, shots, sandbox, lab)
    except Exception:
        shots.take("failed")
        raise
    finally:
        page.close()


def _confirm_and_execute(page: Page, shots: Shots, sandbox: Sandbox, lab: Lab) -> None:
    document_id = f"document:{sandbox.customer_id}"

    # Open the notebook and wait for its kernel.
    page.goto(f"{lab.url}/lab/tree/case.ipynb?token={lab.token}")
    notebook = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden)")
    expect(notebook.locator(".jp-Cell").first).to_be_visible()
    expect(page.locator(".jp-StatusBar-Widget").get_by_text("Python 3 (ipykernel) | Idle")).to_be_visible()
    shots.take("opened")

    # Run All, the way a person does: menu Run -> Run All Cells.
    page.locator(".lm-MenuBar-item", has_text="Run").first.click()
    page.locator(".lm-Menu-item[data-command='runmenu:run-all']").click()

    # Step 2: the picker (dropdown preset to the suggestion, Confirm).
    confirm = notebook.locator("button.jupyter-button", has_text="Confirm")
    _wait_visible(page, confirm, "the Confirm button", shots, lab)
    dropdown = notebook.locator(".widget-dropdown select")
    expect(dropdown).to_have_count(1)
    picker_label = dropdown.locator("option:checked").inner_text()
    assert picker_label == sandbox.expected_bucket, "the suggestion is preselected"
    shots.take("picker", confirm)
    assert _record(lab.root)["status"] == "pending", "Run All alone leaves the case pending"
    dropdown.select_option(label=sandbox.expected_bucket)
    confirm.click()

    # Step 3: the plan checklist, nothing ticked.
    box = notebook.get_by_role("checkbox", name=document_id)
    _wait_visible(page, box, "the plan checklist", shots, lab)
    expect(notebook.get_by_text(f"Confirmed: {sandbox.expected_bucket}")).to_be_visible()
    boxes = notebook.locator(".widget-checkbox input[type=checkbox]")
    assert boxes.count() >= 2, "the plan has more than the one harmless action"
    assert not any(boxes.nth(i).is_checked() for i in range(boxes.count())), "nothing is pre-ticked"
    rec = _wait_record(lab.root, lambda r: r["classification"].get("confirmed_by") == "widget",
                       "the widget confirmation")
    assert rec["classification"]["bucket"] == sandbox.expected_bucket
    assert rec["executed"] == []
    shots.take("checklist", box)

    # Tick the harmless action (metadata on the customer) and execute only that.
    box.check()
    expect(box).to_be_checked()
    shots.take("ticked", box)
    notebook.locator("button.jupyter-button", has_text="Execute ticked").click()
    # The handler re-renders step 3: its "Executed" table gets the action's row.
    done = notebook.locator(".jp-OutputArea-output tr").filter(has_text=document_id).filter(has_text="succeeded")
    _wait_visible(page, done, "the executed row in step 3", shots, lab)
    shots.take("executed", done.first)

    rec = _wait_record(lab.root, lambda r: any(e["action_id"] == document_id
                                               for e in r.get("executed", [])), "the executed action")
    assert rec["classification"]["confirmed_by"] == "widget"
    assert rec["status"] == "done"
    executed = {e["action_id"]: e for e in rec["executed"]}
    assert list(executed) == [document_id], f"only the ticked action ran: {rec['executed']}"
    assert executed[document_id]["status"] == "succeeded"

    metadata = sandbox.client.v1.customers.retrieve(sandbox.customer_id).metadata.to_dict()
    assert metadata.get("billing_nb_case") == rec["case_id"], metadata
    subs = sandbox.client.v1.subscriptions.list({"customer": sandbox.customer_id, "status": "all"})
    assert all(s.status != "canceled" for s in subs.data), "the unticked cancel did not run"
