"""Loopback emulator of ATOL Online v4/v5 and Checkonline, with fault injection.

Standalone: no Odoo import, standard library only. Run ``python3 -m sandbox --help`` from the
repository root, or use ``Sandbox`` from Python (see README.rst in this folder).
"""

from .server import Sandbox

__all__ = ["Sandbox"]
