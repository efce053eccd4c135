"""Settings from the environment, never from notebook parameters or files.

``STRIPE_API_KEY`` is the only place a key comes from. ``STRIPE_API_BASE`` points the
SDK at the sandbox (or any Stripe-compatible server). Live keys are refused for writes
unless the caller passes ``live=True`` (the CLI's ``--live``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from .exceptions import ConfigError, LiveModeRefusedError

__all__ = ["Settings", "API_VERSION", "load_settings", "is_live_key"]

#: The Stripe API version the toolkit is written and tested against.
API_VERSION = "2026-10-28.endive"

_LIVE_PREFIXES = ("sk_live_", "rk_live_")
_TEST_PREFIXES = ("sk_test_", "rk_test_")


def is_live_key(key: str) -> bool:
    """True for a live secret or restricted key."""
    return key.startswith(_LIVE_PREFIXES)


@dataclass(frozen=True)
class Settings:
    """What the toolkit needs to talk to Stripe and where it keeps records."""

    api_key: str = field(repr=False)
    api_base: str | None = None
    live: bool = False
    cases_dir: Path = Path("cases")
    templates_dir: Path | None = None
    max_network_retries: int = 2

    @property
    def is_live_key(self) -> bool:
        return is_live_key(self.api_key)

    def require_writable(self) -> None:
        """Refuse writes with a live key unless the live flag was given."""
        if self.is_live_key and not self.live:
            raise LiveModeRefusedError(
                "STRIPE_API_KEY is a live key; writes need the explicit --live flag"
            )

    def masked_key(self) -> str:
        """The key as it may appear in logs: prefix and last 4 only."""
        prefix = self.api_key.split("_", 2)
        head = "_".join(prefix[:2]) + "_" if len(prefix) >= 3 else ""
        return f"{head}…{self.api_key[-4:]}"


def load_settings(*, live: bool = False, require_key: bool = True) -> Settings:
    """Read settings from the environment and check the key's shape."""
    key = os.environ.get("STRIPE_API_KEY", "").strip()
    if require_key and not key:
        raise ConfigError("STRIPE_API_KEY is not set (use a test or restricted key)")
    if key and not key.startswith(_LIVE_PREFIXES + _TEST_PREFIXES):
        raise ConfigError("STRIPE_API_KEY must start with sk_test_, rk_test_, sk_live_ or rk_live_")
    base = os.environ.get("STRIPE_API_BASE") or None
    cases = Path(os.environ.get("BILLING_NB_CASES_DIR", "cases"))
    templates = os.environ.get("BILLING_NB_TEMPLATES")
    return Settings(
        api_key=key,
        api_base=base.rstrip("/") if base else None,
        live=live,
        cases_dir=cases,
        templates_dir=Path(templates) if templates else None,
    )
