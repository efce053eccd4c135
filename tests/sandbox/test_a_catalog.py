"""Products, prices and coupons through the SDK."""

from __future__ import annotations

import uuid

import pytest
import stripe


def _uid() -> str:
    return uuid.uuid4().hex[:10]


def test_product_create_retrieve_update_list_delete(client: stripe.StripeClient) -> None:
    pid = f"prod_team_{_uid()}"
    product = client.v1.products.create({"id": pid, "name": "Team", "metadata": {"tier": "team"},
                                         "unit_label": "seat"})
    assert product.id == pid and product.active and product.metadata["tier"] == "team"
    assert client.v1.products.retrieve(pid).unit_label == "seat"
    with pytest.raises(stripe.InvalidRequestError) as err:
        client.v1.products.create({"id": pid, "name": "again"})
    assert err.value.code == "resource_already_exists"
    updated = client.v1.products.update(pid, {"name": "Team plan", "active": False, "metadata": {"tier": ""}})
    assert updated.name == "Team plan" and not updated.active and "tier" not in updated.metadata
    inactive = [p.id for p in client.v1.products.list({"active": False, "limit": 100}).auto_paging_iter()]
    assert pid in inactive
    assert [p.id for p in client.v1.products.list({"ids": [pid]}).data] == [pid]
    deleted = client.v1.products.delete(pid)
    assert deleted.deleted
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.products.retrieve(pid)


def test_product_with_default_price_data_and_delete_refused(client: stripe.StripeClient) -> None:
    product = client.v1.products.create({"name": "Pro", "default_price_data": {
        "currency": "usd", "unit_amount": 1500, "recurring": {"interval": "month"}}})
    assert isinstance(product.default_price, str)
    price = client.v1.prices.retrieve(product.default_price)
    assert price.product == product.id and price.unit_amount == 1500 and price.type == "recurring"
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.products.delete(product.id)
    other = client.v1.products.create({"name": "Other"})
    foreign = client.v1.prices.create({"product": other.id, "currency": "usd", "unit_amount": 1})
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.products.update(product.id, {"default_price": foreign.id})


def test_prices_one_off_and_recurring(client: stripe.StripeClient) -> None:
    product = client.v1.products.create({"name": "Plans"})
    one_off = client.v1.prices.create({"product": product.id, "currency": "USD", "unit_amount": 4900})
    assert one_off.type == "one_time" and one_off.recurring is None and one_off.currency == "usd"
    assert one_off.unit_amount_decimal is not None and str(one_off.unit_amount_decimal) == "4900"
    monthly = client.v1.prices.create({"product": product.id, "currency": "usd", "unit_amount": 1000,
                                       "recurring": {"interval": "month"}, "nickname": "Monthly"})
    assert monthly.recurring is not None
    assert (monthly.recurring.interval, monthly.recurring.interval_count) == ("month", 1)
    assert monthly.recurring.usage_type == "licensed" and monthly.billing_scheme == "per_unit"
    quarterly = client.v1.prices.create({"product": product.id, "currency": "usd", "unit_amount": 2700,
                                         "recurring": {"interval": "month", "interval_count": 3}})
    assert quarterly.recurring is not None and quarterly.recurring.interval_count == 3
    yearly = client.v1.prices.create({"product": product.id, "currency": "usd", "unit_amount": 10000,
                                      "recurring": {"interval": "year"}})
    assert yearly.recurring is not None and yearly.recurring.interval == "year"
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.prices.create({"product": product.id, "currency": "usd", "unit_amount": 1,
                                 "recurring": {"interval": "year", "interval_count": 4}})
    with pytest.raises(stripe.InvalidRequestError) as err:
        client.v1.prices.create({"product": product.id, "currency": "usd", "recurring": {"interval": "month"}})
    assert err.value.code == "parameter_missing"
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.prices.create({"product": product.id, "currency": "usd", "unit_amount": 1,
                                 "recurring": {"interval": "fortnight"}})  # type: ignore[typeddict-item]


def test_price_with_product_data_creates_the_product(client: stripe.StripeClient) -> None:
    price = client.v1.prices.create({"currency": "usd", "unit_amount": 300, "product_data": {"name": "Addon"}})
    assert isinstance(price.product, str)
    assert client.v1.products.retrieve(price.product).name == "Addon"


def test_lookup_keys_are_unique_unless_transferred(client: stripe.StripeClient) -> None:
    product = client.v1.products.create({"name": "Lookup"})
    key = f"pro_monthly_{_uid()}"
    first = client.v1.prices.create({"product": product.id, "currency": "usd", "unit_amount": 1000,
                                     "recurring": {"interval": "month"}, "lookup_key": key})
    with pytest.raises(stripe.InvalidRequestError) as err:
        client.v1.prices.create({"product": product.id, "currency": "usd", "unit_amount": 1100,
                                 "recurring": {"interval": "month"}, "lookup_key": key})
    assert first.id in str(err.value.user_message)
    second = client.v1.prices.create({"product": product.id, "currency": "usd", "unit_amount": 1100,
                                      "recurring": {"interval": "month"}, "lookup_key": key,
                                      "transfer_lookup_key": True})
    assert client.v1.prices.retrieve(first.id).lookup_key is None
    assert [p.id for p in client.v1.prices.list({"lookup_keys": [key]}).data] == [second.id]


def test_price_update_and_list_filters(client: stripe.StripeClient) -> None:
    product = client.v1.products.create({"name": "Filters"})
    monthly = client.v1.prices.create({"product": product.id, "currency": "usd", "unit_amount": 1000,
                                       "recurring": {"interval": "month"}})
    yearly = client.v1.prices.create({"product": product.id, "currency": "usd", "unit_amount": 9000,
                                      "recurring": {"interval": "year"}})
    one_off = client.v1.prices.create({"product": product.id, "currency": "eur", "unit_amount": 50})
    updated = client.v1.prices.update(yearly.id, {"active": False, "nickname": "Old yearly", "metadata": {"k": "v"}})
    assert not updated.active and updated.nickname == "Old yearly" and updated.unit_amount == 9000

    def ids(params: dict) -> list[str]:  # type: ignore[type-arg]
        return [p.id for p in client.v1.prices.list({"product": product.id, **params}).data]

    assert ids({}) == [one_off.id, yearly.id, monthly.id]
    assert ids({"active": True}) == [one_off.id, monthly.id]
    assert ids({"type": "one_time"}) == [one_off.id]
    assert ids({"type": "recurring"}) == [yearly.id, monthly.id]
    assert ids({"recurring": {"interval": "year"}}) == [yearly.id]
    assert ids({"currency": "eur"}) == [one_off.id]
    with pytest.raises(stripe.InvalidRequestError) as err:
        client.v1.prices.update(monthly.id, {"unit_amount": 5})  # type: ignore[typeddict-unknown-key]
    assert err.value.code == "parameter_unknown"


def test_coupons(client: stripe.StripeClient) -> None:
    cid = f"SAVE{_uid()}".upper()
    pct = client.v1.coupons.create({"id": cid, "percent_off": 25.5, "duration": "repeating",
                                    "duration_in_months": 3, "name": "25.5% off"})
    assert (pct.id, pct.percent_off, pct.duration_in_months, pct.valid) == (cid, 25.5, 3, True)
    amount = client.v1.coupons.create({"amount_off": 500, "currency": "usd", "duration": "once",
                                       "max_redemptions": 10})
    assert amount.amount_off == 500 and amount.percent_off is None and amount.duration_in_months is None
    assert client.v1.coupons.retrieve(cid).name == "25.5% off"
    assert client.v1.coupons.update(cid, {"name": "Spring", "metadata": {"k": "v"}}).name == "Spring"
    listed = [c.id for c in client.v1.coupons.list({"limit": 100}).auto_paging_iter()]
    assert cid in listed and amount.id in listed
    for bad in ({"duration": "once"}, {"percent_off": 10, "amount_off": 5, "currency": "usd"},
                {"amount_off": 5}, {"percent_off": 10, "duration": "repeating"}, {"percent_off": 150}):
        with pytest.raises(stripe.InvalidRequestError):
            client.v1.coupons.create(bad)  # type: ignore[arg-type]
    assert client.v1.coupons.delete(cid).deleted
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.coupons.retrieve(cid)
    with pytest.raises(stripe.InvalidRequestError) as err:
        client.v1.coupons.create({"percent_off": 5, "redeem_by": 1_000_000_000})
    assert err.value.param == "redeem_by"
