"""Seed the demo account through Stripe's public API only, with the official SDK.

The same code fills the local sandbox and a real Stripe test-mode account, so it uses
no sandbox-only endpoint. Each story gets its own test clock (created at a fixed past
time and advanced to fixed times) so customers have real history: renewals, failed
retries, disputes, prorations. Re-running changes nothing: every object carries
metadata ``billing_nb_demo=<story>`` and ``billing_nb_demo_step=<step>`` and is looked
up before it is created; every create carries an idempotency key derived from the story,
its clock and the step. A clock already past a step means the step was done, so a
missing object there is an inconsistency (delete the story's clock to reseed it).
The stories (people, complaints, timelines, expected answers) live in
:mod:`billing_nb.demo.cast` and :mod:`billing_nb.demo.stories`; :mod:`billing_nb.demo.run` plays one.
"""

from __future__ import annotations

from typing import cast

import stripe
from stripe.params.billing_portal import ConfigurationCreateParams, ConfigurationUpdateParams

from ..reading.masking import mask_email
from .cast import STORIES, STORY_ORDER
from .model import DEMO_PRODUCTS, DemoCustomer
from .run import ANNUAL_STEP, KEY_PREFIX, MARK, MONTHLY_STEP, STEP, SeedError, StoryRun, meta

__all__ = ["SeedError", "StoryRun", "seed_demo", "ensure_catalog", "ensure_portal", "demo_table",
           "MARK", "STEP", "KEY_PREFIX", "PORTAL_NAME"]

def ensure_catalog(client: stripe.StripeClient) -> dict[str, str]:
    """Products (custom ids) and their prices; returns lookup_key -> price id."""
    prices: dict[str, str] = {}
    for prod in DEMO_PRODUCTS:
        meta = {MARK: "catalog", STEP: prod.id, "per_seat": "true" if prod.per_seat else "false"}
        try:
            client.v1.products.retrieve(prod.id)
        except stripe.InvalidRequestError as exc:
            if exc.code != "resource_missing":
                raise
            client.v1.products.create({"id": prod.id, "name": prod.name, "metadata": meta},
                                      {"idempotency_key": f"{KEY_PREFIX}:catalog:{prod.id}"})
        existing = {p.lookup_key: p.id for p in client.v1.prices.list({"product": prod.id, "active": True, "limit": 100}).auto_paging_iter()}
        for price in prod.prices:
            if price.lookup_key not in existing:
                created = client.v1.prices.create(
                    {"product": prod.id, "currency": "usd", "unit_amount": price.unit_amount,
                     "recurring": {"interval": "month" if price.interval == "month" else "year"},
                     "lookup_key": price.lookup_key, "nickname": price.lookup_key,
                     "metadata": {MARK: "catalog", STEP: price.lookup_key, "per_seat": "true" if price.per_seat else "false"}},
                    {"idempotency_key": f"{KEY_PREFIX}:catalog:{price.lookup_key}"})
                existing[price.lookup_key] = created.id
            prices[price.lookup_key] = existing[price.lookup_key]
    return prices


PORTAL_NAME = "billing-nb demo portal"
PORTAL_ALLOWED_UPDATES: tuple[str, ...] = ("email", "address", "shipping", "phone", "tax_id")
PORTAL_HEADLINE = "Quillstack: manage your billing"
PORTAL_RETURN_URL = "https://quillstack.example.com/account"


def _portal_params() -> ConfigurationCreateParams:
    """The demo's configuration: card updates, invoice history and customer details on;
    cancellation and plan switching off (the cant_cancel / renewal_regret / annual_upgrade stories)."""
    return {
        "name": PORTAL_NAME, "business_profile": {"headline": PORTAL_HEADLINE}, "default_return_url": PORTAL_RETURN_URL,
        "features": {
            "subscription_cancel": {"enabled": False}, "subscription_update": {"enabled": False},
            "payment_method_update": {"enabled": True}, "invoice_history": {"enabled": True},
            "customer_update": {"enabled": True, "allowed_updates": list(PORTAL_ALLOWED_UPDATES)},
        },
        "metadata": {MARK: "portal", STEP: "portal"},
    }


def _portal_as_wanted(conf: stripe.billing_portal.Configuration) -> bool:
    f = conf.features
    return (conf.active and conf.name == PORTAL_NAME
            and not f.subscription_cancel.enabled and not f.subscription_update.enabled
            and f.payment_method_update.enabled and f.invoice_history.enabled
            and f.customer_update.enabled
            and sorted(f.customer_update.allowed_updates or []) == sorted(PORTAL_ALLOWED_UPDATES))


def ensure_portal(client: stripe.StripeClient) -> str:
    """The demo's own billing portal configuration (metadata ``billing_nb_demo=portal``); its id.

    Created through the API, so never the account's default: the default (Dashboard)
    configuration is left exactly as it is. The toolkit meets the demo's configuration by
    its rule (``BILLING_NB_PORTAL_CONFIGURATION``, else the newest active non-default one)
    and names it on every portal session. Found by listing before it is created; one that
    drifted (switched back on, deactivated, renamed) is set back. A default configuration
    carrying the demo's metadata (an earlier seeder changed the default in place) is not
    the demo's and is not touched.
    """
    services = client.v1.billing_portal.configurations
    found = [c for c in services.list({"limit": 100}).auto_paging_iter()
             if not c.is_default and meta(c, MARK) == "portal"]
    if not found:
        return services.create(_portal_params(), {"idempotency_key": f"{KEY_PREFIX}:portal:create"}).id
    found.sort(key=lambda c: (not c.active, -c.created, c.id))  # the newest active one, as the toolkit's rule
    conf = found[0]
    if _portal_as_wanted(conf):
        return conf.id
    # the key names the version being corrected: a later drift gets a new key, not a replay
    key = f"{KEY_PREFIX}:portal:{conf.id}:{conf.updated}"
    repair = cast(ConfigurationUpdateParams, {**_portal_params(), "active": True})  # same fields, reactivated
    return services.update(conf.id, repair, {"idempotency_key": key}).id


def seed_demo(client: stripe.StripeClient, stories: tuple[str, ...] | None = None) -> list[DemoCustomer]:
    """Build (or find) every demo story; deterministic and idempotent."""
    prices = ensure_catalog(client)
    portal = ensure_portal(client)
    out: list[DemoCustomer] = []
    for story in stories or STORY_ORDER:
        spec = STORIES[story]
        run = StoryRun(client, spec, spec.start, prices, max_step=ANNUAL_STEP if spec.annual else MONTHLY_STEP,
                       portal=portal)
        out.append(spec.script(run))
    return out


def demo_table(customers: list[DemoCustomer]) -> list[dict[str, str]]:
    """Rows for the demo's printed table: no PII beyond a masked email."""
    return [{"customer": c.customer_id, "email": mask_email(c.email) or "", "story": c.story,
             "bucket": c.expected_bucket, "summary": c.summary} for c in customers]

