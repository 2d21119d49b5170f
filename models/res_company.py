from odoo import api, fields, models
from odoo.exceptions import ValidationError

from ..vendors import CLIENTS
from ..vendors import outcome as oc
from ..vendors.errors import TransientError
from ..vendors.receipt import TAXATION_SYSTEMS, VAT_CODES

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
        # Every service the vendor layer knows (vendors.CLIENTS), by its client's label.
        selection=[(code, client.label) for code, client in CLIENTS.items()],
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
    l10n_ru_kkm_checkonline_certificate_id = fields.Many2one(
        "certificate.certificate",
        string="Checkonline certificate",
        groups="base.group_system",
        domain="[('scope', '=', 'l10n_ru_kkm'), ('company_id', 'in', (id, False))]",
        help="The client certificate and private key issued by Checkonline for this cash register.",
    )
    l10n_ru_kkm_checkonline_group = fields.Char(
        string="Checkonline device group",
        default="GROUP0",
        help="Group of devices on the Checkonline server (GROUP0 unless Checkonline said otherwise).",
    )
    l10n_ru_kkm_checkonline_client_id = fields.Char(
        string="Checkonline client ID",
        help="Optional point-of-sale identifier, when one certificate serves several shops.",
    )
    l10n_ru_kkm_checkonline_password = fields.Integer(
        string="Checkonline cashier password",
        default=1,
        groups="base.group_system",
        help="The device command password (1 to 31); 1 unless Checkonline said otherwise.",
    )
    l10n_ru_kkm_checkonline_tax_ids = fields.Char(
        string="Checkonline VAT codes",
        default="vat22=11,vat122=12",
        help="TaxId sent for VAT rates the protocol does not settle, as code=number pairs "
        "(e.g. vat22=11,vat122=12). Confirm them with Checkonline; other rates follow the protocol.",
    )
    l10n_ru_kkm_ofd = fields.Selection(
        selection=[("ofd.ru", "OFD.ru"), ("1-ofd", "Первый ОФД")],
        string="Fiscal data operator",
        help="Builds the link to each receipt at the fiscal data operator (OFD) when the service "
        "gives none (Checkonline never does; ATOL only for the operators it knows).",
    )
    l10n_ru_kkm_email_receipt_copy = fields.Boolean(
        string="E-mail the receipt copy",
        help="When a receipt is registered, e-mail the customer a copy of it, once. Off by default: "
        "the fiscal data operator already e-mails the receipt to the contact it names.",
    )
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

    l10n_ru_kkm_internet = fields.Boolean(
        string="Internet sales",
        default=True,
        help="Mark receipts as settlements made over the Internet (tag 1125, FFD 1.2).",
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
    l10n_ru_kkm_callback = fields.Boolean(
        string="Receive results by callback",
        default=True,
        help="Ask the service to post each result to this database (public URL required). "
        "Status requests remain the safety net.",
    )

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

    @api.constrains("l10n_ru_kkm_checkonline_tax_ids")
    def _check_l10n_ru_kkm_checkonline_tax_ids(self):
        for company in self:
            try:
                company._l10n_ru_kkm_checkonline_tax_map()
            except ValueError as error:
                raise ValidationError(
                    self.env._(
                        "Checkonline VAT codes are written as code=number pairs separated by commas, "
                        "such as vat22=11,vat122=12."
                    )
                ) from error

    def _l10n_ru_kkm_checkonline_tax_map(self):
        """{VAT code: TaxId} from the company setting."""
        self.ensure_one()
        mapping = {}
        for pair in (self.l10n_ru_kkm_checkonline_tax_ids or "").split(","):
            if not pair.strip():
                continue
            code, number = (part.strip() for part in pair.split("="))
            if code not in VAT_CODES:
                raise ValueError(code)
            mapping[code] = int(number)
        return mapping

    def _l10n_ru_kkm_retry_minutes(self):
        """The retry intervals as a list of positive integers (minutes)."""
        self.ensure_one()
        minutes = [int(part) for part in (self.l10n_ru_kkm_retry_intervals or "").split(",") if part.strip()]
        if not minutes or min(minutes) < 1:
            raise ValueError(self.l10n_ru_kkm_retry_intervals)
        return minutes

    def _l10n_ru_kkm_check_connection(self):
        """Log in to the service with the current settings: (notification type, message).

        A service may say that the account speaks another version of its protocol (ATOL's error
        21): that version is then tried, to tell which one to choose.
        """
        self.ensure_one()
        vendor = self.l10n_ru_kkm_vendor
        result = self._l10n_ru_kkm_try_login(vendor)
        labels = dict(self._fields["l10n_ru_kkm_vendor"]._description_selection(self.env))
        if result is True:
            return "success", self.env._(
                "Connected to %(service)s: the login, password and group are accepted.",
                service=labels[vendor],
            )
        client = CLIENTS[vendor]
        if client.other_version and client.wrong_version(result):
            if self._l10n_ru_kkm_try_login(client.other_version) is True:
                return "warning", self.env._(
                    "The group works with %(other)s, not %(current)s: choose %(other)s as the service.",
                    other=labels[client.other_version],
                    current=labels[vendor],
                )
        if isinstance(result, str):
            return "danger", result
        return "danger", self.env._(
            "%(service)s refused the connection: %(error)s (code %(code)s).",
            service=labels[vendor],
            error=result.error_text,
            code=result.error_code,
        )

    def _l10n_ru_kkm_try_login(self, vendor):
        """True, the vendor's failed outcome, or the text of a transport problem."""
        try:
            with self.env["l10n_ru_kkm.client"]._open(self, vendor, shared_token=False) as client:
                result = client.check_connection()
        except TransientError as error:
            return self.env._("The service could not be reached: %(error)s", error=str(error))
        connected = isinstance(result, str) or result.status == oc.DONE
        return True if connected else result
