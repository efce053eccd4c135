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
