"""Vendor layer: plain Python, no Odoo import (docs/architecture.rst, "Layers").

``CLIENTS`` maps the company's "Cash register service" setting to its client class; the
settings' choices are made from it. Adding a service: docs/architecture.rst, "Adding a service".
"""

from .atol import AtolConfig, AtolV4Client, AtolV5Client
from .base import Client, ClientSettings
from .checkonline import CheckonlineClient, CheckonlineConfig, CheckonlineDataError

CLIENTS = {client.code: client for client in (AtolV4Client, AtolV5Client, CheckonlineClient)}

__all__ = [
    "CLIENTS",
    "AtolConfig",
    "AtolV4Client",
    "AtolV5Client",
    "CheckonlineClient",
    "CheckonlineConfig",
    "CheckonlineDataError",
    "Client",
    "ClientSettings",
]
