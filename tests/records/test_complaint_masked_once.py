"""A case masks its complaint once: opening, confirming, saving and rendering its views re-ran the
masking of the complaint in every cell (a 60,000-character complaint took minutes through a case,
session 8). The saved and shown complaint is still the masked one."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from scenarios import World

pytestmark = [pytest.mark.sandbox]

MARK = "Zorblatt-complaint"


def test_the_complaint_is_masked_once_per_case(w: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import billing_nb.reading.masking as masking
    import billing_nb.records.case as case_mod
    import billing_nb.records.masked as masked_mod
    from billing_nb.records.case import open_case
    from billing_nb.records.masked import masked_case

    cus = w.customer("jane.doe@example.com", name="Jane Doe")
    calls: list[str] = []

    def counting(real: Callable[..., str]) -> Callable[..., str]:
        def wrapper(text: str, *args: Any, **kwargs: Any) -> str:
            if (text or "").startswith(MARK) and (text or "").endswith(("4242 4242 4242 4242", "****4242")):
                calls.append(text)  # the complaint itself, raw or masked (not an excerpt quoting it)
            return real(text, *args, **kwargs)
        return wrapper

    for module in (case_mod, masking, masked_mod):
        monkeypatch.setattr(module, "mask_text", counting(module.mask_text))
    complaint = f"{MARK}: please refund, write to jane.doe@example.com or card 4242 4242 4242 4242"
    out = tmp_path / "cases" / "c-once"
    case = open_case(case_id="c-once", customer=cus, complaint=complaint, output_dir=out)
    case.confirm("product_failure", "parameter")
    case.save()
    view = masked_case(case)
    assert len(calls) == 1, calls
    saved = json.loads((out / "case.json").read_text())["complaint"]
    assert saved == case.complaint == view.complaint
    assert "jane.doe" not in saved and "4242 4242" not in saved and MARK in saved
