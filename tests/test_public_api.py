import importlib
import pkgutil

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
    """Every toolkit module (not the stage packages' bare ``__init__``, not the sandbox's routes)
    names its public face."""
    checked = 0
    for info in pkgutil.walk_packages(billing_nb.__path__, "billing_nb."):
        if info.ispkg or info.name.endswith(".__main__") or info.name.startswith("billing_nb.sandbox."):
            continue
        m = importlib.import_module(info.name)
        assert hasattr(m, "__all__"), info.name
        for name in m.__all__:
            assert hasattr(m, name), f"{info.name}.{name}"
        checked += 1
    assert checked > 40


def test_all_matches_lazy_exports() -> None:
    assert set(billing_nb.__all__) - {"__version__"} == set(billing_nb._EXPORTS)
