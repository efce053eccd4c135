"""What the complaint asks for (analysis.asks): a refused cancel is not a cancel request."""

from __future__ import annotations

import pytest

from billing_nb.analysis.asks import keeps_subscription, portal_ask, product_not_held


@pytest.mark.parametrize("text", ["Please don't cancel my account", "give me some money back but do not cancel my plan",
                                  "I do not want to cancel, just fix it", "I want to keep my plan",
                                  "no quiero cancelar mi plan", "no cancelen mi cuenta", "bitte nicht kündigen",
                                  "Ich möchte mein Abo nicht kündigen", "je ne veux pas annuler",
                                  "n'annulez pas mon abonnement", "解約はしないでください", "キャンセルしたくないです"])
def test_a_refused_cancel_is_read(text: str) -> None:
    assert keeps_subscription(text), text
    ask = portal_ask(text)
    assert ask is None or ask.flow != "subscription_cancel", ask


@pytest.mark.parametrize("text", ["I could not cancel my plan", "I can't find how to cancel", "no puedo cancelar",
                                  "ich kann nicht kündigen", "je ne peux pas annuler", "解約できない",
                                  "I don't see a cancel button", "I don't want to keep my plan, cancel it", "cancel it now"])
def test_a_cancel_the_customer_could_not_do_is_a_cancel_request(text: str) -> None:
    assert keeps_subscription(text) is None, text
    ask = portal_ask(text)
    assert ask is not None and ask.flow == "subscription_cancel", (text, ask)


def test_a_share_is_read_only_beside_a_money_word() -> None:
    from fractions import Fraction

    from billing_nb.analysis.asks import asked_share
    assert asked_share("refund half please") == asked_share("I want 50% back") == Fraction(1, 2)
    assert asked_share("die Hälfte erstatten") == asked_share("半額返金してください") == Fraction(1, 2)
    for none in ("50% of syncs fail", "on behalf of my team, refund it", "refund 30% or half", "give me money back"):
        assert asked_share(none) is None, none


def test_a_stated_seat_count_is_read_once_and_only_as_a_headcount() -> None:
    from billing_nb.analysis.asks import seats_used
    assert seats_used("Why am I paying for 5 seats? We only have 3 people") == (3, "only have 3 people")
    assert seats_used("wir sind nur drei Leute")[0] == seats_used("solo somos 3")[0] == 3  # type: ignore[index]
    for none in ("why am I paying for 5 seats", "there are 2 charges", "we have 3 people but only 2 people use it"):
        assert seats_used(none) is None, none


@pytest.mark.parametrize(("text", "named"), [
    ("refund my Analytics add-on", "analytics add-on"), ("Refund my analytics addon please", "analytics addon"),
    ("My Enterprise plan is broken", "enterprise plan"),
    ("reembolso de mi complemento Analytics", "complemento analytics"),
])
def test_a_product_the_customer_does_not_have_is_named(text: str, named: str) -> None:
    """Session 8 (N8): held is the customer's plans by name; a product named outside them is returned."""
    from billing_nb.analysis.asks import product_not_held
    assert product_not_held(text, ["Pro 7", "Pro monthly"]) == named


@pytest.mark.parametrize("text", [
    "refund my annual plan", "refund my Pro plan", "the sync feature is broken, refund my subscription",
    "refund my team plan", "our monthly subscription doubled", "refund my whole plan", "my pro plan is broken",
    "refund the Analytics add-on, my Pro plan is fine", "mi plan anual", "the exports have been broken, refund me",
    "refund my current subscription", "cancel my second subscription", "refund the extra plan",
])
def test_generic_or_held_plan_words_name_no_other_product(text: str) -> None:
    from billing_nb.analysis.asks import product_not_held
    assert product_not_held(text, ["Pro 7", "Pro monthly"]) is None, text


@pytest.mark.parametrize("text", [
    "The reporting module has been broken since we bought the annual plan",
    "The Slack integration never worked, refund me",
    "the export plugin crashes every time",
    "Le module Rapports ne marche pas",
    "the dark mode option is gone",
])
def test_a_feature_of_the_plan_is_not_a_product_the_customer_lacks(text: str) -> None:
    """A module, integration, plugin or option is as often a feature of the plan held: naming one
    withheld the refund of a broken annual plan (merged N8 rule, session 8)."""
    assert product_not_held(text, ["Pro"]) is None
