import importlib

import billing_nb
from billing_nb import exceptions


def test_all_names_resolve() -> None:
    for name in billing_nb.__all__:
        assert getattr(billing_nb, name) is not None, name


def test_exception_tree_is_drawn_in_docstring_and_rooted() -> None:
    doc = exceptions.__doc__ or ""
    for name in exceptions.__all__:
        cls = getattr(exceptions, name)
        assert issubclass(cls, exceptions.BillingNbError)
        assert name in doc, f"{name} missing from the drawn tree"


def test_exit_codes_follow_design() -> None:
    assert exceptions.BadInputError.exit_code == 2
    assert exceptions.StripeApiError.exit_code == 3
    assert exceptions.NeedsConfirmationError.exit_code == 4


def test_modules_declare_all() -> None:
    for mod in ("money", "config", "snapshot", "identify", "classify", "provider", "contract",
                "actions", "ledger", "gaps", "redact", "handoff", "runner", "case", "widgets",
                "lookup", "rows", "anomalies", "gather", "portfolio", "casebook", "account", "portal_check",
                "notebook", "views", "kernels", "demo", "cli"):
        m = importlib.import_module(f"billing_nb.{mod}")
        assert hasattr(m, "__all__"), mod
        for name in m.__all__:
            assert hasattr(m, name), f"{mod}.{name}"


def test_all_matches_lazy_exports() -> None:
    assert set(billing_nb.__all__) - {"__version__"} == set(billing_nb._EXPORTS)
