"""Resource handlers; importing this package registers every route."""

from . import customers  # noqa: F401
