"""The marking check of the permissive mode (Decree 1944): every marked item's code is checked
in GIS MT (Chestny ZNAK) before the sale, and the check goes into the receipt as the item's
industry requisite (tag 1260). Plain Python, no Odoo, beside the fiscal vendors; every value
that may change is in ``constants``. Facts and open questions: shared/vendor-docs/
permissive-mode-facts.md and the README ("Marked goods: the permissive mode").
"""

from . import constants
from .client import (
    FALLBACK_EMERGENCY,
    FALLBACK_LOCAL,
    FALLBACK_WAIT,
    FALLBACKS,
    ROUTE_LOCAL,
    ROUTE_ONLINE,
    ROUTES,
    MarkingClient,
    MarkingConfig,
)
from .online import SHARED as SHARED_HOSTS
from .online import HostCache
from .verdicts import EMERGENCY, OFFLINE, ONLINE, MarkingAccessDenied, MarkingUnavailable, Verdict

__all__ = [
    "EMERGENCY",
    "FALLBACKS",
    "FALLBACK_EMERGENCY",
    "FALLBACK_LOCAL",
    "FALLBACK_WAIT",
    "OFFLINE",
    "ONLINE",
    "ROUTES",
    "ROUTE_LOCAL",
    "ROUTE_ONLINE",
    "SHARED_HOSTS",
    "HostCache",
    "MarkingAccessDenied",
    "MarkingClient",
    "MarkingConfig",
    "MarkingUnavailable",
    "Verdict",
    "constants",
]
