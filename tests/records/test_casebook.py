"""casebook: review frames and audit checks over hand-written records and a real ledger."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from billing_nb.records import casebook as cb
from billing_nb.actions.ledger import Ledger

NOW = datetime(2026, 11, 24, 12, tzinfo=UTC)


def _money(value: int, currency: str = "usd") -> dict[str, Any]:
    return {"value": value, "currency": currency}


def record(case_id: str, *, status: str = "done", bucket: str | None = "duplicate_subscription",
           suggested: str = "duplicate_subscription", executed: list[dict[str, Any]] | None = None,
           refunded: int = 0, credited: int = 0, currency: str = "usd", gaps: tuple[str, ...] = (),
           created: datetime = NOW, **extra: Any) -> dict[str, Any]:
    return {"case_id": case_id, "created_at": created.isoformat(), "status": status,
            "customer": {"id": f"cus_{case_id}", "email": "j***@example.com", "other_customer_ids": []},
            "classification": {"suggested": suggested, "bucket": bucket,
                               "confirmed_by": "parameter" if bucket else None, "confidence": 0.9,
                               "evidence": [], "against": []},
            "executed": executed or [],
            "revenue_impact": {"refunded": _money(refunded, currency), "credited": _money(credited, currency),
                               "mrr_change": _money(0, currency), "arr_change": _money(0, currency)},
            "product_gaps": [{"kind": g, "title": g.replace("_", " "), "evidence": [], "suggestion": "",
                              "severity": "high" if g == "portal_missing_cancellation" else "medium"} for g in gaps],
            **extra}


def executed(action: str, key: str = "bnb-k1", obj: str | None = "re_1", status: str = "succeeded") -> dict[str, Any]:
    return {"action_id": action, "idempotency_key": key, "stripe_object": obj, "request_id": "req_1",
            "status": status, "error": None}


def write(cases: Path, rec: dict[str, Any], day: str = "2026-11-24") -> Path:
    folder = cases / day / rec["case_id"]
    folder.mkdir(parents=True)
    (folder / "case.json").write_text(json.dumps(rec))
    return folder


@pytest.fixture
def clean(tmp_path: Path) -> Path:
    """Two consistent cases: one refund executed and ledgered, one dry run."""
    cases = tmp_path / "cases"
    write(cases, record("c1", executed=[executed("refund:ch_1:2000")], refunded=2000,
                        gaps=["no_duplicate_subscription_guard"]))
    write(cases, record("c2", bucket="missing_self_serve", suggested="unclear",
                        gaps=["portal_missing_cancellation", "no_duplicate_subscription_guard"]))
    ledger = Ledger(cases / cb.LEDGER_NAME)
    ledger.begin("c1", "refund:ch_1:2000", "bnb-k1")
    ledger.finish("c1", "refund:ch_1:2000", "bnb-k1", status="succeeded", stripe_object="re_1", request_id="req_1")
    return cases


def test_clean_casebook_passes_every_check(clean: Path) -> None:
    book = cb.open_casebook(clean)
    assert [r.case_id for r in book.records] == ["c1", "c2"] and len(book.entries) == 2
    found = cb.audit(book, now=NOW)
    assert found.ok, found.checks
    assert list(found.checks["findings"]) == [0] * 7  # Stripe is not checked without a client


def test_review_frames(clean: Path) -> None:
    write(clean, record("c3", status="pending", bucket=None, suggested="team_seats"))
    write(clean, record("c4", credited=16667, currency="eur", bucket="product_failure", suggested="product_failure"))
    recs = cb.open_casebook(clean).records
    mix = cb.bucket_mix(recs).set_index("bucket")
    assert mix.loc["duplicate_subscription", "cases"] == 1 and mix.loc["pending", "cases"] == 1
    assert mix.loc["missing_self_serve", "suggestion_kept"] == 0 and mix.loc["product_failure", "suggestion_kept"] == 1
    assert dict(zip(cb.status_mix(recs)["status"], cb.status_mix(recs)["cases"], strict=True)) == {"done": 3, "pending": 1}
    money = cb.money_totals(recs).set_index("currency")
    assert money.loc["usd", "refunded_minor"] == 2000 and money.loc["usd", "credited_minor"] == 0
    assert money.loc["eur", "credited_minor"] == 16667 and money.loc["eur", "credited"] == "€166.67 EUR"
    gaps = cb.gap_frequency(recs)
    assert list(gaps["gap"]) == ["no_duplicate_subscription_guard", "portal_missing_cancellation"]
    assert list(gaps["cases"]) == [2, 1] and gaps.loc[1, "severity"] == "high"
    frame = cb.cases_frame(recs)
    assert list(frame["case_id"]) == ["c1", "c2", "c3", "c4"] and frame.loc[0, "refunded"] == "$20.00 USD"


def test_executed_action_without_key_is_flagged(clean: Path) -> None:
    write(clean, record("c5", executed=[executed("cancel:sub_1:now", key="", obj="sub_1")]))
    found = cb.missing_idempotency_keys(cb.open_casebook(clean).records)
    assert list(found["case_id"]) == ["c5"] and list(found["action_id"]) == ["cancel:sub_1:now"]


def test_ledger_and_records_disagree(clean: Path) -> None:
    write(clean, record("c6", executed=[executed("refund:ch_6:500", key="bnb-k6")]))  # never ledgered
    write(clean, record("c7", executed=[executed("cancel:sub_7:now", key="bnb-k7", obj="sub_7")]))
    ledger = Ledger(clean / cb.LEDGER_NAME)
    ledger.finish("c7", "cancel:sub_7:now", "bnb-k7", status="failed", stripe_object=None, request_id="req_7")
    ledger.finish("c2", "document:cus_2", "bnb-k2", status="succeeded", stripe_object="cus_2", request_id=None)
    ledger.finish("lost", "refund:ch_9:100", "bnb-k9", status="succeeded", stripe_object="re_9", request_id=None)
    book = cb.open_casebook(clean)
    problems = {(r.case_id, r.problem.split(":")[0]) for r in cb.ledger_mismatches(book.records, book.entries).itertuples()}
    assert problems == {
        ("c6", "in case.json, no ledger finish"),
        ("c7", "status differs"), ("c7", "stripe object differs"),
        ("c2", "ledger finish, not in case.json"),
        ("lost", "ledger finish for a case with no record"),
    }


def test_dangling_begins_are_listed(clean: Path) -> None:
    ledger = Ledger(clean / cb.LEDGER_NAME)
    ledger.begin("c2", "cancel:sub_2:now", "bnb-crash")  # crashed between begin and finish
    ledger.begin("c2", "refund:ch_2:100", "bnb-ok")
    ledger.finish("c2", "refund:ch_2:100", "bnb-ok", status="succeeded", stripe_object="re_2", request_id=None)
    found = cb.dangling_begins(cb.open_casebook(clean).entries)
    assert list(found["idempotency_key"]) == ["bnb-crash"] and list(found["case_id"]) == ["c2"]


def test_leaks_in_any_record_file(clean: Path) -> None:
    folder = write(clean, record("c8", complaint="from pat.quill@example.com"))
    (folder / "handoff.md").write_text("Spoke to Patience Quillon about the refund.\n")
    found = cb.leaks(cb.open_casebook(clean).records, known=["Patience Quillon"])
    assert set(zip(found["case_id"], found["file"], found["kind"], strict=True)) == {
        ("c8", "case.json", "email"), ("c8", "handoff.md", "name")}
    assert not any("pat.quill@" in e or "Patience" in e for e in found["excerpt"])


def test_stale_pending(clean: Path) -> None:
    write(clean, record("old", status="pending", bucket=None, created=NOW - timedelta(days=10)))
    write(clean, record("new", status="pending", bucket=None, created=NOW - timedelta(days=2)))
    recs = cb.open_casebook(clean).records
    stale = cb.stale_pending(recs, NOW, days=7)
    assert list(stale["case_id"]) == ["old"] and list(stale["age_days"]) == [10]
    assert list(cb.stale_pending(recs, NOW, days=1)["case_id"]) == ["new", "old"]
    with pytest.raises(ValueError):
        cb.stale_pending(recs, NOW.replace(tzinfo=None))


def test_unreadable_record_fails_the_audit(clean: Path) -> None:
    folder = clean / "2026-11-24" / "broken"
    folder.mkdir()
    (folder / "case.json").write_text("{not json")
    book = cb.open_casebook(clean)
    found = cb.audit(book, now=NOW)
    assert book.unreadable == [folder / "case.json"] and not found.ok


def test_missing_folder_and_ledger_read_as_empty(tmp_path: Path) -> None:
    book = cb.open_casebook(tmp_path / "nothing")
    assert book.records == [] and book.entries == []
    assert not (tmp_path / "nothing").exists()  # an audit writes nothing
    assert cb.audit(book, now=NOW).ok
    for frame in (cb.bucket_mix([]), cb.status_mix([]), cb.money_totals([]), cb.gap_frequency([]), cb.cases_frame([])):
        assert frame.empty and len(frame.columns) > 1


def test_the_audits_file_and_where_columns_mask_pii_in_paths(clean: Path) -> None:
    """A file a case saved can be named after its customer, and a JSON key can be an email: the
    audit printed both in clear in its file and where columns."""
    folder = write(clean, record("c9"))
    (folder / "jane.doe@gmail.com.txt").write_text("card 4242 4242 4242 4242\n")
    (folder / "patience_quillon-notes.md").write_text("call +1 415 555 0132\n")
    (folder / "extra.json").write_text(json.dumps({"by_email": {"pat.quill@example.com": "iban DE89370400440532013000"}}))
    found = cb.leaks(cb.open_casebook(clean).records, known=["Patience Quillon"])
    shown = " ".join(found["file"]) + " " + " ".join(found["where"]) + " " + " ".join(found["case_id"])
    assert len(found) == 4, found  # the email key is a leak of its own
    for secret in ("jane.doe@", "pat.quill@", "patience", "quillon"):
        assert secret not in shown.lower(), (secret, shown)
    assert {"j***@gmail.com.txt", "P. Q-notes.md", "extra.json"} <= set(found["file"]), list(found["file"])
    assert "/by_email/p***@example.com" in set(found["where"])
