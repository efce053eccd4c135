import pytest

from billing_nb.config import is_live_key, load_settings
from billing_nb.exceptions import ConfigError, LiveModeRefusedError


def test_key_only_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STRIPE_API_KEY", raising=False)
    with pytest.raises(ConfigError):
        load_settings()
    monkeypatch.setenv("STRIPE_API_KEY", "pk_test_abc")
    with pytest.raises(ConfigError):
        load_settings()


def test_live_key_refused_for_writes_without_flag(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STRIPE_API_KEY", "rk_live_" + "x" * 20)
    settings = load_settings()
    assert settings.is_live_key and is_live_key(settings.api_key)
    with pytest.raises(LiveModeRefusedError):
        settings.require_writable()
    load_settings(live=True).require_writable()


def test_key_never_in_repr(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STRIPE_API_KEY", "sk_test_secretvalue1234")
    settings = load_settings()
    assert "secretvalue" not in repr(settings)
    assert settings.masked_key().endswith("1234") and "secret" not in settings.masked_key()


def test_base_url_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STRIPE_API_KEY", "sk_test_1")
    monkeypatch.setenv("STRIPE_API_BASE", "http://127.0.0.1:9999/")
    assert load_settings().api_base == "http://127.0.0.1:9999"
