from odoo import api, fields, models
from odoo.exceptions import AccessError, ValidationError

from ..vendors import CLIENTS, marking
from ..vendors.receipt import TAXATION_SYSTEMS

TAXATION_SYSTEM_LABELS = {
    "osn": "General (OSN)",
    "usn_income": "Simplified: income (USN)",
    "usn_income_outcome": "Simplified: income minus expenses (USN)",
    "envd": "Imputed income (ENVD)",
    "esn": "Unified agricultural tax (ESHN)",
    "patent": "Patent",
}

# The settings of a cash register (l10n_ru_kkm.register) that the company's settings screen
# edits on the company's default register (docs/architecture.rst, "Cash registers").
REGISTER_SETTINGS = (
    "vendor",
    "test_mode",
    "service_url",
    "atol_login",
    "atol_password",
    "atol_group_code",
    "atol_token",
    "atol_token_expiry",
    "checkonline_certificate_id",
    "checkonline_group",
    "checkonline_client_id",
    "checkonline_password",
    "checkonline_tax_ids",
    "ofd",
    "payment_address",
    "email",
    "internet",
    "callback",
)


def _register_setting(field_class, *args, **kwargs):
    """A company field that reads and writes the same setting of the default register."""
    return field_class(
        *args,
        compute="_compute_l10n_ru_kkm_register_settings",
        inverse="_inverse_l10n_ru_kkm_register_settings",
        **kwargs,
    )


class ResCompany(models.Model):
    _inherit = "res.company"

    l10n_ru_kkm_enabled = fields.Boolean(
        string="Fiscal receipts",
        help="Register a fiscal receipt (54-FZ) for every posted customer invoice and credit note.",
    )
    l10n_ru_kkm_register_ids = fields.One2many("l10n_ru_kkm.register", "company_id", string="Cash registers")
    l10n_ru_kkm_register_id = fields.Many2one(
        "l10n_ru_kkm.register",
        string="Default cash register",
        check_company=True,
        help="Takes the receipts no routing rule sends elsewhere; the settings below are its own.",
    )
    l10n_ru_kkm_vendor = _register_setting(
        fields.Selection,
        selection=[(code, client.label) for code, client in CLIENTS.items()],
        string="Cash register service",
    )
    l10n_ru_kkm_test_mode = _register_setting(fields.Boolean, string="Fiscal test mode")
    l10n_ru_kkm_service_url = _register_setting(fields.Char, string="Service URL")
    l10n_ru_kkm_atol_login = _register_setting(fields.Char, string="ATOL login", groups="base.group_system")
    l10n_ru_kkm_atol_password = _register_setting(
        fields.Char, string="ATOL password", groups="base.group_system"
    )
    l10n_ru_kkm_atol_group_code = _register_setting(fields.Char, string="ATOL group code")
    l10n_ru_kkm_atol_token = _register_setting(fields.Char, groups="base.group_system")
    l10n_ru_kkm_atol_token_expiry = _register_setting(fields.Datetime, groups="base.group_system")
    l10n_ru_kkm_checkonline_certificate_id = _register_setting(
        fields.Many2one,
        "certificate.certificate",
        string="Checkonline certificate",
        groups="base.group_system",
        domain="[('scope', '=', 'l10n_ru_kkm'), ('company_id', 'in', (id, False))]",
    )
    l10n_ru_kkm_checkonline_group = _register_setting(fields.Char, string="Checkonline device group")
    l10n_ru_kkm_checkonline_client_id = _register_setting(fields.Char, string="Checkonline client ID")
    l10n_ru_kkm_checkonline_password = _register_setting(
        fields.Integer, string="Checkonline cashier password", groups="base.group_system"
    )
    l10n_ru_kkm_checkonline_tax_ids = _register_setting(fields.Char, string="Checkonline VAT codes")
    l10n_ru_kkm_ofd = _register_setting(
        fields.Selection,
        selection=[("ofd.ru", "OFD.ru"), ("1-ofd", "Первый ОФД")],
        string="Fiscal data operator",
    )
    l10n_ru_kkm_payment_address = _register_setting(fields.Char, string="Place of settlement")
    l10n_ru_kkm_email = _register_setting(fields.Char, string="Seller e-mail")
    l10n_ru_kkm_internet = _register_setting(fields.Boolean, string="Internet sales")
    l10n_ru_kkm_callback = _register_setting(fields.Boolean, string="Receive results by callback")
    l10n_ru_kkm_email_receipt_copy = fields.Boolean(
        string="E-mail the receipt copy",
        help="When a receipt is registered, e-mail the customer a copy of it, once. Off by default: "
        "the fiscal data operator already e-mails the receipt to the contact it names.",
    )
    l10n_ru_kkm_inn = fields.Char(
        string="Seller INN",
        help="The INN registered in the fiscal storage (10 or 12 digits).",
    )
    l10n_ru_kkm_sno = fields.Selection(
        selection=[(code, TAXATION_SYSTEM_LABELS[code]) for code in TAXATION_SYSTEMS],
        string="Taxation system",
        default="osn",
    )
    l10n_ru_kkm_cashier = fields.Char(
        string="Cashier",
        size=64,
        help="Tag 1021: the person who settles, printed on receipts. Empty for unattended online sales.",
    )
    l10n_ru_kkm_cashier_inn = fields.Char(
        string="Cashier INN",
        size=12,
        help="Tag 1203 (FFD 1.2): the cashier's personal INN, 12 digits.",
    )

    l10n_ru_kkm_report_partner_ids = fields.Many2many(
        "res.partner",
        "l10n_ru_kkm_report_partner_rel",
        string="Report recipients",
        help="Who receives the fiscal receipts report: counts, totals and the receipts that need attention.",
    )
    l10n_ru_kkm_report_period = fields.Selection(
        selection=[("daily", "Daily"), ("weekly", "Weekly")],
        string="Report period",
        default="daily",
        required=True,
    )
    l10n_ru_kkm_report_last_date = fields.Date(string="Last report sent", copy=False)
    l10n_ru_kkm_trigger = fields.Selection(
        selection=[
            ("post", "When the invoice is confirmed"),
            ("paid", "When the invoice is paid"),
        ],
        string="Register receipts",
        default="post",
        required=True,
        help="Confirmed: Odoo eCommerce confirms the invoice when the payment is captured. "
        "Paid: the receipt waits for the invoice to be fully paid.",
    )
    l10n_ru_kkm_credit = fields.Boolean(
        string="Unpaid invoices on credit",
        help="With receipts at confirmation, an invoice not yet paid is registered as a transfer on "
        "credit (tag 1214, postpayment); its payment is registered by a second receipt, payment of "
        "credit, when the invoice is paid. Off: the receipt at confirmation registers the full "
        "payment. ATOL only.",
    )
    l10n_ru_kkm_prepayment = fields.Boolean(
        string="Receipts for advance payments",
        help="A customer payment received before its invoice is registered at once as an advance "
        "(tag 1214, goods not known yet; VAT at the calculated rate of the default sales tax). "
        "When the invoice is paid with it, the invoice's receipt offsets the advance (payment "
        "type 2). Needs receipts registered when the invoice is paid. ATOL only.",
    )
    l10n_ru_kkm_async = fields.Boolean(
        string="Send in the background",
        default=True,
        help="Send receipts through the job queue. Otherwise the first attempt is made right "
        "after the invoice is confirmed; retries always go through the queue.",
    )
    l10n_ru_kkm_retry_intervals = fields.Char(
        string="Retry intervals (minutes)",
        default="1,5,15,30,60",
        required=True,
        help="Waits between attempts after a temporary failure, comma-separated, in minutes.",
    )
    l10n_ru_kkm_max_attempts = fields.Integer(
        string="Maximum attempts",
        default=6,
        required=True,
        help="After this many failed attempts the receipt shows as failed; sending resumes "
        "after the pause below.",
    )
    l10n_ru_kkm_resume_hours = fields.Integer(
        string="Resume after (hours)",
        default=24,
        required=True,
        help="Pause before sending again once the maximum attempts were used.",
    )
    l10n_ru_kkm_max_polls = fields.Integer(
        string="Maximum status requests",
        default=50,
        required=True,
        help="A receipt still waiting after this many status requests is flagged for attention; "
        "it keeps being asked about less often, never silently failed.",
    )

    # -- marked goods: the permissive mode (vendors/marking; models/l10n_ru_kkm_mark_check.py) --
    l10n_ru_kkm_permissive = fields.Boolean(
        string="Check marking codes (permissive mode)",
        help="Before a marked item is sold, its code is checked in GIS MT (Chestny ZNAK); a code "
        "the check refuses stops the receipt, and the check goes into the receipt (tag 1260).",
    )
    l10n_ru_kkm_permissive_categ_ids = fields.Many2many(
        "product.category",
        "l10n_ru_kkm_permissive_categ_rel",
        string="Product categories checked",
        help="The marked goods under the permissive mode (and their subcategories). Empty: every "
        "marked product.",
    )
    l10n_ru_kkm_mark_route = fields.Selection(
        selection=[
            (marking.ROUTE_ONLINE, "GIS MT online (API key)"),
            (marking.ROUTE_LOCAL, "Local module or ТС ПИоТ"),
        ],
        string="Check through",
        default=marking.ROUTE_ONLINE,
        required=True,
    )
    l10n_ru_kkm_mark_fallback = fields.Selection(
        selection=[
            (marking.FALLBACK_WAIT, "Wait and check again"),
            (marking.FALLBACK_LOCAL, "Ask the local module (offline check)"),
            (marking.FALLBACK_EMERGENCY, "Sell without the check (emergency mode)"),
        ],
        string="When the check cannot be made",
        default=marking.FALLBACK_WAIT,
        required=True,
        help="Emergency mode: only while the operator has declared an outage of GIS MT, as the "
        "law allows; the receipt then carries no check.",
    )
    l10n_ru_kkm_mark_url = fields.Char(
        string="Marking check URL", help="Replaces the operator's CDN (e.g. the module's sandbox)."
    )
    l10n_ru_kkm_mark_api_key = fields.Char(string="GIS MT API key", groups="base.group_system")
    l10n_ru_kkm_mark_local_url = fields.Char(string="Local module URL", help="e.g. http://127.0.0.1:5995")
    l10n_ru_kkm_mark_local_api = fields.Selection(
        selection=[("lm", "Local module ЛМ ЧЗ (API v2)"), ("tspiot", "ТС ПИоТ (API v3)")],
        string="Local module API",
        default="lm",
        required=True,
    )
    l10n_ru_kkm_mark_local_login = fields.Char(string="Local module login", groups="base.group_system")
    l10n_ru_kkm_mark_local_password = fields.Char(string="Local module password", groups="base.group_system")

    def _l10n_ru_kkm_marking_config(self):
        """The marking check's settings (secrets read as the system: the check runs for anyone)."""
        self.ensure_one()
        company = self.sudo()
        return marking.MarkingConfig(
            route=company.l10n_ru_kkm_mark_route,
            fallback=company.l10n_ru_kkm_mark_fallback,
            test_mode=company.l10n_ru_kkm_test_mode,
            cdn_url=company.l10n_ru_kkm_mark_url or "",
            api_key=company.l10n_ru_kkm_mark_api_key or "",
            local_url=company.l10n_ru_kkm_mark_local_url or "",
            local_api=company.l10n_ru_kkm_mark_local_api,
            local_login=company.l10n_ru_kkm_mark_local_login or "",
            local_password=company.l10n_ru_kkm_mark_local_password or "",
        )

    def _l10n_ru_kkm_permissive_product(self, product):
        """Whether ``product`` (a template) is sold under the permissive mode here."""
        self.ensure_one()
        if not (self.l10n_ru_kkm_permissive and product.l10n_ru_kkm_marked):
            return False
        categories = self.l10n_ru_kkm_permissive_categ_ids
        if not categories:
            return True
        # The product's category or one above it (parent_path: "1/5/12/").
        path = {int(part) for part in (product.categ_id.parent_path or "").split("/") if part}
        return bool(path & set(categories.ids))

    @api.constrains("l10n_ru_kkm_retry_intervals", "l10n_ru_kkm_max_attempts", "l10n_ru_kkm_resume_hours")
    def _check_l10n_ru_kkm_retry_settings(self):
        for company in self:
            try:
                company._l10n_ru_kkm_retry_minutes()
            except ValueError as error:
                raise ValidationError(
                    self.env._(
                        "Retry intervals must be positive whole minutes separated by commas, "
                        "such as 1,5,15,30,60."
                    )
                ) from error
            if company.l10n_ru_kkm_max_attempts < 1 or company.l10n_ru_kkm_resume_hours < 1:
                raise ValidationError(
                    self.env._("The maximum attempts and the pause before resuming must be at least 1.")
                )

    def _l10n_ru_kkm_retry_minutes(self):
        """The retry intervals as a list of positive integers (minutes)."""
        self.ensure_one()
        minutes = [int(part) for part in (self.l10n_ru_kkm_retry_intervals or "").split(",") if part.strip()]
        if not minutes or min(minutes) < 1:
            raise ValueError(self.l10n_ru_kkm_retry_intervals)
        return minutes

    # -- the default register's settings -----------------------------------------------------

    @api.depends(
        "l10n_ru_kkm_register_id", *(f"l10n_ru_kkm_register_id.{name}" for name in REGISTER_SETTINGS)
    )
    def _compute_l10n_ru_kkm_register_settings(self):
        defaults = self.env["l10n_ru_kkm.register"].default_get(list(REGISTER_SETTINGS))
        for company in self:
            register = company.sudo().l10n_ru_kkm_register_id
            for name in REGISTER_SETTINGS:
                company[f"l10n_ru_kkm_{name}"] = register[name] if register else defaults.get(name, False)

    def _inverse_l10n_ru_kkm_register_settings(self):
        # write() hands these settings to the default register: in an inverse shared by several
        # fields, the fields not written would read as empty.
        return

    @api.model_create_multi
    def create(self, vals_list):
        settings_list = [
            {
                f"l10n_ru_kkm_{name}": vals.pop(f"l10n_ru_kkm_{name}")
                for name in REGISTER_SETTINGS
                if f"l10n_ru_kkm_{name}" in vals
            }
            for vals in vals_list
        ]
        companies = super().create(vals_list)
        for company, settings in zip(companies, settings_list, strict=True):
            if settings:
                company.write(settings)
        return companies

    def write(self, vals):
        settings = {
            name: vals.pop(f"l10n_ru_kkm_{name}")
            for name in REGISTER_SETTINGS
            if f"l10n_ru_kkm_{name}" in vals
        }
        result = super().write(vals)
        if settings:
            self._l10n_ru_kkm_check_secret_access(settings)
            for company in self:
                company._l10n_ru_kkm_default_register().write(settings)
        return result

    def _l10n_ru_kkm_check_secret_access(self, settings):
        """The company's fields say who may write a setting (secrets: administrators only)."""
        for name in settings:
            groups = self._fields[f"l10n_ru_kkm_{name}"].groups
            if groups and not self.env.su and not self.env.user.has_groups(groups):
                raise AccessError(
                    self.env._("Only administrators may change the cash register's credentials.")
                )

    def _l10n_ru_kkm_default_register(self):
        """The company's default register, created with the company's name when it has none."""
        self.ensure_one()
        company = self.sudo()
        if not company.l10n_ru_kkm_register_id:
            company.l10n_ru_kkm_register_id = company.env["l10n_ru_kkm.register"].create(
                {"name": company.name, "company_id": company.id}
            )
        return company.l10n_ru_kkm_register_id

    def _l10n_ru_kkm_check_connection(self):
        """Check the connection of the default register (the settings screen's button)."""
        self.ensure_one()
        return self._l10n_ru_kkm_default_register()._l10n_ru_kkm_check_connection()
