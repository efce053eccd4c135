"""Bearer secrets (client secrets, hosted invoice/receipt links) never reach snapshot.json, and scan
reports them; scan reports a street address the model drops from a Stripe object."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from billing_nb.reading.masking import mask_object, mask_text
from billing_nb.records.scan import scan
from scenarios import World, run

SECRET = "pi_3MtwBwLkdIwHu7ix28a3tqPa_secret_YrKJUKribcBjcG8HVhfZluoGH"
HOSTED = "https://invoice.stripe.com/i/acct_1ABC/test_YWNjdF8xTm9rYzJ"
PDF = "https://pay.stripe.com/invoice/acct_1ABC/test_YWNjdF8xTm9rYzJ/pdf"
RECEIPT = "https://pay.stripe.com/receipts/payment/CAcaFwoVYWNjdF8xTm9r"


def _objects() -> dict[str, Any]:
    return {"payment_intents": [{"object": "payment_intent", "id": "pi_3MtwBwLkdIwHu7ix28a3tqPa",
                                 "client_secret": SECRET, "status": "succeeded"}],
            "setup_intents": [{"object": "setup_intent", "id": "seti_1", "client_secret": "seti_1_secret_abcdEFGH1234"}],
            "invoices": [{"object": "invoice", "id": "in_1", "hosted_invoice_url": HOSTED, "invoice_pdf": PDF}],
            "charges": [{"object": "charge", "id": "ch_1", "receipt_url": RECEIPT}]}


def test_bearer_secrets_are_dropped_at_the_door() -> None:
    masked = json.dumps(mask_object(_objects()))
    for secret in (SECRET, HOSTED, PDF, RECEIPT, "seti_1_secret_abcdEFGH1234"):
        assert secret not in masked
    assert '"id": "pi_3MtwBwLkdIwHu7ix28a3tqPa"' in masked  # the id is no secret


@pytest.mark.parametrize("link", [HOSTED, PDF, RECEIPT, "https://billing.stripe.com/p/session/test_YWNjdF8x",
                                  "https://checkout.stripe.com/c/pay/cs_test_a1b2c3#fid2"])
def test_a_capability_link_in_text_is_masked(link: str) -> None:
    masked = mask_text(f"see {link} now")
    assert link not in masked and link.split("/")[-1] not in masked, masked


def test_scan_reports_bearer_secrets_in_a_saved_stripe_object(tmp_path: Path) -> None:
    file = tmp_path / "snapshot.json"
    file.write_text(json.dumps({"objects": _objects()}))
    leaks = scan(file)
    where = {leak.where for leak in leaks if leak.kind in ("secret", "key", "link")}
    assert {"/objects/payment_intents/0/client_secret", "/objects/invoices/0/hosted_invoice_url",
            "/objects/invoices/0/invoice_pdf", "/objects/charges/0/receipt_url"} <= where, leaks
    assert all(SECRET not in leak.excerpt and HOSTED not in leak.excerpt for leak in leaks)
    file.write_text(json.dumps({"objects": mask_object(_objects())}))
    assert scan(file) == []


def test_scan_reports_street_addresses_the_model_drops(tmp_path: Path) -> None:
    file = tmp_path / "address_only.json"
    file.write_text(json.dumps({"objects": {
        "customers": [{"object": "customer", "id": "cus_1", "name": "J. D.", "email": "j***@example.com",
                       "address": {"line1": "742 Evergreen Terrace", "line2": "Apt 3", "city": "Springfield",
                                   "postal_code": "97403", "state": "OR", "country": "US"},
                       "shipping": {"name": "J. D.", "address": {"line1": "742 Evergreen Terrace", "country": "US"}}}],
        "charges": [{"object": "charge", "id": "ch_1", "billing_details": {
            "name": "J. D.", "address": {"line1": "742 Evergreen Terrace", "postal_code": "97403", "country": "US"}}}]}}))
    leaks = [leak for leak in scan(file) if leak.kind == "address"]
    where = {leak.where for leak in leaks}
    assert {"/objects/customers/0/address/line1", "/objects/customers/0/address/postal_code",
            "/objects/customers/0/shipping/address/line1",
            "/objects/charges/0/billing_details/address/line1"} <= where, leaks
    assert all("Evergreen" not in leak.excerpt and "97403" not in leak.excerpt for leak in leaks)


def test_a_cases_snapshot_holds_no_client_secret_or_invoice_link(w: World, tmp_path: Path) -> None:
    cus = w.customer("secret.keeper@example.com", name="Secret Keeper")
    w.subscribe(cus, w.price(w.c.v1.products.create({"name": "Basic"}).id, 1000))
    case, _ = run("secret.keeper@example.com", tmp_path / "out", bucket="unclear")
    raw = case.snapshot.objects
    assert any(pi.get("client_secret") for pi in raw["payment_intents"]), "the sandbox gives one to hide"
    saved = (tmp_path / "out" / case.case_id / "snapshot.json").read_text()
    assert "_secret_" not in saved and "invoice.stripe.com" not in saved and "pay.stripe.com" not in saved
    assert scan(tmp_path / "out" / case.case_id, known=w.pii) == []
