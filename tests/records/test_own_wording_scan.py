"""N7: a customer named like the toolkit's own words ("Billing Team", signing every follow-up as
"The Billing Team") failed the runner's scan, which looks for the customer's known name, while
``billing-nb scan`` (no known names) said 0. The known-name check no longer counts the fixed
text the toolkit wrote (records.wording), and still catches the name where Stripe data put it."""

from __future__ import annotations

from pathlib import Path

import pytest

from billing_nb.records.scan import scan
from billing_nb.records.wording import own_fragments
from scenarios import World, run


@pytest.mark.parametrize("name", ["Billing Team", "Best Regards", "Product Team", "Refund Options"])
def test_a_customer_named_like_the_toolkits_words_scans_as_the_cli_does(w: World, tmp_path: Path, name: str) -> None:
    email = f"{name.lower().replace(' ', '.')}@example.com"
    cus = w.customer(email, name=name)
    w.subscribe(cus, w.price(w.product(), 2500))
    case, rec = run(email, tmp_path / "out", bucket="product_failure", complaint=f"Broken for weeks, refund me.\n— {name}")
    folder = tmp_path / "out" / case.case_id
    assert name not in rec["complaint"]
    assert scan(folder, known=w.pii) == scan(folder) == []


def test_the_toolkits_sign_off_is_its_own_wording() -> None:
    assert "The Billing Team" in own_fragments("Billing Team")
    assert "Billing Team" not in own_fragments("Billing Team")  # the name alone is no fixed text of ours


def test_the_name_from_stripe_data_is_still_a_leak_beside_the_sign_off(tmp_path: Path) -> None:
    (tmp_path / "followup.md").write_text("Best regards,\nThe Billing Team\n")
    assert scan(tmp_path, known=["Billing Team"]) == []
    (tmp_path / "notes.md").write_text("Customer: Billing Team\nThe Billing Team, for billing team and Billing Team\n")
    leaks = scan(tmp_path, known=["Billing Team"])
    assert [(Path(x.path).name, x.line, x.kind) for x in leaks] == [("notes.md", 1, "name"), ("notes.md", 2, "name"),
                                                                    ("notes.md", 2, "name")]
    assert all("Billing Team" not in x.excerpt for x in leaks)
