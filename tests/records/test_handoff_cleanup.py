"""The raw snapshot the runner hands the kernel (PII in clear) does not outlive its use: the
kernel deletes it once read, and a killed runner's folder is swept by the next handoff."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from billing_nb.records.prefetch import PREFIX, STALE_AFTER, sweep_stale_handoffs


def test_only_this_users_stale_folders_are_swept(tmp_path: Path) -> None:
    old, fresh, other = tmp_path / f"{PREFIX}old", tmp_path / f"{PREFIX}fresh", tmp_path / "unrelated-old"
    for folder in (old, fresh, other):
        folder.mkdir()
        (folder / "snapshot.json").write_text("{}")
    past = time.time() - STALE_AFTER - 60
    for folder in (old, other):
        os.utime(folder, (past, past))
    assert sweep_stale_handoffs(tmp_path) == 1
    assert not old.exists() and fresh.exists() and other.exists()


@pytest.mark.sandbox
def test_the_case_deletes_the_handoff_once_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from billing_nb.reading.provider import StripeReader
    from billing_nb.records.case import fetch_snapshot, open_case
    from billing_nb.records.prefetch import handoff_file
    from safety_helpers import faulty_world, monthly_customer

    with faulty_world() as fw:
        cases = tmp_path / "cases"
        for key, value in fw.env(cases).items():
            monkeypatch.setenv(key, value)
        cus, _ = monthly_customer(fw.world)
        path = handoff_file(fetch_snapshot(StripeReader(fw.world.c), cus))
        assert path.is_file() and oct(path.stat().st_mode & 0o777) == "0o600"
        case = open_case(case_id="c-h", customer=cus, output_dir=cases / "2026-12-03" / "c-h", prefetched=str(path))
        assert case.snapshot.primary_customer_id == cus
        assert not path.exists()
        path.parent.rmdir()
