import subprocess
import sys

import pytest

from billing_nb.cli import build_parser, main


def test_every_command_has_help(capsys: pytest.CaptureFixture[str]) -> None:
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    names = set(sub.choices)  # type: ignore[union-attr]
    assert {"case", "batch", "demo", "scan", "casebook", "export", "sandbox", "report"} <= names
    for name in names:
        with pytest.raises(SystemExit) as stop:
            main([name, "--help"])
        assert stop.value.code == 0
        out = capsys.readouterr().out
        assert "usage: billing-nb" in out and len(out) > 100, name


def test_sandbox_help_lists_its_commands(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["sandbox", "--help"])
    out = capsys.readouterr().out
    for cmd in ("serve", "start", "stop", "reset", "status", "seed"):
        assert cmd in out


def test_console_script_runs() -> None:
    done = subprocess.run([sys.executable, "-m", "billing_nb.cli", "--help"], capture_output=True, text=True)
    assert done.returncode == 0
    assert "Exit codes" in done.stdout


def test_scan_of_a_missing_path_is_exit_2_with_one_line(capsys: pytest.CaptureFixture[str], tmp_path) -> None:
    assert main(["scan", str(tmp_path / "no" / "such" / "path")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"billing-nb: cannot scan {tmp_path / 'no' / 'such' / 'path'}: no such file or folder"]


def test_scan_finds_each_planted_kind_in_a_file(capsys: pytest.CaptureFixture[str], tmp_path) -> None:
    planted = tmp_path / "planted.md"
    planted.write_text("mail o'brien@example.com\ncall 0044 20 7946 0958\ncall 4155552671\n"
                       "iban DE89 3704 0044 0532 0130 00\ncard 4242 4242 4242 4242\nkey sk_test_51HxAbCdEfGhIjKl\n")
    assert main(["scan", str(planted)]) == 5  # RedactionError: PII in clear, not a Stripe error
    out = capsys.readouterr().out
    kinds = [line.split(": ")[1] for line in out.splitlines() if line.startswith(str(planted))]
    assert kinds == ["email", "phone", "phone", "iban", "card", "key"]
    assert "6 leak(s) found" in out and "o'brien@" not in out and "4242 4242" not in out
# --- issue 14: a CLI that behaves ------------------------------------------------------------
import argparse
import json
import os
from pathlib import Path


def _parsers(parser: argparse.ArgumentParser, path: str = "billing-nb") -> list[tuple[str, argparse.ArgumentParser]]:
    found = [(path, parser)]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found.extend(_parsers(sub, f"{path} {name}"))
    return found


def test_every_option_of_every_command_has_help() -> None:
    missing = []
    for path, parser in _parsers(build_parser()):
        for action in parser._actions:
            if isinstance(action, (argparse._HelpAction, argparse._SubParsersAction)):
                continue
            if not action.help or action.help == argparse.SUPPRESS:
                missing.append(f"{path} {'/'.join(action.option_strings) or action.dest}")
    assert missing == []


def test_bucket_choices_are_the_buckets() -> None:
    from billing_nb.analysis.classify import Bucket
    from billing_nb.cli import BUCKETS

    assert set(BUCKETS) == {b.value for b in Bucket}


def _env(tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "STRIPE_API_KEY": "sk_test_cli", "STRIPE_API_BASE": "http://127.0.0.1:9",
            "BILLING_NB_CASES_DIR": str(tmp_path / "cases")}


def test_bad_bucket_is_refused_before_anything_runs(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "billing_nb", "case", "cus_AAAAAAAAAAAAAA", "--bucket", "bogus"],
                          capture_output=True, text=True, env=_env(tmp_path), cwd=tmp_path)
    assert done.returncode == 2
    assert "invalid choice: 'bogus'" in done.stderr and "Traceback" not in done.stderr
    # refused by the parser: Stripe (an unreachable address here) was never tried
    assert "cannot reach" not in done.stderr
    assert not (tmp_path / "cases").exists(), "no record"


def test_batch_file_is_checked_whole_before_any_case(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """Every line is checked before any case runs; each bad line is named with its number (and
    skipped: the good ones run, issue 9), so a file of bad lines runs nothing and exits 2."""
    monkeypatch.setenv("BILLING_NB_CASES_DIR", str(tmp_path / "cases"))
    batch = tmp_path / "b.jsonl"
    batch.write_text(json.dumps({"lookup": "x", "bucket": "nope"}) + "\n" + json.dumps({"complaint": "no lookup"}))
    assert main(["batch", str(batch)]) == 2
    err = capsys.readouterr().err
    assert f"{batch}:1: unknown bucket 'nope'" in err
    assert f"{batch}:2: needs an object" in err
    assert not (tmp_path / "cases").exists()
    batch.write_text("{not json\n")
    assert main(["batch", str(batch)]) == 2
    assert f"{batch}:1: not JSON" in capsys.readouterr().err


def test_python_dash_m_billing_nb() -> None:
    done = subprocess.run([sys.executable, "-m", "billing_nb", "--help"], capture_output=True, text=True)
    assert done.returncode == 0 and "usage: billing-nb" in done.stdout and "open" in done.stdout


def test_closed_pipe_is_not_a_traceback(tmp_path: Path) -> None:
    from billing_nb.actions.ledger import Ledger

    cases = tmp_path / "cases"
    ledger = Ledger(cases / "ledger.sqlite")
    for i in range(400):
        ledger.index_case({"case_id": f"c-{i:04d}", "status": "done", "created_at": "2026-11-24T00:00:00+00:00",
                           "customer": {"id": f"cus_{i}"}, "classification": {"bucket": "unclear"},
                           "complaint": "x" * 200}, cases / f"c-{i}")
    code = (f"import subprocess, sys\n"
            f"p = subprocess.Popen([sys.executable, '-m', 'billing_nb', 'casebook', '--json', '--out', {str(cases)!r}],"
            f" stdout=subprocess.PIPE, stderr=subprocess.PIPE)\n"
            f"p.stdout.readline(); p.stdout.close(); err = p.stderr.read(); p.wait()\n"
            f"sys.stdout.write(err.decode()); sys.exit(p.returncode)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert "Traceback" not in done.stdout and "BrokenPipeError" not in done.stdout, done.stdout
    assert done.returncode == 141


def test_unreachable_api_names_the_base_and_the_sandbox(monkeypatch: pytest.MonkeyPatch) -> None:
    import stripe

    from billing_nb.reading.masking import mask_text
    from billing_nb.reading.provider import translate

    monkeypatch.setenv("STRIPE_API_BASE", "http://127.0.0.1:9")
    err = stripe.APIConnectionError(
        "Unexpected error communicating with Stripe. If this problem persists,\nlet us know at support@stripe.com."
        "\n\n(Network error: ConnectionError: HTTPConnectionPool(host='127.0.0.1', port=9): Max retries exceeded "
        "(Caused by NewConnectionError('[Errno 111] Connection refused')))")
    text = str(translate(err))
    assert "STRIPE_API_BASE" in text and "http://127.0.0.1:9" in text and "billing-nb sandbox start" in text
    assert "connection refused" in text
    assert "support@stripe.com" in mask_text("let us know at support@stripe.com"), "Stripe's address is not PII"
    assert "j***@example.com" in mask_text("jo@example.com")


def test_progress_lines_when_not_a_terminal(capsys: pytest.CaptureFixture[str]) -> None:
    from billing_nb.records.console import progress

    with progress(2, "cases", bar=False) as p:
        p.step("a done")
        p.step("b pending")
    err = capsys.readouterr().err
    assert "cases: 1/2 a done" in err and "cases: 2/2 b pending" in err
    with progress(1, "cases", bar=True) as p:
        p.step()
    assert "1/1" in capsys.readouterr().err


def test_casebook_is_a_work_queue(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from billing_nb.actions.ledger import Ledger

    cases = tmp_path / "cases"
    ledger = Ledger(cases / "ledger.sqlite")

    def rec(cid: str, status: str, created: str, bucket: str | None, suggested: str) -> None:
        ledger.index_case({"case_id": cid, "status": status, "created_at": created, "customer": {"id": "cus_Q"},
                           "classification": {"bucket": bucket, "suggested": suggested}}, cases / "2026-11-20" / cid)

    rec("done-1", "done", "2026-11-20T00:00:00+00:00", "team_seats", "team_seats")
    rec("pend-new", "pending", "2026-11-23T00:00:00+00:00", None, "failed_payment")
    rec("pend-old", "pending", "2026-11-21T00:00:00+00:00", None, "team_seats")
    rec("fail-1", "failed", "2026-11-22T00:00:00+00:00", "unclear", "unclear")
    ledger.begin("int-1", "refund:ch_1:100", "bnb-k")  # a write begun and never finished
    rec("int-1", "done", "2026-11-22T12:00:00+00:00", "product_failure", "product_failure")
    assert main(["casebook", "--out", str(cases), "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["case"] for r in rows] == ["pend-old", "pend-new", "fail-1", "int-1", "done-1"]
    assert [r["status"] for r in rows] == ["pending", "pending", "failed", "interrupted", "done"]
    assert rows[0]["next"] == f"billing-nb case {cases / '2026-11-20' / 'pend-old'} --bucket team_seats"
    assert rows[0]["age"].endswith(("d", "h", "min"))
    assert main(["casebook", "--out", str(cases), "--json", "--bucket", "team_seats"]) == 0
    assert [r["case"] for r in json.loads(capsys.readouterr().out)] == ["pend-old", "done-1"]
    assert main(["casebook", "--out", str(cases), "--status", "failed", "--status", "interrupted"]) == 0
    table = capsys.readouterr().out
    assert "fail-1" in table and "int-1" in table and "pend-old" not in table and "age" in table


def test_a_record_folder_reruns_its_customer_with_its_saved_complaint(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                      capsys: pytest.CaptureFixture[str]) -> None:
    """The casebook's resume command names the record: the re-run keeps the customer and the
    (masked) complaint, so the confirmed bucket is not applied to a case without its complaint."""
    import billing_nb.records.runner as runner

    seen: list[Any] = []

    class Result:
        case_id, status, record_dir, error, record, exit_code = "c2", "done", tmp_path, None, {}, 0

    monkeypatch.setattr(runner, "run_case", lambda request, **kw: seen.append(request) or Result())
    monkeypatch.setenv("STRIPE_API_KEY", "sk_test_cli")
    record = tmp_path / "cases" / "2026-11-20" / "c1"
    record.mkdir(parents=True)
    (record / "case.json").write_text(json.dumps({"case_id": "c1", "customer": {"id": "cus_QXg1o8vcGmoR32"},
                                                  "complaint": "charged twice, j***@example.com", "approved": []}))
    for named in (record, record / "case.json", record / "case.ipynb"):
        assert main(["case", str(named), "--bucket", "duplicate_subscription"]) == 0
        assert seen[-1].lookup == "cus_QXg1o8vcGmoR32" and seen[-1].complaint == "charged twice, j***@example.com"
        assert seen[-1].bucket == "duplicate_subscription"
    assert main(["case", str(record), "--complaint", "a new complaint"]) == 0
    assert seen[-1].complaint == "a new complaint"
    (record / "case.json").write_text("{not json")
    assert main(["case", str(record)]) == 2
    err = capsys.readouterr().err
    assert "corrupt JSON" in err and "Traceback" not in err and len(seen) == 4


def test_repeated_approve_flags_all_count(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``--approve A --approve B C --approve A`` approves A, B and C (before: only the last flag's ids)."""
    import billing_nb.records.runner as runner

    seen: list[Any] = []

    class Result:
        case_id, status, record_dir, error, record, exit_code = "c1", "done", tmp_path, None, {}, 0

    monkeypatch.setattr(runner, "run_case", lambda request, **kw: seen.append(request) or Result())
    monkeypatch.setenv("STRIPE_API_KEY", "sk_test_cli")
    args = ["case", "cus_QXg1o8vcGmoR32", "--bucket", "duplicate_subscription"]
    assert main([*args, "--approve", "cancel:sub_A:now", "--approve", "refund:ch_B:100", "portal:cus_C",
                 "--approve", "cancel:sub_A:now"]) == 0
    assert seen[-1].approve == ("cancel:sub_A:now", "refund:ch_B:100", "portal:cus_C")
    assert main(args) == 0 and seen[-1].approve == ()  # none: a dry run
    assert build_parser().parse_args(["case", "x"]).approve == []  # the default is never shared between parses
