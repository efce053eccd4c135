"""redact.py: maskers keep ids and numbers intact; scan catches each planted leak kind."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from billing_nb.reading.masking import customer_pii, mask_email, mask_name, mask_object, mask_phone, mask_text
from billing_nb.records.scan import Leak, scan

NAME = "Josefina Ardmore"
EMAIL = "josefina.ardmore@example.com"
ADDRESS = "742 Evergreen Terrace"
KNOWN = [NAME, EMAIL, ADDRESS, "Springfield"]
SAFE = ("ch_3PgafuB7WZ01zgkW1 in_1PgafuB7WZ01zgkW1 cus_Q1234567890123456 pi_3PgafuB7WZ01zgkW1 "
        "created 1732435200 amount 20000 due 4999 2026-11-24T06:22:42+00:00 duration 0.0123456789012345 "
        "sub_1Q2w3E4r5T6y7U8i price_1Pgafu evt_1234567890123456789 req_abc123 idem 2026-11-24-cus_X-1a2b:refund:ch_X:1200")


# --- maskers --------------------------------------------------------------------------
def test_mask_email() -> None:
    assert mask_email(EMAIL) == "j***@example.com"
    assert mask_email("j***@example.com") == "j***@example.com"
    assert mask_email(None) is None
    assert mask_email("not-an-email") == "***"


def test_mask_name() -> None:
    assert mask_name(NAME) == "J. A."
    assert mask_name("J. A.") == "J. A."
    assert mask_name("josefina") == "J."
    assert mask_name(None) is None


@pytest.mark.parametrize("phone", ["+1 415 555 0142", "(415) 555-0142", "415-555-0142", "+14155550142", "415.555.0142"])
def test_mask_phone_keeps_last_digits(phone: str) -> None:
    masked = mask_phone(phone)
    assert masked == "***-***-0142"
    assert mask_phone(masked) == masked


def test_mask_phone_short() -> None:
    assert mask_phone("5550142") == "***-42"
    assert mask_phone(None) is None


@pytest.mark.parametrize(("raw", "gone", "kept"), [
    (f"mail me at {EMAIL} please", EMAIL, "j***@example.com"),
    ("call +1 415 555 0142 today", "415 555", "***-***-0142"),
    ("call (415) 555-0142 today", "(415)", "***-***-0142"),
    ("call 415-555-0142", "415-555", "***-***-0142"),
    ("key sk_test_51HxAbCdEfGhIjKlMnOp", "51HxAbCd", "sk_test_***"),
    ("key sk_" "live_51HxAbCdEfGhIjKlMnOp", "51HxAbCd", "sk_live_***"),
    ("key rk_" "live_51HxAbCdEfGhIjKlMnOp", "51HxAbCd", "rk_live_***"),
    ("key pk_test_51HxAbCdEfGhIjKlMnOp", "51HxAbCd", "pk_test_***"),
    ("secret whsec_abcdefghIJKL1234", "abcdefgh", "whsec_***"),
    ("card 4242 4242 4242 4242 exp 12/34", "4242 4242", "****4242"),
    ("card 4000-0566-5566-5556", "4000-0566", "****5556"),
    ("amex 378282246310005", "378282246310005", "****0005"),
])
def test_mask_text(raw: str, gone: str, kept: str) -> None:
    masked = mask_text(raw)
    assert gone not in masked and kept in masked


def test_mask_text_keeps_ids_times_amounts() -> None:
    assert mask_text(SAFE) == SAFE
    assert mask_text("4242424242424241") == "4242424242424241"  # not Luhn-valid


def _customer() -> dict[str, Any]:
    return {
        "id": "cus_Q1", "object": "customer", "email": EMAIL, "name": NAME, "phone": "+1 415 555 0142",
        "address": {"line1": ADDRESS, "city": "Springfield", "postal_code": "97403", "state": "OR", "country": "US"},
        "shipping": {"name": NAME, "phone": "+1 415 555 0142", "address": {"line1": ADDRESS, "country": "US"}},
        "description": f"VIP {EMAIL}", "metadata": {"crm": EMAIL, "plan": "pro"}, "created": 1732435200,
        "balance": -20000, "invoice_settings": {"default_payment_method": "pm_1"},
    }


def test_mask_object_customer() -> None:
    original = _customer()
    masked = mask_object(original)
    assert original["email"] == EMAIL  # a copy
    assert masked["email"] == "j***@example.com" and masked["name"] == "J. A." and masked["phone"] == "***-***-0142"
    assert masked["address"] == {"country": "US"}
    assert masked["shipping"] == {"name": "J. A.", "phone": "***-***-0142", "address": {"country": "US"}}
    assert EMAIL not in json.dumps(masked)
    assert masked["id"] == "cus_Q1" and masked["created"] == 1732435200 and masked["balance"] == -20000
    assert masked["metadata"]["plan"] == "pro"


def test_mask_object_payment_method_and_charge() -> None:
    pm = {"id": "pm_1", "object": "payment_method",
          "billing_details": {"email": EMAIL, "name": NAME, "phone": "415-555-0142", "address": {"line1": ADDRESS, "country": "US"}},
          "card": {"brand": "visa", "last4": "4242", "exp_month": 12, "exp_year": 2030, "fingerprint": "Xt5EWLLDS7FJjR1c",
                   "funding": "credit", "checks": {"cvc_check": "pass"}}}
    charge = {"id": "ch_3PgafuB7WZ01zgkW1", "object": "charge", "amount": 20000, "receipt_email": EMAIL,
              "billing_details": pm["billing_details"], "description": f"Invoice for {EMAIL}",
              "payment_method_details": {"type": "card", "card": pm["card"]}}
    masked = mask_object([pm, charge])
    assert masked[0]["card"] == {"brand": "visa", "last4": "4242", "exp_month": 12, "exp_year": 2030}
    assert masked[0]["billing_details"]["address"] == {"country": "US"}
    assert masked[1]["payment_method_details"]["card"].keys() == {"brand", "last4", "exp_month", "exp_year"}
    assert masked[1]["id"] == "ch_3PgafuB7WZ01zgkW1" and masked[1]["amount"] == 20000
    assert masked[1]["description"] == "Invoice for j***@example.com"


def test_mask_object_invoice_session_event() -> None:
    invoice = {"id": "in_1", "object": "invoice", "customer_email": EMAIL, "customer_name": NAME,
               "customer_phone": "+1 415 555 0142", "customer_address": {"line1": ADDRESS, "country": "US"},
               "customer_shipping": {"name": NAME, "address": {"line1": ADDRESS, "country": "US"}},
               "lines": {"data": [{"price": {"object": "price", "id": "price_1"}, "description": "1 × Pro"}]}}
    session = {"id": "cs_1", "object": "checkout.session", "customer_email": EMAIL,
               "customer_details": {"email": EMAIL, "name": NAME, "phone": "+1 415 555 0142",
                                    "address": {"line1": ADDRESS, "country": "US"},
                                    "tax_ids": [{"type": "eu_vat", "value": "DE123456789"}]}}
    event = {"id": "evt_1", "object": "event", "data": {"object": _customer(), "previous_attributes": {"email": "old@example.org"}}}
    product = {"id": "prod_1", "object": "product", "name": "Pro Team"}
    masked = mask_object({"invoices": [invoice], "sessions": [session], "events": [event], "products": [product]})
    text = json.dumps(masked)
    for leak in (EMAIL, NAME, ADDRESS, "415 555", "DE123456789", "old@example.org"):
        assert leak not in text
    assert masked["products"][0]["name"] == "Pro Team"
    assert masked["invoices"][0]["customer_name"] == "J. A."
    assert masked["invoices"][0]["customer_shipping"]["address"] == {"country": "US"}


# --- scan -----------------------------------------------------------------------------------
PLANTED = [
    ("email", f"contact {EMAIL}"),
    ("name", f"Dear {NAME.upper()},"),
    ("phone", "call +1 415 555 0142"),
    ("phone", "call (415) 555-0142"),
    ("address", f"ship to {ADDRESS.lower()}"),
    ("key", "STRIPE_API_KEY=sk_test_51HxAbCdEfGhIjKlMnOp"),
    ("key", "STRIPE_API_KEY=sk_" "live_51HxAbCdEfGhIjKlMnOp"),
    ("key", "restricted rk_" "live_51HxAbCdEfGhIjKlMnOp"),
    ("key", "publishable pk_live_51HxAbCdEfGhIjKlMnOp"),
    ("key", "webhook whsec_abcdefghIJKL1234"),
    ("card", "card 4242 4242 4242 4242"),
    ("card", "card 4000056655665556"),
    # issue 10: international and bare phone formats, IBANs (mod-97), every valid email form
    ("phone", "call 0044 20 7946 0958"),
    ("phone", "call +44 20 7946 0958"),
    ("phone", "call 4155552671"),
    ("iban", "pay to DE89 3704 0044 0532 0130 00"),
    ("iban", "pay to GB82WEST12345698765432"),
    ("email", "from o'brien@example.com"),
    ("email", "from jane+billing@example.com"),
    ("email", "from jürgen.müller@example.de"),
]


@pytest.mark.parametrize(("kind", "line"), PLANTED)
@pytest.mark.parametrize("suffix", [".md", ".txt", ".log", ".html", ".json"])
def test_scan_catches_planted(tmp_path: Path, kind: str, line: str, suffix: str) -> None:
    path = tmp_path / f"record{suffix}"
    body = json.dumps({"handoff": f"ok\n{SAFE}\n{line}\n"}) if suffix == ".json" else f"ok\n{SAFE}\n{line}\n"
    path.write_text(body)
    leaks = scan(path, known=KNOWN)
    assert [leak.kind for leak in leaks] == [kind]
    leak = leaks[0]
    assert leak.line == 3 and leak.path == str(path)
    # the excerpt is itself safe
    assert scan_text_is_clean(tmp_path / "excerpt.txt", leak.excerpt)


def scan_text_is_clean(path: Path, text: str) -> bool:
    path.write_text(text)
    clean = scan(path, known=KNOWN) == []
    path.unlink()
    return clean


def _notebook(outputs: list[dict[str, Any]], source: str = "print('ok')") -> dict[str, Any]:
    return {"nbformat": 4, "nbformat_minor": 5, "metadata": {"papermill": {"parameters": {"customer": "cus_Q1"}}},
            "cells": [{"cell_type": "code", "id": "a", "metadata": {}, "execution_count": 1,
                       "source": source.splitlines(keepends=True), "outputs": outputs}]}


@pytest.mark.parametrize("output", [
    {"output_type": "stream", "name": "stdout", "text": ["fine\n", f"{EMAIL}\n"]},
    {"output_type": "display_data", "metadata": {}, "data": {"text/html": [f"<td>{NAME}</td>"]}},
    {"output_type": "display_data", "metadata": {}, "data": {"text/html": ["<td>josefina&#46;ardmore&#64;example.com</td>"]}},
    {"output_type": "execute_result", "execution_count": 1, "metadata": {}, "data": {"text/plain": ["'sk_" "live_51HxAbCdEfGhIjKlMnOp'"]}},
    {"output_type": "display_data", "metadata": {},
     "data": {"application/vnd.jupyter.widget-view+json": {"model_id": "m1", "version_major": 2, "value": f"{ADDRESS}"}}},
    {"output_type": "error", "ename": "ValueError", "evalue": "card 4242424242424242", "traceback": []},
])
def test_scan_notebook_outputs(tmp_path: Path, output: dict[str, Any]) -> None:
    nb = tmp_path / "case.ipynb"
    nb.write_text(json.dumps(_notebook([output]), ensure_ascii=True))
    leaks = scan(nb, known=KNOWN)
    assert len(leaks) == 1, leaks
    assert leaks[0].where.startswith("/cells/0/outputs/0")


def test_scan_notebook_source_and_metadata(tmp_path: Path) -> None:
    nb = _notebook([], source=f"complaint = 'call me on +1 415 555 0142'\ncustomer = 'cus_Q1'\n")
    nb["metadata"]["widgets"] = {"state": {"m1": {"state": {"value": EMAIL}}}}
    (tmp_path / "case.ipynb").write_text(json.dumps(nb))
    kinds = sorted(leak.kind for leak in scan(tmp_path, known=KNOWN))
    assert kinds == ["email", "phone"]


def test_scan_sees_unicode_escaped_known_names(tmp_path: Path) -> None:
    (tmp_path / "case.json").write_text(json.dumps({"note": "Renée Ardmore wrote"}, ensure_ascii=True))
    assert [leak.kind for leak in scan(tmp_path, known=["Renée Ardmore"])] == ["name"]


def test_scan_folder_recursive_and_clean_masked_records(tmp_path: Path) -> None:
    masked = {"customer": mask_object(_customer()), "complaint": mask_text(f"I'm {EMAIL}, call +1 415 555 0142"),
              "ids": SAFE, "amounts": [20000, 1732435200, 4999], "card": {"brand": "visa", "last4": "4242"}}
    nested = tmp_path / "2026-11-24" / "case-1"
    nested.mkdir(parents=True)
    (nested / "case.json").write_text(json.dumps(masked, indent=1))
    (nested / "handoff.md").write_text(f"# Handoff\n\n- Email: j***@example.com\n- {SAFE}\n")
    (nested / "case.ipynb").write_text(json.dumps(_notebook([
        {"output_type": "display_data", "metadata": {}, "data": {"image/png": "iVBORw0KGgo4242424242424242/AAAA"}}])))
    (nested / "skip.bin").write_bytes(b"\x00\x01" + EMAIL.encode())  # binary (NUL bytes): not text
    assert scan(tmp_path, known=KNOWN) == []
    (nested / "deep.log").write_text(f"oops {EMAIL}\n")
    leaks = scan(tmp_path, known=KNOWN)
    assert leaks == [Leak(str(nested / "deep.log"), 1, "email", leaks[0].excerpt)]
    assert EMAIL not in leaks[0].excerpt and "j***@example.com" in leaks[0].excerpt


@pytest.mark.parametrize("text", [
    "ch_3PgafuB7WZ01zgkW1", "1732435200", "20000", "amount_due: 20000, created: 1732435200",
    "| 1732435200 | 20000 | 4999 |", "2026-11-24 06:22:42", "version 8.1.5", "j***@example.com",
    "***-***-0142", "sk_test_***", "****4242", "+00:00", "duration 0.012345678901234567",
])
def test_scan_ignores_ids_times_amounts(tmp_path: Path, text: str) -> None:
    (tmp_path / "a.md").write_text(text)
    assert scan(tmp_path) == []


def test_known_strings_are_case_insensitive_and_short_ones_ignored(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("JOSEFINA ARDMORE\nus\n")
    assert [leak.kind for leak in scan(tmp_path, known=[NAME, "US"])] == ["name"]


def test_mask_text_with_known_pii() -> None:
    known = ["Josefina Ardmore-Quill", EMAIL, "+1 415 555 0142", "1742 Quillfeather Lane"]
    text = ("Hi, Josefina Ardmore-Quill here (JOSEFINA.ARDMORE@EXAMPLE.COM), 1742 Quillfeather Lane, Portland. "
            "Thanks, Josefina. Charge ch_3PgafuB7WZ01zgkW1 of 20000 at 1732435200.")
    masked = mask_text(text, known=known)
    assert "Josefina" not in masked and "Ardmore" not in masked and "Quillfeather" not in masked
    assert "J. A." in masked and "j***@example.com" in masked.lower() and "Portland" in masked
    assert "ch_3PgafuB7WZ01zgkW1 of 20000 at 1732435200" in masked
    assert mask_text("I will do it, mark my words", known=["Will Mark"]) == "I will do it, mark my words"  # parts: capitalised only


def test_masked_complaint_scans_clean(tmp_path: Path) -> None:
    known = [NAME, EMAIL, "+1 415 555 0142", ADDRESS]
    (tmp_path / "case.json").write_text(json.dumps({"complaint": mask_text(
        f"I'm {NAME}, {EMAIL}, 415-555-0142, {ADDRESS}. Charged twice!", known=known)}))
    assert scan(tmp_path, known=known) == []


def test_scan_broken_json_as_text_and_string_lists_not_glued(tmp_path: Path) -> None:
    (tmp_path / "broken.json").write_text('{"x": "' + EMAIL + '"')
    assert [leak.kind for leak in scan(tmp_path)] == ["email"]
    (tmp_path / "broken.json").unlink()
    (tmp_path / "ids.json").write_text(json.dumps({"ids": ["42424242", "42424242"], "tags": ["4242", "424242424242"]}))
    assert scan(tmp_path) == []



def test_checksum_failing_ibans_and_stripe_addresses_are_not_pii(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text("ref GB00WEST12345698765432\nplease contact us via support@stripe.com\n")
    assert scan(tmp_path) == []
    message = "An error occurred with our connection to Stripe. Please contact support@stripe.com."
    assert mask_text(message) == message  # Stripe's own address keeps the message whole


def test_scan_of_a_missing_path_is_bad_input(tmp_path: Path) -> None:
    from billing_nb.exceptions import BadInputError

    with pytest.raises(BadInputError, match="no such file or folder"):
        scan(tmp_path / "no" / "such" / "path")


def _b2b() -> dict[str, Any]:
    return {"object": "customer", "id": "cus_B2B1", "name": "Acme Widgets GmbH", "email": "billing@acme-widgets.de",
            "phone": "0049 30 1234 5678", "description": "Key account: Acme Widgets GmbH (Berlin)",
            "metadata": {"company": "Acme Widgets GmbH", "vat_note": "DE123456789", "github": "acmew"},
            "shipping": {"name": "Lena Vogel", "phone": "+49 30 1234 5678",
                         "address": {"line1": "Friedrichstraße 12", "city": "Berlin", "country": "DE"}},
            "tax_ids": {"object": "list", "data": [{"object": "tax_id", "type": "eu_vat", "value": "DE123456789"}]},
            "address": {"line1": "Friedrichstraße 12", "city": "Berlin", "country": "DE"}, "created": 1732435200}


def _related(cus: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    invoice = {"object": "invoice", "id": "in_B2B1", "customer": cus["id"], "customer_name": cus["name"],
               "customer_email": cus["email"], "customer_tax_ids": [{"type": "eu_vat", "value": "DE123456789"}],
               "customer_shipping": cus["shipping"], "custom_fields": [{"name": "PO number", "value": "PO-4711 Lena Vogel"}],
               "description": "Widgets for Acme Widgets GmbH"}
    charge = {"object": "charge", "id": "ch_B2B1", "billing_details": {"name": "Lena Vogel", "email": cus["email"],
              "phone": cus["phone"], "address": cus["address"]}, "description": "Acme Widgets GmbH order"}
    session = {"object": "checkout.session", "id": "cs_test_B2B1", "customer_details": {
        "name": "Acme Widgets GmbH", "email": cus["email"], "phone": cus["phone"], "address": cus["address"],
        "tax_ids": [{"type": "eu_vat", "value": "DE123456789"}]}}
    return {"customers": [cus], "invoices": [invoice], "charges": [charge], "checkout_sessions": [session]}


def test_a_business_customer_is_masked_everywhere_and_its_record_scans_clean(tmp_path: Path) -> None:
    """The company name in metadata and descriptions, the VAT id, shipping, invoice custom fields,
    charge billing details and checkout customer details: one model masks them all."""
    cus = _b2b()
    raw = _related(cus)
    masked = mask_object(raw)
    text = json.dumps(masked, ensure_ascii=False)
    for secret in ("Acme Widgets GmbH", "Acme", "Widgets", "billing@acme-widgets.de", "DE123456789", "Lena Vogel",
                   "Friedrichstraße", "1234 5678", "PO-4711"):
        assert secret not in text, secret
    assert masked["customers"][0]["metadata"]["github"] == "acmew"  # not PII: lookups by metadata still work
    assert mask_object(masked) == masked  # idempotent
    (tmp_path / "snapshot.json").write_text(json.dumps({"objects": masked}))
    known = customer_pii([cus])
    assert scan(tmp_path, known=known) == []


def test_the_scanner_uses_the_same_model_field_by_field(tmp_path: Path) -> None:
    cus = _b2b()
    masked = mask_object(_related(cus))
    masked["customers"][0]["metadata"]["company"] = "Initech"  # in clear, and not one of the known strings
    masked["invoices"][0]["customer_tax_ids"][0]["value"] = "XX999"
    (tmp_path / "snapshot.json").write_text(json.dumps({"objects": masked}))
    leaks = scan(tmp_path)
    assert {(leak.kind, leak.where) for leak in leaks} == {
        ("field", "/objects/customers/0/metadata/company"), ("field", "/objects/invoices/0/customer_tax_ids/0/value")}
    assert all("Initech" not in leak.excerpt and "XX999" not in leak.excerpt for leak in leaks)


@settings(max_examples=300, deadline=None)
@given(head=st.sampled_from(["cus_", "in_", "sub_", "", "sk_test_", "rk_live_", "whsec_", "x", "price_", "GB", "+44 ", "a@b.co "]),
       body=st.text(alphabet="abcxyzGBW0123456789_ +-.()@０４５٣٤", min_size=1, max_size=40))
def test_find_pii_fast_path_for_ids_and_enums_finds_what_the_patterns_find(head: str, body: str) -> None:
    """The scanner's detector skips the patterns for ids and enums (most strings of a saved
    record), and each pattern a line cannot satisfy (no ``@``, too few digits): the same hits
    every pattern gives, and known strings are still searched."""
    from billing_nb.reading.pii import PATTERNS, _ascii_digits, _real, find_pii

    text = head + body
    seen = _ascii_digits(text)  # other digits as ASCII: what every pattern is matched on
    slow = [(m.start(), m.end(), kind) for kind, pattern in PATTERNS.items()
            for m in pattern.finditer(seen) if _real(kind, m.group(0))]
    assert sorted(find_pii(text, [])) == sorted(slow)
    assert find_pii("sk_test_abcdefgh12345678", [])
    assert [(a, b) for a, b, _ in find_pii("status_ardmore", ["ardmore"])] == [(7, 14)]


def test_scan_reports_a_repeated_string_at_every_place_it_is_saved(tmp_path: Path) -> None:
    """The scanner reads each distinct string once per scan; a leak saved in several places and
    files is still one Leak per place, each with its own file and JSON pointer."""
    leak = "write to jo.leak@example.com please"
    (tmp_path / "a.json").write_text(json.dumps({"x": leak, "y": [leak, "fine"], "z": {"w": leak}}))
    (tmp_path / "b.json").write_text(json.dumps({"note": leak}))
    found = scan(tmp_path)
    assert sorted((Path(f.path).name, f.where, f.kind) for f in found) == [
        ("a.json", "/x", "email"), ("a.json", "/y", "email"), ("a.json", "/z/w", "email"), ("b.json", "/note", "email")]


def test_a_notebooks_generated_ids_and_times_are_not_pii_but_its_text_still_is(tmp_path: Path) -> None:
    """nbformat gives every new cell (papermill's parameters, the handoff) a random 8-hex id;
    one in ~5,000 is ``00`` + six digits, which reads as an international phone number, and
    failed its case's redaction scan. Generated structure is not scanned; text still is."""
    cells = []
    for i, cell_id in enumerate(["00353363", "0014829a", "00250744"]):
        cell = _notebook([{"output_type": "stream", "name": "stdout", "text": ["fine\n"]}])["cells"][0]
        cell.update({"id": cell_id, "execution_count": 7})
        cell["metadata"] = {"execution": {"iopub.execute_input": f"2026-12-02T15:13:0{i}.001234Z"},
                            "papermill": {"start_time": "2026-12-02T15:13:02.001234", "duration": 0.0012345,
                                          "status": "completed", "exception": None}}
        cells.append(cell)
    nb = _notebook([])
    nb["cells"] = cells
    nb["nbformat"], nb["nbformat_minor"] = 4, 5
    path = tmp_path / "case.ipynb"
    path.write_text(json.dumps(nb))
    assert scan(path) == []
    cells[1]["source"] = "note = 'call me on 00353363'\n"  # the same digits in the notebook's text: a phone
    cells[2]["metadata"]["tags"] = ["+44 20 7946 0958"]  # and in metadata nbformat does not generate
    path.write_text(json.dumps(nb))
    assert sorted(leak.where for leak in scan(path)) == ["/cells/1/source", "/cells/2/metadata/tags"]
    json_file = tmp_path / "case.json"  # outside a notebook, an "id" field is still scanned
    json_file.write_text(json.dumps({"id": "00353363"}))
    assert [leak.kind for leak in scan(json_file)] == ["phone"]


@settings(max_examples=300, deadline=None)
@given(text=st.text(alphabet="abcGB0123456789 +-.()@_skteliv０４５٣٤", min_size=0, max_size=60))
def test_mask_text_skipping_impossible_patterns_masks_what_every_pattern_masks(text: str) -> None:
    """mask_text runs only the patterns a text can satisfy (an ``@``, enough digits, a key
    prefix): the same result as running every pattern in order."""
    from billing_nb.reading.pii import PATTERNS, _ascii_digits, _masked, _real, mask_text

    slow = _ascii_digits(text)  # other digits as ASCII: what every pattern is matched on
    for kind, pattern in PATTERNS.items():
        slow = pattern.sub(lambda m, k=kind: _masked(k, m.group(0)) if _real(k, m.group(0)) else m.group(0), slow)
    masked = mask_text(text)
    assert _ascii_digits(masked) == slow
    if text.isascii():
        assert masked == slow


def test_a_phone_in_fullwidth_or_arabic_indic_digits_is_still_found() -> None:
    """A phone or card typed in fullwidth (a Japanese keyboard) or Arabic-Indic digits is found
    and masked like an ASCII one: the patterns' ``[1-9]`` and separators are ASCII, and matched
    nothing of it before."""
    from billing_nb.reading.pii import _ascii_digits, find_pii, mask_text

    for phone in ("＋４４ ２０ ７９４６ ０９５８", "+٤٤ ٢٠ ٧٩٤٦ ٠٩٥٨", "(４１５) ５５５-０１４２"):
        line = f"call me on {phone}, thanks"
        assert [(line[a:b], kind) for a, b, kind in find_pii(line, [])] == [(phone, "phone")], phone
        assert mask_text(line) == f"call me on ***-***-{_ascii_digits(phone)[-4:]}, thanks"
    assert mask_text("card ４２４２４２４２４２４２４２４２ ok") == "card ****4242 ok"


@pytest.mark.parametrize(("line", "found", "kind"), [
    ("電話は090-1234-5678です", "090-1234-5678", "phone"),  # a number glued to Japanese words
    ("전화010-1234-5678로", "010-1234-5678", "phone"),
    ("連絡先+81 90 1234 5678まで", "+81 90 1234 5678", "phone"),
    ("カード番号4242424242424242です", "4242424242424242", "card"),
    ("口座GB82WEST12345698765432へ", "GB82WEST12345698765432", "iban"),
    ("please call 03-1234-5678", "03-1234-5678", "phone"),  # national numbers after a trunk 0
    ("ring 020 7946 0958 today", "020 7946 0958", "phone"),
    ("appelez le 06 12 34 56 78", "06 12 34 56 78", "phone"),
    ("Tel. 030 12345678", "030 12345678", "phone"),
    ("mobile 0412 345 678", "0412 345 678", "phone"),
    ("(03) 1234-5678 office", "(03) 1234-5678", "phone"),
    ("携帯09012345678", "09012345678", "phone"),
    ("call (+44) 20 7946 0958 today", "(+44) 20 7946 0958", "phone"),  # the country code in brackets, brackets too
])
def test_pii_glued_to_cjk_words_and_national_numbers_are_found(line: str, found: str, kind: str) -> None:
    """CJK text has no spaces around a number, and ``\\w`` counts its letters as word characters,
    so every pattern's edge refused them; national numbers (a trunk 0, not +country) matched
    nothing unless they looked North American. Both were saved in clear."""
    from billing_nb.reading.pii import find_pii

    assert [(line[a:b], k) for a, b, k in find_pii(line, [])] == [(found, kind)]
    masked = mask_text(line)
    assert found not in masked and masked.endswith(line[line.index(found) + len(found):])


def test_an_email_glued_to_cjk_words_is_masked_with_the_words_before_it() -> None:
    """Where a CJK word ends and a unicode local part begins cannot be told; the mask takes both
    (over-masking a word is the safe side) instead of leaving the address whole."""
    masked = mask_text("メールはtaro@example.jpです")
    assert "taro@" not in masked and masked.endswith("***@example.jpです")


@pytest.mark.parametrize("text", [
    "03.11.2026", "01-02-2026", "charged 02.12.2026 10:30", "0.000123456", "version 0.12.3", "0,123456789",
    "10.0.0.12345", "id 09:30-10:45", "2026/03/11 0930", "00:00:00 01:02:03", "05 2026", "0 500 000",
])
def test_dates_versions_and_decimals_starting_with_zero_are_not_phones(text: str) -> None:
    assert mask_text(text) == text


@given(fmt=st.sampled_from(["0{2}-{4}-{4}", "0{1}-{4}-{4}", "0{2} {4} {4}", "0{1} {2} {2} {2} {2}", "0{3} {6}",
                            "0{3} {3} {3}", "0{2}{8}"]),
       digits=st.text(alphabet="0123456789", min_size=24, max_size=24),
       before=st.text(alphabet="電話番号はお客様のです。、：", max_size=4),
       after=st.text(alphabet="電話番号はお客様のです。、", max_size=4))
def test_a_national_number_between_any_cjk_words_is_masked(fmt: str, digits: str, before: str, after: str) -> None:
    parts = iter(digits)
    number = re.sub(r"\{(\d)\}", lambda m: "".join(next(parts) for _ in range(int(m.group(1)))), fmt)
    number = "0" + ("1" if number[1] == "0" else number[1]) + number[2:]  # a trunk 0, then an area code
    masked = mask_text(f"{before}{number}{after}")
    assert masked == f"{before}***-***-{re.sub(r'[^0-9]', '', number)[-4:]}{after}", number


@given(day=st.integers(1, 31), month=st.integers(1, 12), year=st.integers(1990, 2100),
       sep=st.sampled_from([".", "-", "/", " "]), order=st.sampled_from(["dmy", "ymd", "mdy"]))
def test_no_date_is_masked_as_a_phone(day: int, month: int, year: int, sep: str, order: str) -> None:
    fields = {"d": f"{day:02d}", "m": f"{month:02d}", "y": f"{year}"}
    text = sep.join(fields[c] for c in order)
    assert mask_text(f"paid on {text}") == f"paid on {text}"


@pytest.mark.parametrize("number", [
    "090ー1234ー5678",  # the katakana long-vowel mark a Japanese IME gives for a hyphen
    "090‐1234‐5678", "415–555–0142", "415−555−0142",  # hyphen, en dash, minus sign
    "06\u00a012\u00a034\u00a056\u00a078", "+33\u202f6\u202f12\u202f34\u202f56\u202f78",  # no-break, narrow no-break spaces
])
def test_a_phone_written_with_typographic_dashes_or_spaces_is_found(number: str) -> None:
    """Word processors, phones and French typography put en dashes and no-break spaces between
    digit groups; the patterns' separators are ASCII, so such a number matched nothing."""
    from billing_nb.reading.pii import find_pii

    line = f"call {number} please"
    assert [(line[a:b], kind) for a, b, kind in find_pii(line, [])] == [(number, "phone")]
    assert mask_text(line) == f"call ***-***-{re.sub(r'[^0-9]', '', number)[-4:]} please"
    assert mask_text("card 4242\u00a04242\u00a04242\u00a04242 ok") == "card ****4242 ok"
    assert mask_text("paid 2026–12–02, 03\u00a011\u00a02026") == "paid 2026–12–02, 03\u00a011\u00a02026"
