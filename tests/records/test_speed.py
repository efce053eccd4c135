"""Case speed (issue 15): request waves and counts of a whole case, the CLI's imports,
and warm kernels that leak nothing from one case to the next. Counts, never times."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import nbformat
import pytest

from tests.fixtures.wavegate import WaveGate

pytestmark = [pytest.mark.sandbox, pytest.mark.notebook]


def _run_through_gate(demo: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, story: str) -> tuple[WaveGate, Any]:
    from billing_nb.records.kernels import WarmKernel
    from billing_nb.records.runner import CaseRequest, run_case

    person = demo.story(story)
    # the kernel is started first (as a batch worker's is): on a loaded machine its start-up
    # can starve the reading threads for longer than the gate's quiet window. The window is 1 s:
    # a dependent request can only be sent after the gate released what it depends on, so a
    # longer window never merges dependent waves; it only keeps one wave whole when a starved
    # thread sends its request late (a 0.5-s window split a wave about once in 20 runs)
    with WarmKernel() as kernel, WaveGate(demo.url, quiet=1.0) as gate:
        monkeypatch.setenv("STRIPE_API_BASE", gate.url)
        result = run_case(CaseRequest(lookup=person.lookup, bucket=person.expected_bucket), cases_dir=tmp_path / "cases",
                          kernel=kernel)
    return gate, result


@pytest.mark.parametrize("story, budget", [
    ("dup_customer", 14),  # an email shared by two customers: 2 lookup + 2 x 4 lists + portal + products + 2 previews (no events: nothing for them to explain)
    ("failed_renewal", 14),  # a cus_ lookup: its lists ride with the retrieve
    ("disputed", 14),  # a ch_ lookup: the email wave rides with the lists; the dispute with the products
])
def test_whole_case_is_three_waves_with_nothing_fetched_twice(demo_env: Any, monkeypatch: pytest.MonkeyPatch,
                                                              tmp_path: Path, story: str, budget: int) -> None:
    # every request of the runner and of the notebook's kernel passes the gate, which releases
    # each wave only when no request has arrived for a while: a dependent request waits a wave
    gate, result = _run_through_gate(demo_env, monkeypatch, tmp_path, story)
    assert result.status == "done", result.error
    shown = [[r.split("?")[0] for r in wave] for wave in gate.waves]
    assert len(gate.waves) <= 3, shown
    assert len(gate.requests) <= budget, shown
    assert len(set(gate.requests)) == len(gate.requests), "a request was made twice"
    # the notebook read nothing: its snapshot is the runner's, handed over in a file since deleted
    nb = nbformat.read(str(result.record_dir / "case.ipynb"), as_version=4)
    params = next(c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", []))
    handoff = Path(params.source.split("prefetched = ")[1].split("\n")[0].strip("\"'"))
    assert handoff.name == "snapshot.json" and not handoff.exists() and not handoff.parent.exists()
    assert demo_env.story(story).email not in params.source
    # Stripe's figures came with the snapshot's last wave: the refund options carry them
    previews = [r for r in gate.waves[-1] if "/v1/invoices/create_preview" in r]
    previewed = [o for o in result.record["refund_options"] if o["stripe_amount"] is not None]
    assert bool(previews) == bool(previewed)
    if story == "dup_customer":
        assert len(previews) == 2 and len(previewed) >= 2  # one per live subscription


def test_cli_help_imports_no_heavy_module() -> None:
    code = textwrap.dedent("""
        import sys, json
        from billing_nb.cli import main
        try:
            main(["--help"])
        except SystemExit:
            pass
        try:
            main(["case", "not a lookup"])
        except SystemExit:
            pass
        print(json.dumps(sorted(sys.modules)))
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={"PATH": "", "STRIPE_API_KEY": "sk_test_x"})
    loaded = set(json.loads(out.stdout.strip().splitlines()[-1]))
    assert "billing_nb.cli" in loaded and "billing_nb.sandbox.cli" in loaded  # the parser was built
    heavy = {"papermill", "nbformat", "nbclient", "jupyter_client", "jsonschema", "rfc3987_syntax", "pandas", "stripe",
             "uvicorn", "starlette", "billing_nb.sandbox.app", "billing_nb.sandbox.server", "billing_nb.records.runner",
             # the sandbox commands' HTTP client (urllib.request pulls http.client, email and ssl: a third
             # of --help's imports) loads when a sandbox command runs, not when its parser is built
             "urllib.request", "http.client", "ssl", "email.parser", "jinja2", "babel", "duckdb", "tqdm"}
    assert not heavy & loaded, sorted(heavy & loaded)
    assert "not a lookup" in out.stderr


def _modules_after(code: str) -> set[str]:
    out = subprocess.run([sys.executable, "-c", code + "\nimport sys, json\nprint(json.dumps(sorted(sys.modules)))"],
                         capture_output=True, text=True, check=True)
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


def test_case_kernel_and_runner_import_only_what_they_use() -> None:
    from billing_nb.records.kernels import WARM_IMPORTS

    # the kernel's warm-up (the case notebook's first cell) never writes notebooks: no nbformat,
    # whose validator pulls jsonschema's format checks and rfc3987_syntax's grammar compile
    kernel = _modules_after(WARM_IMPORTS)
    assert "billing_nb.notebook.cells" in kernel and "pandas" in kernel  # the views' tables
    assert not {"nbformat", "jsonschema", "rfc3987_syntax", "papermill"} & kernel, \
        sorted({"nbformat", "jsonschema", "rfc3987_syntax", "papermill"} & kernel)
    # the runner reads and runs the notebook: no pandas (frames are built in the kernel)
    runner = _modules_after("import billing_nb.records.runner")
    assert "stripe" in runner and not {"pandas", "numpy", "nbformat"} & runner, sorted({"pandas", "numpy", "nbformat"} & runner)


def test_nbformat_is_imported_without_the_iri_grammar_and_it_stays_importable() -> None:
    code = textwrap.dedent("""
        import sys
        from billing_nb.records.kernels import import_nbformat_without_iri_grammar
        import_nbformat_without_iri_grammar()
        import nbformat, jsonschema
        assert "rfc3987_syntax" not in sys.modules, "the grammar was compiled"
        nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1")])
        nbformat.validate(nb)  # nbformat's schema needs no format checks
        try:
            import rfc3987_syntax  # installed with Jupyter: still importable for anyone else
        except ModuleNotFoundError:
            pass
        else:
            assert "rfc3987_syntax" in sys.modules
        print("ok")
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr


def _notebook(path: Path, *cells: str) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(c) for c in cells]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, str(path))
    return path


def test_warm_kernel_gives_each_case_a_fresh_namespace(tmp_path: Path) -> None:
    from billing_nb.records.kernels import WarmKernel

    mods = tmp_path / "mods"
    mods.mkdir()
    (mods / "bnb_side_effect.py").write_text(
        "import os\nos.environ['BNB_LEAK'] = 'set by import'\n"
        f"open({str(tmp_path / 'imports.log')!r}, 'a').write('imported\\n')\n")
    first = _notebook(tmp_path / "first.ipynb",
                      f"import sys\nsys.path.insert(0, {str(mods)!r})\nimport bnb_side_effect",
                      "leaked = 41\nimport sqlite3\nconn = sqlite3.connect('ledger.sqlite')\n"
                      "conn.execute('create table t (x)')\n"
                      "from billing_nb.actions.ledger import Ledger\nledger = Ledger(__import__('pathlib').Path('l2.sqlite'))",
                      "import os\nos.environ['BNB_CASE_VAR'] = 'first'")
    second = _notebook(tmp_path / "second.ipynb",
                       "import os, sys, gc, sqlite3\n"
                       "assert 'leaked' not in globals() and 'conn' not in globals() and 'ledger' not in globals()\n"
                       "assert 'bnb_side_effect' not in sys.modules\n"
                       f"assert {str(mods)!r} not in sys.path\n"
                       "assert 'BNB_LEAK' not in os.environ and 'BNB_CASE_VAR' not in os.environ\n"
                       "gc.collect()\n"
                       "assert gc.get_freeze_count() > 10000  # the warm-up's objects: never scanned by a case's collections\n"
                       "def files(c):\n"
                       "    try:\n"
                       "        return [r[2] for r in c.execute('pragma database_list')]\n"
                       "    except sqlite3.ProgrammingError:\n"
                       "        return []  # closed\n"
                       "open_ = [f for o in gc.get_objects() if isinstance(o, sqlite3.Connection) for f in files(o)]\n"
                       "assert not [f for f in open_ if f.endswith(('ledger.sqlite', 'l2.sqlite'))], open_\n"
                       "assert os.getcwd() == os.path.realpath(case_dir)",
                       f"sys.path.insert(0, {str(mods)!r})\nimport bnb_side_effect\n"
                       "assert os.environ['BNB_LEAK'] == 'set by import'  # the import ran again")
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    with WarmKernel(cwd=tmp_path) as kernel:
        pid = kernel.km.provisioner.pid if kernel.km.provisioner else None  # type: ignore[attr-defined]
        kernel.execute(first, tmp_path / "a" / "out.ipynb", {}, timeout=60)
        kernel.execute(second, tmp_path / "b" / "out.ipynb", {"case_dir": str(tmp_path / "b")}, timeout=60)
        assert kernel.runs == 2 and kernel.alive()
        assert (kernel.km.provisioner.pid if kernel.km.provisioner else None) == pid  # type: ignore[attr-defined]
    assert (tmp_path / "imports.log").read_text().count("imported") == 2
    out = nbformat.read(str(tmp_path / "b" / "out.ipynb"), as_version=4)
    assert all(o.get("output_type") != "error" for c in out.cells for o in c.get("outputs", []))


def test_warm_batch_runs_cases_on_two_workers(demo_env: Any, tmp_path: Path) -> None:
    from billing_nb.records.batch import run_batch
    from billing_nb.records.runner import CaseRequest

    people = [demo_env.story(s) for s in ("dup_personal", "failed_renewal", "team")]
    results = run_batch([CaseRequest(lookup=p.lookup, bucket=p.expected_bucket) for p in people],
                        cases_dir=tmp_path / "cases", workers=2)
    assert [r.status for r in results] == ["done"] * 3, [r.error for r in results]
    assert [r.record["customer"]["id"] for r in results] == [p.customer_id for p in people]


def test_warm_kernel_saves_the_notebook_at_start_and_end_not_per_cell(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """Papermill saves (validates, deep-copies) the notebook before and after every cell; the warm
    engine saves at the start, every SAVE_EVERY seconds and at the end -- also when a cell fails,
    so the failed notebook on disk still shows every output up to the error."""
    import papermill.iorw
    from papermill.exceptions import PapermillExecutionError

    from billing_nb.records import kernels
    from billing_nb.records.kernels import WarmKernel

    writes: list[int] = []
    real = papermill.iorw.write_ipynb

    def counting(nb: Any, path: Any) -> None:
        writes.append(sum(1 for c in nb.cells if c.get("outputs")))
        real(nb, path)

    monkeypatch.setattr(papermill.iorw, "write_ipynb", counting)
    monkeypatch.setattr("papermill.engines.write_ipynb", counting)
    monkeypatch.setattr("papermill.execute.write_ipynb", counting)
    cells = [f"print({i})" for i in range(8)]
    good = _notebook(tmp_path / "good.ipynb", *cells)
    bad = _notebook(tmp_path / "bad.ipynb", *cells[:3], "raise ValueError('cell 4 fails')", *cells[3:])
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    with WarmKernel(cwd=tmp_path) as kernel:
        kernel.execute(good, tmp_path / "a" / "out.ipynb", {}, timeout=60)
        good_writes = list(writes)
        writes.clear()
        monkeypatch.setattr(kernels, "SAVE_EVERY", 0.0)  # every chance to save is taken again
        with pytest.raises(PapermillExecutionError):
            kernel.execute(bad, tmp_path / "b" / "out.ipynb", {}, timeout=60)
        every_chance = list(writes)
    # start, end (the engine's finally) and papermill's own final write; was 2 per cell + 3
    assert len(good_writes) <= 4, good_writes
    assert good_writes[-1] == 8
    assert len(every_chance) > 8  # the throttle is what kept the count down
    out = nbformat.read(str(tmp_path / "b" / "out.ipynb"), as_version=4)
    shown = [c.outputs[0].get("text", c.outputs[0].get("ename")) for c in out.cells
             if c.cell_type == "code" and c.outputs]
    assert shown == ["0\n", "1\n", "2\n", "ValueError"]


def test_warm_kernel_runs_cases_whose_folders_are_relative(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`billing-nb demo` and `batch` name record folders relative to where they run
    (``cases/2026-12-02/<id>``); the kernel sits in the last case's folder, so moving it to a
    relative folder failed every second case of a worker (FileNotFoundError: 7 of 15 demo cases)."""
    from billing_nb.records.kernels import WarmKernel

    monkeypatch.chdir(tmp_path)
    check = _notebook(tmp_path / "check.ipynb", "import os\nassert os.getcwd() == os.path.realpath(case_dir), os.getcwd()")
    for name in ("a", "b", "c"):
        (tmp_path / "cases" / name).mkdir(parents=True)
    with WarmKernel() as kernel:
        for name in ("a", "b", "c"):
            kernel.execute(check, Path("cases") / name / "out.ipynb", {"case_dir": str(tmp_path / "cases" / name)},
                           timeout=60)
    for name in ("a", "b", "c"):
        out = nbformat.read(str(tmp_path / "cases" / name / "out.ipynb"), as_version=4)
        assert all(o.get("output_type") != "error" for c in out.cells for o in c.get("outputs", []))
