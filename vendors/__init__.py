"""Vendor layer: plain Python, no Odoo import (design.md §7).

``CLIENTS`` maps the company's vendor setting to the client class (strategy).
"""

from .atol import AtolConfig, AtolV4Client, AtolV5Client
from .checkonline import CheckonlineClient, CheckonlineConfig, CheckonlineDataError

CLIENTS = {
    "atol_v4": AtolV4Client,
    "atol_v5": AtolV5Client,
    "checkonline": CheckonlineClient,
}

__all__ = [
    "CLIENTS",
    "AtolConfig",
    "AtolV4Client",
    "AtolV5Client",
    "CheckonlineClient",
    "CheckonlineConfig",
    "CheckonlineDataError",
]
