"""Secrets leave the frozen requests: the Checkonline cashier password and the ATOL callback URL
(with its token) are added at send time since 19.0.1.1.0 (README, Security)."""

from odoo import SUPERUSER_ID, api


def migrate(cr, version):
    env = api.Environment(cr, SUPERUSER_ID, {})
    env["l10n_ru_kkm.receipt"]._l10n_ru_kkm_strip_secrets()
