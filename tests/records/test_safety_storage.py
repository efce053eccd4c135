"""Records and ledgers that survive the disk: one clear line naming path and cause (exit 2
bad input, 3 I/O), never a traceback, never a half-written record."""

from __future__ import annotations

import errno
import json
import resource
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from billing_nb.exceptions import CorruptFileError, StorageError
from billing_nb.records.storage import atomic_write_text, read_json

from safety_helpers import Faulty, cli, faulty_world, monthly_customer

pytestmark = pytest.mark.sandbox


@pytest.fixture(scope="module")
def fw() -> Iterator[Faulty]:
    with faulty_world() as f:
        yield f


def _one_line(stderr: str) -> str:
    lines = [ln for ln in stderr.strip().splitlines() if ln.startswith("billing-nb:")]
    assert "Traceback" not in stderr, stderr[-2000:]
    assert len(lines) == 1, stderr[-2000:]
    return lines[0]


def _cli(args: list[str], fw: Faulty, **kw: object) -> subprocess.CompletedProcess[str]:
    proc = cli(args, fw.env(), **kw)  # type: ignore[arg-type]
    out, err = proc.communicate(timeout=300)
    return subprocess.CompletedProcess(args, proc.returncode, out, err)


# --- unit: atomic writes and the one line --------------------------------------------------------
def test_a_failed_atomic_write_keeps_the_previous_file_and_names_the_cause(tmp_path: Path) -> None:
    path = tmp_path / "case.json"
    atomic_write_text(path, '{"status": "in_progress"}')

    def full_disk(tmp: Path) -> None:
        tmp.write_text('{"status": "do')  # half written, then the disk is full
        with open("/dev/full", "w") as dev:
            dev.write("x" * 65536)
            dev.flush()

    from billing_nb.records.storage import saved_atomically

    with pytest.raises(StorageError, match=r"no space left on the device \(ENOSPC\)"):
        saved_atomically(path, full_disk)
    assert json.loads(path.read_text()) == {"status": "in_progress"}  # never a truncated record
    assert sorted(p.name for p in tmp_path.iterdir()) == ["case.json"]  # no temp file left behind


@pytest.mark.parametrize("code,words", [(errno.ENOSPC, "no space left"), (errno.EFBIG, "ulimit -f"),
                                        (errno.ENOTDIR, "is a file, not a folder"), (errno.EROFS, "read-only"),
                                        (errno.EACCES, "permission denied"), (errno.EDQUOT, "quota")])
def test_os_errors_become_one_line_with_path_and_cause(code: int, words: str) -> None:
    err = StorageError.of("/x/cases", OSError(code, "raw", "/x/cases/case.json"))
    assert isinstance(err, StorageError) and err.exit_code == 3
    assert str(err).startswith("/x/cases/case.json: ") and words in str(err) and "\n" not in str(err)


def test_corrupt_case_json_is_bad_input(tmp_path: Path) -> None:
    (tmp_path / "case.json").write_text('{"status": "done", "exec')
    with pytest.raises(CorruptFileError, match="case.json: not valid JSON") as err:
        read_json(tmp_path / "case.json")
    assert err.value.exit_code == 2
    (tmp_path / "case.json").write_text("[1, 2]")
    with pytest.raises(CorruptFileError, match="not a JSON object"):
        read_json(tmp_path / "case.json")


# --- the real CLI ---------------------------------------------------------------------------------
def test_cases_path_through_a_file(fw: Faulty, tmp_path: Path) -> None:
    cus, _ = monthly_customer(fw.world)
    (tmp_path / "afile").write_text("not a folder")
    done = _cli(["case", cus, "--out", str(tmp_path / "afile" / "cases")], fw)
    assert done.returncode == 3
    line = _one_line(done.stderr)
    assert "afile" in line and "not a folder" in line


def test_corrupt_ledger_stops_before_any_record(fw: Faulty, tmp_path: Path) -> None:
    cus, _ = monthly_customer(fw.world)
    cases = tmp_path / "cases"
    cases.mkdir()
    (cases / "ledger.sqlite").write_bytes(b"garbage, not SQLite " * 64)
    done = _cli(["case", cus, "--out", str(cases)], fw)
    assert done.returncode == 2
    assert "ledger.sqlite: not a readable SQLite ledger" in _one_line(done.stderr)
    assert list(cases.rglob("case.json")) == []
    book = _cli(["casebook", "--out", str(cases)], fw)
    assert book.returncode == 2 and "not a readable SQLite ledger" in _one_line(book.stderr)


def test_export_of_a_corrupt_case_json(fw: Faulty, tmp_path: Path) -> None:
    folder = tmp_path / "rec"
    folder.mkdir()
    (folder / "case.ipynb").write_text("{}")
    (folder / "case.json").write_text('{"case_id": "x", "status": "do')
    done = _cli(["export", str(folder / "case.ipynb")], fw)
    assert done.returncode == 2
    assert "case.json: not valid JSON" in _one_line(done.stderr)


@pytest.mark.notebook
def test_batch_reports_bad_lines_by_number_and_runs_the_others(fw: Faulty, tmp_path: Path) -> None:
    cus, _ = monthly_customer(fw.world)
    batch = tmp_path / "batch.jsonl"
    batch.write_text("\n".join([
        json.dumps({"lookup": cus, "complaint": "broken", "bucket": "product_failure"}),
        '{"lookup": "cus_x", "complaint": ',  # truncated
        json.dumps({"complaint": "no lookup"}),
        json.dumps({"lookup": cus, "approve": "refund:ch_1:1"}),
        "",
        json.dumps(["not", "an", "object"]),
    ]) + "\n")
    cases = tmp_path / "cases"
    done = _cli(["batch", str(batch), "--out", str(cases), "--workers", "1"], fw)
    assert "Traceback" not in done.stderr
    assert done.returncode == 2, done.stderr
    for n, words in ((2, "not JSON"), (3, 'needs an object with a "lookup"'), (4, '"approve" must be a list'),
                     (6, 'needs an object with a "lookup"')):
        assert f"batch.jsonl:{n}: {words}" in done.stderr, done.stderr
    [record] = list(cases.rglob("case.json"))  # the good line ran
    assert json.loads(record.read_text())["status"] == "done"
    assert "4 bad line(s) skipped; 1 case(s) run" in done.stderr


def test_missing_batch_file(fw: Faulty, tmp_path: Path) -> None:
    done = _cli(["batch", str(tmp_path / "nope.jsonl")], fw)
    assert done.returncode == 2 and "nope.jsonl: no such batch file" in _one_line(done.stderr)


@pytest.mark.notebook
def test_file_size_limit_mid_case_is_one_line_and_no_record_claims_more(fw: Faulty, tmp_path: Path) -> None:
    cus, charge = monthly_customer(fw.world)
    cases = tmp_path / "cases"
    limit = 45_000  # the ledger and case.json fit; the executed notebook does not

    def small_files() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    proc = subprocess.Popen([sys.executable, "-m", "billing_nb.cli", "case", cus, "--bucket", "product_failure",
                             "--approve", f"refund:{charge}:2000", "--out", str(cases)], env=fw.env(cases),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=small_files)
    _, stderr = proc.communicate(timeout=300)
    assert proc.returncode == 3, stderr[-2000:]
    print(stderr[-3000:])
    assert "Traceback" not in stderr.split("billing-nb:")[-1]
    assert "file too large" in stderr or "EFBIG" in stderr or "disk I/O error" in stderr, stderr[-2000:]
    refunds = list(fw.world.c.v1.refunds.list({"charge": charge}).auto_paging_iter())
    for path in list(cases.rglob("*.json")):
        data = json.loads(path.read_text())  # every JSON file on disk is whole
        if path.name == "case.json":
            assert data["status"] != "done" or len(refunds) == 1
            landed = [e for e in data.get("executed") or [] if e["status"] == "succeeded"]
            assert len(landed) <= len(refunds)  # never claims more than Stripe holds
