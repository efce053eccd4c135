"""The rule on every endpoint: a parameter is implemented as Stripe documents it, or refused.

Stripe refuses a parameter it does not know with 400 ``invalid_request_error``, code
``parameter_unknown``, ``param`` naming it and "Received unknown parameter: <name>" (API
reference, Errors; docs.stripe.com/error-codes#parameter-unknown). The sandbox declares, per
route, the parameters it implements (``@route(..., accepts=...)``) and refuses the rest
centrally. These tests walk every route in ``ROUTES`` against stripe-python's typed params
(``stripe/params/...``, generated from Stripe's API reference), so a route can neither accept a
parameter Stripe does not document nor silently take one it does not implement.
"""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest

from billing_nb.sandbox import app as _app  # noqa: F401  (registers every route)
from billing_nb.sandbox.params import Params, tracking
from billing_nb.sandbox.routing import ROUTES, Route
from sdk_params import sdk_params

TESTS = Path(__file__).resolve().parents[1]


def _path(r: Route) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: f"x_{m.group(1)}_sandboxprobe", r.pattern)


def _label(r: Route) -> str:
    return f"{r.method} {r.pattern}"


def test_every_route_is_an_sdk_endpoint_and_accepts_only_documented_parameters() -> None:
    assert len(ROUTES) > 90  # the whole table, not a subset
    for r in ROUTES:
        documented = sdk_params(r.method, r.pattern)
        assert documented is not None, f"{_label(r)} has no stripe-python service method"
        extra = r.accepts - documented
        assert not extra, f"{_label(r)} accepts parameters Stripe does not document: {sorted(extra)}"


@pytest.mark.parametrize("r", ROUTES, ids=_label)
def test_documented_parameters_outside_the_declared_list_are_refused(http: httpx.Client, r: Route) -> None:
    documented = sdk_params(r.method, r.pattern)
    assert documented is not None
    refused = sorted(documented - r.accepts - {"expand"})
    for name in refused:
        data = {name: "1"}
        resp = (http.post(_path(r), data=data) if r.method == "POST"
                else http.request(r.method, _path(r), params=data))
        assert resp.status_code == 400, (name, resp.text)
        err = resp.json()["error"]
        assert (err["type"], err["code"], err["param"]) == ("invalid_request_error", "parameter_unknown", name)
        assert err["message"] == f"Received unknown parameter: {name}"


def test_a_parameter_no_route_documents_is_refused_everywhere(http: httpx.Client) -> None:
    for r in ROUTES:
        resp = (http.post(_path(r), data={"sandbox_made_up": "1"}) if r.method == "POST"
                else http.request(r.method, _path(r), params={"sandbox_made_up": "1"}))
        assert resp.status_code == 400 and resp.json()["error"]["code"] == "parameter_unknown", _label(r)


def _mentioned(name: str, corpus: str) -> bool:
    return bool(re.search(rf"""["']{re.escape(name)}["']|\b{re.escape(name)}=""", corpus))


def test_every_implemented_parameter_appears_in_a_test() -> None:
    """Each implemented parameter is sent by some test (the behaviour tests cite their doc page);
    the strict-mode net (``BILLING_NB_SANDBOX_STRICT=1`` in tests/conftest.py) then fails any
    request whose handler accepted a parameter without reading it."""
    corpus = "\n".join(f.read_text() for f in TESTS.rglob("test_*.py"))
    corpus += "\n".join(f.read_text() for f in (TESTS / "sandbox").glob("*.py"))
    missing = sorted(f"{_label(r)}: {name}" for r in ROUTES for name in r.accepts if not _mentioned(name, corpus))
    assert not missing, "implemented but never sent by a test:\n" + "\n".join(missing)


def test_the_tracking_net_flags_a_parameter_a_handler_never_reads() -> None:
    params = Params({"read_me": "1", "nested": {"inner": "x", "ignored": "y"}, "skipped": "2"})
    with tracking(params) as seen:
        params.str("read_me")
        sub = params.sub("nested")
        assert sub is not None
        sub.str("inner")
    assert seen.unread() == {"nested[ignored]", "skipped"}
