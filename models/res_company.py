from odoo import fields, models

from ..vendors import CLIENTS, AtolConfig
from ..vendors.receipt import TAXATION_SYSTEMS

TAXATION_SYSTEM_LABELS = {
    "osn": "General (OSN)",
    "usn_income": "Simplified, income (USN income)",
    "usn_income_outcome": "Simplified, income minus expenses (USN income-expenses)",
    "envd": "Imputed income (ENVD)",
    "esn": "Unified agricultural tax (ESHN)",
    "patent": "Patent",
}


class ResCompany(models.Model):
    _inherit = "res.company"

    l10n_ru_kkm_enabled = fields.Boolean(
        string="Fiscal receipts",
        help="Register a fiscal receipt (54-FZ) for every posted customer invoice and credit note.",
    )
    l10n_ru_kkm_vendor = fields.Selection(
        selection=[
            ("atol_v4", "ATOL Online v4 (FFD 1.05)"),
            ("atol_v5", "ATOL Online v5 (FFD 1.2)"),
        ],
        string="Cash register service",
        default="atol_v4",
    )
    l10n_ru_kkm_test_mode = fields.Boolean(
        string="Fiscal test mode",
        default=True,
        help="Send receipts to the vendor's test environment: nothing reaches the tax office.",
    )
    l10n_ru_kkm_service_url = fields.Char(
        string="Service URL",
        help="Leave empty to use the vendor's official host; set it to use another endpoint, "
        "such as the module's sandbox.",
    )
    l10n_ru_kkm_atol_login = fields.Char(string="ATOL login", groups="base.group_system")
    l10n_ru_kkm_atol_password = fields.Char(string="ATOL password", groups="base.group_system")
    l10n_ru_kkm_atol_group_code = fields.Char(string="ATOL group code")
    l10n_ru_kkm_atol_token = fields.Char(groups="base.group_system", copy=False)
    l10n_ru_kkm_atol_token_expiry = fields.Datetime(groups="base.group_system", copy=False)
    l10n_ru_kkm_inn = fields.Char(
        string="Seller INN",
        help="The INN registered in the fiscal storage (10 or 12 digits).",
    )
    l10n_ru_kkm_payment_address = fields.Char(
        string="Place of settlement",
        help="Tag 1187: the web site address for online sales.",
    )
    l10n_ru_kkm_email = fields.Char(
        string="Seller e-mail",
        help="Tag 1117: the e-mail printed on receipts as the sender.",
    )
    l10n_ru_kkm_sno = fields.Selection(
        selection=[(code, TAXATION_SYSTEM_LABELS[code]) for code in TAXATION_SYSTEMS],
        string="Taxation system",
        default="osn",
    )

    def _l10n_ru_kkm_client(self, vendor, on_exchange=None):
        """The vendor client (strategy) for this company's settings."""
        self.ensure_one()
        company = self.sudo()
        config = AtolConfig(
            login=company.l10n_ru_kkm_atol_login or "",
            password=company.l10n_ru_kkm_atol_password or "",
            group_code=company.l10n_ru_kkm_atol_group_code or "",
            test_mode=company.l10n_ru_kkm_test_mode,
            base_url=company.l10n_ru_kkm_service_url or "",
        )
        return CLIENTS[vendor](config, token_store=CompanyTokenStore(company), on_exchange=on_exchange)


class CompanyTokenStore:
    """ATOL token shared by all workers through the company row.

    A new token is committed at once in a cursor of its own, so that other workers
    use it and a rolled-back send does not throw it away.
    """

    def __init__(self, company):
        self.company = company
        self.token = company.l10n_ru_kkm_atol_token or ""
        self.expiry = company.l10n_ru_kkm_atol_token_expiry

    def get(self):
        return self.token, self.expiry

    def set(self, token, expiry):
        self.token, self.expiry = token, expiry
        values = {"l10n_ru_kkm_atol_token": token or False, "l10n_ru_kkm_atol_token_expiry": expiry or False}
        with self.company.env.registry.cursor() as cr:
            self.company.with_env(self.company.env(cr=cr)).sudo().write(values)
        self.company.invalidate_recordset(list(values))
