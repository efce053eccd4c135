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
    assert main(["scan", str(planted)]) == 3
    out = capsys.readouterr().out
    kinds = [line.split(": ")[1] for line in out.splitlines() if line.startswith(str(planted))]
    assert kinds == ["email", "phone", "phone", "iban", "card", "key"]
    assert "6 leak(s) found" in out and "o'brien@" not in out and "4242 4242" not in out
