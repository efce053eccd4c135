"""A customer who keeps the service asks for no cancel, whatever the words (session 8, N5).

Before: "I still want to use it", "I'm not leaving", "I want to continue" and the like were not read
(only "don't cancel" phrasings were), so the plan cancelled. Table tests of paraphrases in the
lexicon's languages, and property tests mixing them into longer complaints, with the opposite
("I'm leaving, cancel it", "I don't want to keep using it") never read as a keep.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from billing_nb.analysis.asks import keeps_subscription, portal_ask

KEEPS = [
    "I still want to use it", "I'm not leaving", "I am not leaving you", "I want to continue",
    "I want to continue using the app", "I'd like to keep using it", "we would like to carry on using it",
    "I don't want to lose access", "please do not let me lose my account", "I'm staying",
    "We are staying with you", "I'm not going anywhere", "I want to stay subscribed", "I'd like to remain a customer",
    "I'm not cancelling", "I will not cancel", "we won't leave", "no intention of leaving", "I have no plans to quit",
    "I really want to keep my subscription", "keep my account open please", "I still need to use it for work",
    "we'd rather not leave", "I plan to stay on the annual plan", "I do want to keep using the product",
    "I'm happy to keep paying", "I want to keep it",
    # Spanish
    "quiero seguir usándolo", "queremos continuar con el servicio", "me quedo", "no me voy",
    "no quiero perder el acceso", "sigo usando la app", "quiero mantener mi suscripción",
    # German
    "ich will es weiter nutzen", "wir möchten den Dienst weiterhin nutzen", "ich bleibe", "wir bleiben Kunde",
    "ich möchte den Zugang nicht verlieren", "ich will mein Abo behalten", "ich kündige nicht",
    # French
    "je veux continuer à l'utiliser", "je souhaite rester client", "je reste", "je ne pars pas",
    "je ne veux pas perdre l'accès", "je voudrais garder mon abonnement",
    # Japanese
    "使い続けたいです", "継続したいです", "辞めません", "解約はしないでください",
]

LEAVES = [
    "I'm leaving, cancel it", "I don't want to keep using it", "there's no way I'm staying",
    "I can't keep paying for this", "I no longer want to use it", "cancel it now", "I could not cancel my plan",
    "I want to stop using it", "why would I stay? cancel my plan", "I'm not staying", "I don't want to continue",
    "I want to continue with the cancellation", "I want to leave", "I won't keep using this", "I can't continue using this",
    "I'm quitting, please cancel", "I want to keep my data, cancel my account", "I'm done, unsubscribe me",
    "no quiero seguir, cancelen", "je ne veux pas rester, résiliez", "ich will nicht weiter zahlen, bitte kündigen",
    "I can't find how to cancel",
]


@pytest.mark.parametrize("text", KEEPS)
def test_a_keep_paraphrase_is_read_and_asks_for_no_cancel(text: str) -> None:
    assert keeps_subscription(text), text
    ask = portal_ask(text)
    assert ask is not None and ask.flow != "subscription_cancel" and ask.keep, (text, ask)


@pytest.mark.parametrize("text", LEAVES)
def test_a_wish_to_leave_is_never_a_keep(text: str) -> None:
    assert keeps_subscription(text) is None, (text, keeps_subscription(text))


@pytest.mark.parametrize("text", [t for t in LEAVES if "cancel" in t or "unsubscribe" in t or "kundig" in t])
def test_a_wish_to_leave_naming_the_cancel_still_asks_for_it(text: str) -> None:
    ask = portal_ask(text)
    assert ask is not None and ask.flow == "subscription_cancel", (text, ask)


_OPEN = ["", "Hi team. ", "The sync has been broken for a week. ", "Please refund half of it. ",
         "I can't find my invoices. ", "Why was I billed again? "]
_CLOSE = ["", " Thanks.", " Just fix it please.", " Refund the broken month.", " Regards, Ana"]


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(_OPEN), st.sampled_from(KEEPS), st.sampled_from(_CLOSE), st.booleans())
def test_a_keep_inside_a_longer_complaint_is_still_a_keep(opening: str, keep: str, closing: str, dont: bool) -> None:
    """Mixed with "cancel" ("please don't cancel, I'm staying") the customer still keeps the service."""
    text = opening + ("Please don't cancel, " if dont else "") + keep + "." + closing
    assert keeps_subscription(text), text
    ask = portal_ask(text)
    assert ask is not None and ask.flow != "subscription_cancel", (text, ask)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(_OPEN), st.sampled_from(LEAVES), st.sampled_from(_CLOSE))
def test_a_leave_inside_a_longer_complaint_is_never_a_keep(opening: str, leave: str, closing: str) -> None:
    text = opening + leave + "." + closing
    assert keeps_subscription(text) is None, (text, keeps_subscription(text))
