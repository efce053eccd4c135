"""The hand-driven case in a real JupyterLab, driven by headless Chromium through Playwright:
a reviewer's tool.

What a person does: `billing-nb open` a demo customer (a record folder in cases/ with its
own notebook), Run All, confirm the suggested bucket, tick one harmless action, read the
confirmation line, Execute, save, close the tab, reopen it and find steps 3-5 still there
(as saved outputs, not widgets), `billing-nb export`, then open the portfolio and casebook
reports. The record, the sandbox and the saved notebook are checked, not the widget state.

Run with `make test-browser` (installs chromium and playwright when missing). It is not
part of `make test`, and it never skips: a missing browser or playwright is an error.
A screenshot of each view lands in `.test-artifacts/browser/` (gitignored): look at them.
"""

from __future__ import annotations

import json
import os
import re
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
LAB_START_TIMEOUT = 120.0
UI_TIMEOUT_MS = 120_000  # lab load + kernel start + Run All + a Stripe round trip per step, on 2 busy cores
ARTIFACTS = REPO / ".test-artifacts" / "browser"
#: What no table cell may show: a Money dict, NaN, a pandas index header.
BAD_CELL = re.compile(r"\{'value'|'currency':|^NaN$|^nan$|^None$|price_[A-Za-z0-9]{12,}")


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


@dataclass
class Opened:
    case_id: str
    record_dir: Path
    rel: str  # the notebook's path under the lab root


@pytest.fixture
def lab(sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Lab, Opened]]:
    from billing_nb.config import load_settings
    from billing_nb.records.manual import prepare_manual_case

    root = tmp_path / "lab"
    root.mkdir()
    cases = root / "cases"
    env_vars = {"STRIPE_API_KEY": KEY, "STRIPE_API_BASE": sandbox.url, "BILLING_NB_CASES_DIR": str(cases)}
    for k, v in env_vars.items():
        monkeypatch.setenv(k, v)
    # what `billing-nb open LOOKUP` does before it starts the lab
    case = prepare_manual_case(sandbox.customer_id, settings=load_settings(), cases_dir=cases)
    opened = Opened(case.case_id, case.record_dir, case.notebook.relative_to(root).as_posix())
    _write_settings(tmp_path / "settings")
    token = secrets.token_hex(16)
    port = _free_port()
    env = {
        **os.environ, **env_vars,
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
        yield Lab(url, token, root, log), opened
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
    """Numbered screenshots of each view, in .test-artifacts/browser/ (emptied first)."""

    def __init__(self, page: Page, where: Path) -> None:
        self.page, self.where, self.n = page, where, 0
        where.mkdir(parents=True, exist_ok=True)
        for old in where.glob("*.png"):
            old.unlink()

    def take(self, stage: str, focus: Locator | None = None, *, full: bool = False) -> Path:
        if focus is not None:
            focus.first.scroll_into_view_if_needed()
        self.n += 1
        path = self.where / f"{self.n:02d}-{stage}.png"
        self.page.screenshot(path=str(path), full_page=full)
        return path


def _cell_errors(page: Page) -> list[str]:
    """Tracebacks shown in the notebook (error outputs, not stderr chatter), and a click
    handler's failure as the step shows it (``.bnb-error``)."""
    return (page.locator('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.error"]').all_inner_texts()
            + page.locator(".bnb-error").all_inner_texts())


def _wait_visible(page: Page, target: Locator, what: str, shots: Shots, lab: Lab,
                  timeout_ms: int = UI_TIMEOUT_MS) -> None:
    """Wait for `target`, failing early (with the cell's traceback) if a cell errors."""
    deadline = time.monotonic() + timeout_ms / 1000
    while time.monotonic() < deadline:
        if target.count() and target.first.is_visible():
            return
        errors = _cell_errors(page)
        if errors:
            shots.take(f"error-waiting-for-{what}")
            pytest.fail(f"a cell failed while waiting for {what}:\n" + "\n".join(errors)[-4000:])
        page.wait_for_timeout(250)
    shots.take(f"timeout-waiting-for-{what}")
    pytest.fail(f"{what} did not appear in {timeout_ms / 1000:.0f}s; screenshots in {shots.where};"
                f" lab log tail:\n{lab.log.read_text()[-3000:]}")


def _record(root: Path) -> dict[str, Any]:
    return json.loads((root / "case.json").read_text())


def _wait_record(root: Path, ok: Any, what: str, timeout: float = 60.0) -> dict[str, Any]:
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


def _open_notebook(page: Page, lab: Lab, rel: str, shots: Shots, what: str) -> Locator:
    """Open a notebook and wait for JupyterLab properly: the app shell, the notebook's cells,
    and (for a kernel) the status bar's Idle; every wait has the slow-machine timeout."""
    page.goto(f"{lab.url}/lab/tree/{rel}?token={lab.token}", wait_until="domcontentloaded",
              timeout=UI_TIMEOUT_MS)
    _wait_visible(page, page.locator("#jp-main-dock-panel"), f"the lab shell ({what})", shots, lab)
    notebook = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden)")
    _wait_visible(page, notebook.locator(".jp-Cell"), f"the cells of {what}", shots, lab)
    idle = page.locator(".jp-StatusBar-Widget").get_by_text(re.compile(r"\| Idle"))
    _wait_visible(page, idle, f"an idle kernel for {what}", shots, lab)
    return notebook


def _bad_cells(notebook: Locator) -> list[str]:
    return [t for t in notebook.locator(".jp-OutputArea-output td").all_inner_texts() if BAD_CELL.search(t.strip())]


def _saved_outputs(path: Path) -> dict[str, str]:
    nb = nbformat.read(str(path), as_version=4)
    out: dict[str, str] = {}
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        texts = []
        for o in cell.get("outputs", []):
            data = o.get("data", {})
            texts.append(str(data.get("text/html", "")) + str(data.get("text/markdown", "")) + str(data.get("text/plain", "")))
        out[cell.source.strip()] = "\n".join(texts)
    return out


def test_hand_driven_case_and_reports_in_jupyterlab(sandbox: Sandbox, lab: tuple[Lab, Opened], browser: Browser) -> None:
    the_lab, opened = lab
    page = browser.new_page(viewport={"width": 1500, "height": 1100})
    page.set_default_timeout(UI_TIMEOUT_MS)
    expect.set_options(timeout=UI_TIMEOUT_MS)
    shots = Shots(page, ARTIFACTS)
    print(f"\nscreenshots: {shots.where}\nlab log: {the_lab.log}")
    try:
        _drive(page, shots, sandbox, the_lab, opened, browser)
    except Exception:
        if not shots.page.is_closed():
            shots.take("failed")
        raise
    finally:
        for p in browser.contexts:
            for open_page in p.pages:
                open_page.close()


def _drive(page: Page, shots: Shots, sandbox: Sandbox, lab: Lab, opened: Opened, browser: Browser) -> None:
    from billing_nb.cli import main
    from billing_nb.notebook.format import money_of

    document_id = f"document:{sandbox.customer_id}"
    notebook = _open_notebook(page, lab, opened.rel, shots, "the case")
    shots.take("opened")

    # Run All, the way a person does: menu Run -> Run All Cells.
    page.locator(".lm-MenuBar-item", has_text="Run").first.click()
    page.locator(".lm-Menu-item[data-command='runmenu:run-all']").click()

    # Step 2: the picker (dropdown preset to the suggestion, Confirm).
    confirm = notebook.locator("button.jupyter-button", has_text="Confirm")
    _wait_visible(page, confirm, "the Confirm button", shots, lab)
    customer_page = notebook.locator(".bnb-customer")
    expect(customer_page).to_be_visible()
    expect(customer_page).to_contain_text("Pays for")
    expect(customer_page).to_contain_text(re.compile(r"Pro · \$\d+\.\d\d / month · renews \d{1,2} \w{3} \d{4}"))
    expect(customer_page).to_contain_text("••")
    shots.take("customer-page", customer_page)
    notebook.get_by_role("heading", name="Billing history (newest first)").scroll_into_view_if_needed()
    shots.take("timeline")
    dropdown = notebook.locator(".widget-dropdown select")
    expect(dropdown).to_have_count(1)
    assert dropdown.locator("option:checked").inner_text() == sandbox.expected_bucket, "the suggestion is preselected"
    assert _record(opened.record_dir)["status"] == "pending", "Run All alone leaves the case pending"
    shots.take("picker", confirm)
    dropdown.select_option(label=sandbox.expected_bucket)
    confirm.click()

    # Step 3: the plan checklist, nothing ticked, the static step 3 above it.
    box = notebook.get_by_role("checkbox", name=document_id)
    _wait_visible(page, box, "the plan checklist", shots, lab)
    expect(notebook.get_by_text(f"Confirmed: {sandbox.expected_bucket}")).to_be_visible()
    boxes = notebook.locator(".widget-checkbox input[type=checkbox]")
    assert boxes.count() >= 2, "the plan has more than the one harmless action"
    assert not any(boxes.nth(i).is_checked() for i in range(boxes.count())), "nothing is pre-ticked"
    rec = _wait_record(opened.record_dir, lambda r: r["classification"].get("confirmed_by") == "widget",
                       "the widget confirmation")
    # amounts render as written in the record: a $ is a $, and MathJax typeset no $…$ pair
    for action in rec["plan"]:
        if action["amount"]:
            expect(notebook.locator(".jp-OutputArea-output td", has_text=money_of(action["amount"])).first).to_be_visible()
    assert notebook.locator("mjx-container, .MathJax").count() == 0, "a $…$ pair was typeset as math"
    assert _bad_cells(notebook) == []
    notebook.get_by_role("heading", name="Contract shape").first.scroll_into_view_if_needed()
    shots.take("contract-and-plan")

    # Tick the harmless action: the confirmation line says what Execute will do.
    box.check()
    expect(notebook.get_by_text(f"Execute will note the case on {sandbox.customer_id}.")).to_be_visible()
    shots.take("ticked", box)
    execute = notebook.locator("button.jupyter-button", has_text="Execute ticked")
    execute.click()
    done = notebook.locator(".jp-OutputArea-output tr").filter(has_text=document_id).filter(has_text="succeeded")
    heard = notebook.get_by_text("Executing ").or_(done)
    _wait_visible(page, heard, "the kernel's answer to Execute", shots, lab)
    _wait_visible(page, done, "the executed row in step 3", shots, lab)
    shots.take("executed", done)
    rec = _wait_record(opened.record_dir, lambda r: any(e["action_id"] == document_id
                                                        for e in r.get("executed", [])), "the executed action")
    assert rec["case_id"] == opened.case_id and rec["status"] == "done"
    assert [e["action_id"] for e in rec["executed"]] == [document_id], "only the ticked action ran"
    expect(notebook.get_by_text("Follow-up to send")).to_be_visible()
    notebook.locator(".bnb-followup").scroll_into_view_if_needed()
    shots.take("handoff-and-followup")

    # Save, close the tab, reopen: steps 3-5 are saved outputs.
    page.keyboard.press("Control+s")
    path = opened.record_dir / "case.ipynb"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and "succeeded" not in _saved_outputs(path).get("nb.step3_act(approve)", ""):
        time.sleep(0.5)
    saved = _saved_outputs(path)
    assert "Contract shape" in saved["nb.step3_act(approve)"] and "succeeded" in saved["nb.step3_act(approve)"]
    assert "DECISION" in saved["nb.step5_handoff()"]
    page.locator(".lm-MenuBar-item", has_text="File").first.click()
    page.locator(".lm-Menu-item[data-command='filemenu:close-and-cleanup']").click()
    dialog = page.locator(".jp-Dialog")
    if dialog.count():
        dialog.locator("button", has_text=re.compile("Ok|Close|Shut Down", re.I)).first.click()
    expect(page.locator(".jp-NotebookPanel:not(.lm-mod-hidden)")).to_have_count(0)
    page2 = browser.new_page(viewport={"width": 1500, "height": 1100})
    page2.set_default_timeout(UI_TIMEOUT_MS)
    page.close()
    shots.page = page2
    notebook = _open_notebook(page2, lab, opened.rel, shots, "the reopened case")
    for text in ("Contract shape", "Executed", "Follow-up to send"):
        expect(notebook.get_by_text(text).first).to_be_attached()
    expect(notebook.locator(".jp-OutputArea-output tr").filter(has_text=document_id).filter(
        has_text="succeeded").first).to_be_attached()
    expect(notebook.locator(".jp-RenderedMarkdown h2", has_text="DECISION").first).to_be_attached()
    # the saved handoff cell and outputs (a reopened notebook is untrusted: sanitized) show $ as written
    expect(notebook.locator(".jp-RenderedMarkdown .mathjax_ignore").first).to_be_attached()
    expect(notebook.locator(".jp-RenderedMarkdown", has_text=re.compile(r"\$\d+\.\d\d [A-Z]{3}")).first).to_be_attached()
    assert notebook.locator("mjx-container, .MathJax").count() == 0, "a $…$ pair was typeset as math"
    body = notebook.inner_text()
    assert "Output()" not in body and "BucketPicker(children" not in body
    assert _bad_cells(notebook) == []
    notebook.get_by_role("heading", name="Contract shape").first.scroll_into_view_if_needed()
    shots.take("reopened-step-3")

    metadata = sandbox.client.v1.customers.retrieve(sandbox.customer_id).metadata.to_dict()
    assert metadata.get("billing_nb_case") == opened.case_id, metadata
    subs = sandbox.client.v1.subscriptions.list({"customer": sandbox.customer_id, "status": "all"})
    assert all(s.status != "canceled" for s in subs.data), "the unticked cancel did not run"

    # Export finishes the record; the record is in cases/, the casebook lists it.
    assert main(["export", str(opened.record_dir)]) == 0
    assert (opened.record_dir / "handoff.md").exists()
    cases = lab.root / "cases"
    assert opened.record_dir.parent.parent == cases
    from billing_nb.cli import run_report

    reports = lab.root / "reports"
    casebook = run_report("casebook", out=reports, cases_dir=cases)
    portfolio = run_report("portfolio", out=reports, max_pages=5)
    for name, report in (("portfolio", portfolio), ("casebook", casebook)):
        nb = _open_notebook(page2, lab, report.relative_to(lab.root).as_posix(), shots, name)
        shots.take(f"report-{name}")
        if name == "casebook":
            expect(nb.get_by_text(opened.case_id).first).to_be_attached()
        body = nb.inner_text()
        assert "Traceback" not in body, name
        # the report tables read like the case's: no dict, NaN, ISO date or raw price id, no index
        assert nb.locator(".jp-OutputArea-output td").count() > 10, name
        assert _bad_cells(nb) == [], name
        assert [t for t in nb.locator(".jp-OutputArea-output td").all_inner_texts()
                if re.match(r"\d{4}-\d\d-\d\d", t.strip())] == [], name
        assert nb.locator(".jp-OutputArea-output tbody th").count() == 0, f"{name}: an index column"
    page2.close()
