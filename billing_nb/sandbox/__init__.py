"""A Stripe-compatible HTTP server on 127.0.0.1: Stripe test mode in a box."""

from .app import Knobs, create_app
from .server import ThreadedSandbox, start, status, stop
from .store import Store

__all__ = ["Knobs", "create_app", "ThreadedSandbox", "start", "status", "stop", "Store"]
