"""The formatting layer and the customer page: money in its currency, dates as dates, ids
as Dashboard links, no dict / NaN / index / raw price id in a table, everything escaped."""

from __future__ import annotations

import html
import re
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from billing_nb.notebook import format as fmt
from billing_nb.notebook import views
from billing_nb.notebook.page import plan_words, timeline
from billing_nb.records.case import Case, open_case


def test_money_in_its_currency() -> None:
    assert fmt.money(20000, "usd") == "$200.00"
    assert fmt.money(-14858, "usd") == "-$148.58"
    assert fmt.money(1200, "jpy") == "¥1,200"
    assert fmt.money(123456, "chf") == "1,234.56 CHF"
    assert fmt.money_of({"value": 500, "currency": "eur"}) == "€5.00"
    assert fmt.money_of(None) == fmt.DASH


def test_dates_days_and_links() -> None:
    assert fmt.day(1818547200) == "18 Aug 2027"
    assert fmt.day("2026-11-24T06:22:42+00:00") == "24 Nov 2026"
    assert fmt.days(23428800) == "271 days"
    assert fmt.days(86400) == "1 day"
    assert fmt.dashboard_url("sub_123") == "https://dashboard.stripe.com/test/subscriptions/sub_123"
    assert fmt.dashboard_url("in_9", test_mode=False) == "https://dashboard.stripe.com/invoices/in_9"
    assert fmt.dashboard_url("pm_1") is None
    assert fmt.link('cus_"><script>') .count("<script>") == 0


def test_table_has_no_index_and_no_nan() -> None:
    out = fmt.table_html([{"a": "1"}, {"b": "2"}], ["a", "b"])
    assert "nan" not in out.lower() and "blank" not in out and "row_heading" not in out
    assert out.count(fmt.DASH) == 2


def test_one_money_formatter_for_pages_and_records() -> None:
    """The page's short form is Money.format's, so the two can't drift: ISK keeps Stripe's
    special case (a two-decimal API amount shown in whole krónur, https://docs.stripe.com/currencies#special-cases)."""
    from billing_nb.money import Money

    for amount, cur in ((20000, "usd"), (-14858, "usd"), (1200, "jpy"), (123456, "chf"), (1250, "kwd"), (12300, "isk")):
        assert fmt.money(amount, cur) == Money(amount, cur).format(code=False)
        assert Money(amount, cur).format().startswith(fmt.money(amount, cur).removesuffix(f" {cur.upper()}"))
    assert fmt.money(12300, "isk") == "123 ISK"
    assert fmt.esc("<b>$5</b>") == "&lt;b&gt;$5&lt;/b&gt;"  # records.markup's escaping: HTML-inert, $ as written


def test_report_frames_render_for_people() -> None:
    """A report's DataFrame (metrics, casebook) as people read it: no index, money, dates,
    links, a dash for NaN/None/NaT, the formatted twin of an ``X_minor`` column only."""
    import pandas as pd

    frame = pd.DataFrame([
        {"case_id": "c1", "created_at": "2026-12-02T00:59:28.128728+00:00", "customer": "cus_ABCDEFGH",
         "refunded_minor": 14858, "refunded": "$148.58 USD", "amount": {"value": 500, "currency": "eur"},
         "ok": True, "due": "2026-11-04", "note": None, "n": 3},
        {"case_id": "c2", "created_at": pd.NaT, "customer": None, "refunded_minor": 0, "refunded": "",
         "amount": None, "ok": False, "due": None, "note": "<script>x</script>", "n": float("nan")},
    ])
    out = fmt.frame_html(frame)
    for bad in ("row_heading", "class=\"blank", "NaN", "nan<", "NaT", "None", "{'value'", "14858", "2026-", "<script>"):
        assert bad not in out, bad
    assert "2 Dec 2026 00:59" in out and "4 Nov 2026" in out and "€5.00" in out and "$148.58 USD" in out
    assert out.startswith('<div class="mathjax_ignore tex2jax_ignore">')  # no $…$ pair typeset (records.markup)
    assert 'href="https://dashboard.stripe.com/test/customers/cus_ABCDEFGH"' in out
    assert ">Case id<" in out and ">Refunded<" in out and ">yes<" in out and ">no<" in out
    assert fmt.frame_html(frame.iloc[0:0]) == "<p><i>Nothing to show.</i></p>"


def _case(demo_env: Any, tmp_path: Path, story: str) -> tuple[Case, Any]:
    s = demo_env.story(story)
    case = open_case(case_id=f"t-{story}", customer=s.customer_id, complaint=s.complaint,
                     output_dir=tmp_path / story)
    case.confirm(s.expected_bucket, "parameter")
    return case, s


BAD = re.compile(r"\{'value'|'currency'|\bNaN\b|\bnan\b|row_heading|seconds of the period|\d{4}-\d\d-\d\dT\d\d")


def test_every_story_renders_without_dicts_nan_index_or_iso(demo_env: Any, tmp_path: Path) -> None:
    for s in demo_env.customers:
        case, _ = _case(demo_env, tmp_path, s.story)
        page = views.identity_html(case) + views.act_html(case) + views.gaps_html(case)
        assert not BAD.search(page), (s.story, BAD.search(page))
        # a price id never stands where the plan's name is known
        summary = views.identity_html(case).split("<h4>")[0]
        assert "price_" not in summary, s.story
        assert "https://dashboard.stripe.com/test/customers/" in page


def test_customer_page_in_words(demo_env: Any, tmp_path: Path) -> None:
    case, story = _case(demo_env, tmp_path, "annual_refund")
    page = views.identity_html(case)
    sub = next(s for s in case.summary.subscriptions if s.status == "active")
    words = plan_words(case.snapshot, sub)
    assert re.fullmatch(r"Pro · \$200\.00 / year · renews \d{1,2} \w{3} \d{4}", words), words
    # the rendered page shows amounts as written, in an element MathJax leaves alone (no $…$ pair typeset)
    assert html.escape(words) in page and page.startswith('<div class="mathjax_ignore tex2jax_ignore">')
    assert "visa ••4242" in page
    assert "Balance" in page
    entries = timeline(case.snapshot, case.summary)
    assert [e.at for e in entries] == sorted((e.at for e in entries), reverse=True), "newest first"
    kinds = {e.what.split(" ")[0] for e in entries}
    assert {"Subscribed", "Payment", "Invoice"} <= kinds


def test_refund_explanations_in_days_and_plan_heading(demo_env: Any, tmp_path: Path) -> None:
    case, _ = _case(demo_env, tmp_path, "annual_refund")
    act = views.act_html(case)
    assert re.search(r"\d+ days of 365 days of the period remain", act), act[:3000]
    assert "seconds" not in act
    first = case.plan.actions[0] if case.plan else None
    if first is not None and not first.reversible:
        assert "safest first" not in act and "reversible first" not in act


def test_plan_heading_never_says_reversible_first_over_an_irreversible_row(demo_env: Any, tmp_path: Path) -> None:
    import dataclasses

    case, _ = _case(demo_env, tmp_path, "dup_personal")
    assert case.plan is not None and case.plan.actions
    case.plan.actions[0] = dataclasses.replace(case.plan.actions[0], reversible=False)
    act = views.act_html(case)
    assert "reversible first" not in act and "safest first" not in act
    assert "Plan (in step order)" in act


def test_stripe_and_complaint_text_is_escaped(demo_env: Any, tmp_path: Path) -> None:
    case, _ = _case(demo_env, tmp_path, "annual_refund")
    for p in case.snapshot.of("products"):
        p["name"] = "<img src=x onerror=alert(1)>"
    import dataclasses

    case.classification = dataclasses.replace(case.classification,
                                              evidence=(*case.classification.evidence, "<script>alert(2)</script>"))
    out = views.identity_html(case) + views.classification_html(case) + views.act_html(case)
    assert "<img src=x" not in out and "<script>" not in out
    assert "&lt;img src=x onerror=alert(1)&gt;" in out


def test_confirmation_line_sums_what_execute_does(demo_env: Any, tmp_path: Path) -> None:
    case, _ = _case(demo_env, tmp_path, "annual_refund")
    assert case.plan is not None
    ids = [a.id for a in case.plan.preferred() if a.kind.value != "document"]
    line = views.describe_actions(case, ids)
    assert re.match(r"refund \$\d+\.\d\d to visa ••4242 by a credit note on invoice in_\w+ and cancel Pro now; "
                    r"access ends today$", line), line
    amount = next(a.amount for a in case.plan.actions if a.id in ids and a.amount)
    assert fmt.money_of(amount) in line


def test_checklist_confirmation_follows_the_ticks(demo_env: Any, tmp_path: Path) -> None:
    from billing_nb.notebook.widgets import ActionChecklist

    case, _ = _case(demo_env, tmp_path, "annual_refund")
    assert case.plan is not None
    box = ActionChecklist(case.plan, lambda ids: None, describe=lambda ids: views.describe_actions(case, ids))
    assert "Nothing ticked" in box.summary.value
    cancel = next(a.id for a in case.plan.actions if a.id.endswith(":now"))
    box.boxes[cancel].value = True
    assert "Execute will cancel Pro now; access ends today." in html.unescape(box.summary.value)
    assert repr(box) == f"[action checklist: {len(case.plan.actions)} planned actions, none executed]"


def test_followup_is_a_copyable_block() -> None:
    out = views.followup_html("Hi <there>,\n\nthanks")
    assert '<pre class="bnb-followup"' in out and "Hi &lt;there&gt;," in out


def test_widget_plain_text_is_words(demo_env: Any, tmp_path: Path) -> None:
    from billing_nb.notebook.widgets import BucketPicker

    case, story = _case(demo_env, tmp_path, "dup_personal")
    picker = BucketPicker(case.classification, lambda b: None)
    assert repr(picker) == f"[bucket picker: suggested {case.classification.suggested.value}, not confirmed]"
    picker.confirm.click()
    assert repr(picker).startswith("[bucket picker: confirmed ")
    bundle = picker._repr_mimebundle_()  # what a notebook without widget state shows
    assert "BucketPicker(children" not in str(bundle.get("text/plain") if isinstance(bundle, dict) else bundle)


def test_template_notebook_refuses_to_be_a_case(tmp_path: Path) -> None:
    from billing_nb.exceptions import BadInputError
    from billing_nb.notebook.cells import start_case

    with pytest.raises(BadInputError, match="billing-nb open"):
        start_case(case_id="manual", customer="cus_123", output_dir=str(tmp_path))
    with pytest.raises(BadInputError, match="billing-nb open"):
        start_case(case_id="x-1", customer="")
    assert datetime  # keeps the import honest for readers: dates are compared as text above


def test_handoff_billing_state_names_the_plan_not_the_price(demo_env: Any, tmp_path: Path) -> None:
    case, _ = _case(demo_env, tmp_path, "annual_refund")
    rec = case.record()
    assert all(s["plan"] == "Pro" for s in rec["billing_state"]["subscriptions"] if s["status"] == "active")
    state = rec["handoff"].split("## BILLING STATE")[1].split("Invoices:")[0]
    assert "| plan |" in state and "| Pro |" in state
    assert not re.search(r"price_\w{8,}", state), state


def test_a_failed_renewal_has_one_date_across_sections(demo_env: Any, tmp_path: Path) -> None:
    case, _ = _case(demo_env, tmp_path, "failed_renewal")
    handoff = case.record()["handoff"]
    inv = next(i for i in case.summary.invoices if i.status == "open" and i.attempt_count > 0)
    date = fmt.day(inv.created)
    table_row = next(line for line in handoff.splitlines() if line.startswith(f"| `{inv.id}`"))
    assert date in table_row
    gap = handoff.split("## PRODUCT GAP")[1]
    gap_line = next(line for line in gap.splitlines() if line.strip().startswith(f"- {inv.id}:"))
    assert f"(invoice of {date})" in gap_line and "failed on" not in gap_line, gap_line


def test_evidence_bullets_read_on_their_own(demo_env: Any, tmp_path: Path) -> None:
    for s in demo_env.customers:
        case, _ = _case(demo_env, tmp_path, s.story)
        for line in case.classification.evidence:
            assert not line.startswith(("and ", "or ", "but ")), (s.story, line)


ISO_DAY = re.compile(r"(?<![\d/])\d{4}-\d\d-\d\d(?![\d/])")


def test_dates_read_as_dates_on_the_page_and_in_the_handoff_iso_in_case_json(demo_env: Any, tmp_path: Path) -> None:
    """Anomaly details, the timeline and the handoff show ``4 Nov 2026``; case.json keeps the
    ISO form (machines read it). Before: "renewal invoice of 2026-11-04 is open" on the page."""
    iso_in_record = 0
    for s in demo_env.customers:
        case, _ = _case(demo_env, tmp_path, s.story)
        rec = case.record()
        iso_in_record += sum(bool(ISO_DAY.search(a["detail"])) for a in rec["billing_state"]["anomalies"])
        page = views.identity_html(case) + views.act_html(case) + views.gaps_html(case) + views.classification_html(case)
        assert not ISO_DAY.search(page), (s.story, ISO_DAY.findall(page))
        handoff = rec["handoff"].replace(str(case.output_dir), "")
        assert not ISO_DAY.search(handoff), (s.story, [line for line in handoff.splitlines() if ISO_DAY.search(line)])
    assert iso_in_record, "some anomaly detail carries a date in case.json (ISO)"
