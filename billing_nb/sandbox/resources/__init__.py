"""Resource handlers; importing this package registers every route."""

from . import customers  # noqa: F401
from . import catalog  # noqa: F401
from . import coupons  # noqa: F401
from . import payment_methods  # noqa: F401
from . import portal  # noqa: F401
from . import portal_sessions  # noqa: F401
from . import checkout  # noqa: F401
from . import events  # noqa: F401
from . import subscriptions  # noqa: F401
from . import schedules  # noqa: F401
from . import invoices  # noqa: F401
from . import payments  # noqa: F401
from . import credit_notes  # noqa: F401
from . import tax_rates  # noqa: F401
from . import test_clocks  # noqa: F401
from . import balance  # noqa: F401
