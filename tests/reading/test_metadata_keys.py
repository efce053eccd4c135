"""PII in a metadata *key* is masked like PII in a value: a customer's metadata
``{"jane.doe@gmail.com": "vip", "4242424242424242": "card"}`` was saved (and printed by the
casebook audit's path column) in clear."""

from __future__ import annotations

from billing_nb.reading.masking import mask_object


def test_metadata_keys_are_masked() -> None:
    customer = {"id": "cus_1", "object": "customer", "email": "x@example.com", "name": "Jane Doe",
                "metadata": {"jane.doe@gmail.com": "vip", "4242424242424242": "card", "+14155550132": "phone",
                             "plan": "gold"}}
    masked = mask_object({"customers": [customer]})["customers"][0]["metadata"]
    text = " ".join(masked)
    assert "jane.doe@gmail.com" not in text and "4242424242424242" not in text and "4155550132" not in text
    assert masked["plan"] == "gold" and len(masked) == 4
    assert mask_object({"customers": [{**customer, "metadata": masked}]})["customers"][0]["metadata"] == masked
