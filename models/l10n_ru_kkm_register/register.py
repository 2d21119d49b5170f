"""A cash register: one account at one service (its protocol, credentials, group or device),
with what it prints (place of settlement, seller e-mail), which invoices it takes (routing), its
backup, and its health (docs/architecture.rst, "Cash registers").

The company keeps what is company-wide (INN, taxation system, trigger, retries, report); its
settings screen edits the company's default register.
"""

from odoo import api, fields, models
from odoo.exceptions import ValidationError

from ...vendors import CLIENTS
from ...vendors import outcome as oc
from ...vendors.errors import TransientError
from ...vendors.receipt import VAT_CODES


class L10nRuKkmRegister(models.Model):
    _name = "l10n_ru_kkm.register"
    _description = "Cash register"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "sequence, id"
    _check_company_auto = True

    name = fields.Char(required=True)
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company, readonly=True
    )
    active = fields.Boolean(default=True)
    sequence = fields.Integer(default=10, help="Routing tries registers in this order.")
    vendor = fields.Selection(
        # Every service the vendor layer knows (vendors.CLIENTS), by its client's label.
        selection=[(code, client.label) for code, client in CLIENTS.items()],
        string="Cash register service",
        default="atol_v4",
        required=True,
    )
    test_mode = fields.Boolean(
        string="Fiscal test mode",
        default=True,
        help="Send receipts to the vendor's test environment: nothing reaches the tax office.",
    )
    service_url = fields.Char(
        string="Service URL",
        help="Leave empty to use the vendor's official host; set it to use another endpoint, "
        "such as the module's sandbox.",
    )
    atol_login = fields.Char(string="ATOL login", groups="base.group_system")
    atol_password = fields.Char(string="ATOL password", groups="base.group_system")
    atol_group_code = fields.Char(string="ATOL group code")
    atol_token = fields.Char(groups="base.group_system", copy=False)
    atol_token_expiry = fields.Datetime(groups="base.group_system", copy=False)
    checkonline_certificate_id = fields.Many2one(
        "certificate.certificate",
        string="Checkonline certificate",
        groups="base.group_system",
        domain="[('scope', '=', 'l10n_ru_kkm'), ('company_id', 'in', (company_id, False))]",
        help="The client certificate and private key issued by Checkonline for this cash register.",
    )
    checkonline_group = fields.Char(
        string="Checkonline device group",
        default="GROUP0",
        help="Group of devices on the Checkonline server (GROUP0 unless Checkonline said otherwise).",
    )
    checkonline_client_id = fields.Char(
        string="Checkonline client ID",
        help="Optional point-of-sale identifier, when one certificate serves several shops.",
    )
    checkonline_password = fields.Integer(
        string="Checkonline cashier password",
        default=1,
        groups="base.group_system",
        help="The device command password (1 to 31); 1 unless Checkonline said otherwise.",
    )
    checkonline_tax_ids = fields.Char(
        string="Checkonline VAT codes",
        default="vat22=11,vat122=12",
        help="TaxId sent for VAT rates the protocol does not settle, as code=number pairs "
        "(e.g. vat22=11,vat122=12). Confirm them with Checkonline; other rates follow the protocol.",
    )
    ofd = fields.Selection(
        selection=[("ofd.ru", "OFD.ru"), ("1-ofd", "Первый ОФД")],
        string="Fiscal data operator",
        help="Builds the link to each receipt at the fiscal data operator (OFD) when the service "
        "gives none (Checkonline never does; ATOL only for the operators it knows).",
    )
    payment_address = fields.Char(
        string="Place of settlement",
        help="Tag 1187: the web site address for online sales.",
    )
    email = fields.Char(
        string="Seller e-mail",
        help="Tag 1117: the e-mail printed on receipts as the sender.",
    )
    internet = fields.Boolean(
        string="Internet sales",
        default=True,
        help="Mark receipts as settlements made over the Internet (tag 1125, FFD 1.2).",
    )
    callback = fields.Boolean(
        string="Receive results by callback",
        default=True,
        help="Ask the service to post each result to this database (public URL required). "
        "Status requests remain the safety net.",
    )

    # -- routing (docs/architecture.rst, "Cash registers") ---------------------------------
    journal_ids = fields.Many2many(
        "account.journal",
        string="Sales journals",
        check_company=True,
        domain="[('type', '=', 'sale')]",
        help="Invoices of these journals go to this register.",
    )
    team_ids = fields.Many2many(
        "crm.team",
        string="Sales teams",
        help="Invoices of these sales teams (each website sells through its own team) go to this register.",
    )
    categ_ids = fields.Many2many(
        "product.category",
        string="Product categories",
        help="Invoices selling products of these categories go to this register, e.g. marked goods "
        "to a register whose protocol takes marking codes.",
    )
    # -- fail-over ---------------------------------------------------------------------------
    backup_register_id = fields.Many2one(
        "l10n_ru_kkm.register",
        string="Backup register",
        check_company=True,
        domain="[('id', '!=', id)]",
        help="Where a receipt goes when this register cannot be reached: only a receipt the "
        "service certainly never received moves, under a new ID.",
    )
    failover_minutes = fields.Integer(
        string="Fail over after (minutes)",
        default=30,
        help="How long every attempt must have been refused before the request reached the "
        "service before a receipt moves to the backup register.",
    )
    receipt_ids = fields.One2many("l10n_ru_kkm.receipt", "register_id", string="Receipts", readonly=True)
    # -- health (health.py) ------------------------------------------------------------------
    alert_minutes = fields.Integer(
        string="Alert after failing for (minutes)",
        default=60,
        help="A register whose requests all fail for this long gets an activity for the fiscal "
        "administrators and is named in the daily report.",
    )
    alert_backlog = fields.Integer(
        string="Alert above a backlog of",
        default=100,
        help="Receipts not yet registered on this register beyond which it is reported.",
    )
    health = fields.Selection(
        selection=[
            ("ok", "Working"),
            ("idle", "No traffic yet"),
            ("backlog", "Backlog"),
            ("failing", "Failing"),
        ],
        compute="_compute_health",
    )
    last_success_at = fields.Datetime(string="Last success", compute="_compute_health")
    failing_since = fields.Datetime(string="Failing since", compute="_compute_health")
    backlog_count = fields.Integer(
        string="Backlog", compute="_compute_health", help="Receipts not yet registered."
    )
    backlog_oldest_at = fields.Datetime(string="Oldest waiting since", compute="_compute_health")
    failure_share_hour = fields.Float(string="Failures, last hour (%)", compute="_compute_health")
    failure_share_day = fields.Float(string="Failures, last day (%)", compute="_compute_health")
    latency_hour_ms = fields.Integer(string="Median latency, last hour (ms)", compute="_compute_health")
    latency_day_ms = fields.Integer(string="Median latency, last day (ms)", compute="_compute_health")
    fn_number = fields.Char(
        string="Fiscal drive (FN)",
        compute="_compute_health",
        help="The fiscal drive number the service reported for the register's last receipt.",
    )
    registration_number = fields.Char(
        string="Registration number",
        compute="_compute_health",
        help="The register's registration number (RN KKT) the service reported last.",
    )

    @api.constrains("checkonline_tax_ids")
    def _check_checkonline_tax_ids(self):
        for register in self:
            try:
                register._l10n_ru_kkm_checkonline_tax_map()
            except ValueError as error:
                raise ValidationError(
                    self.env._(
                        "Checkonline VAT codes are written as code=number pairs separated by commas, "
                        "such as vat22=11,vat122=12."
                    )
                ) from error

    @api.constrains("backup_register_id", "failover_minutes")
    def _check_backup(self):
        for register in self:
            if register.backup_register_id == register:
                raise ValidationError(self.env._("A register cannot be its own backup."))
            if register.failover_minutes < 1:
                raise ValidationError(self.env._("Fail over after at least one minute."))

    def _l10n_ru_kkm_checkonline_tax_map(self):
        """{VAT code: TaxId} from the register's setting."""
        self.ensure_one()
        mapping = {}
        for pair in (self.checkonline_tax_ids or "").split(","):
            if not pair.strip():
                continue
            code, number = (part.strip() for part in pair.split("="))
            if code not in VAT_CODES:
                raise ValueError(code)
            mapping[code] = int(number)
        return mapping

    def _l10n_ru_kkm_client_class(self):
        """What this register's service can do (vendors.base.Client)."""
        self.ensure_one()
        return CLIENTS[self.vendor]

    # -- check connection --------------------------------------------------------------------

    def action_l10n_ru_kkm_check_connection(self):
        self.ensure_one()
        kind, message = self._l10n_ru_kkm_check_connection()
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {"type": kind, "message": message, "sticky": kind != "success"},
        }

    def _l10n_ru_kkm_check_connection(self):
        """Log in to the service with the current settings: (notification type, message).

        A service may say that the account speaks another version of its protocol (ATOL's error
        21): that version is then tried, to tell which one to choose.
        """
        self.ensure_one()
        vendor = self.vendor
        result = self._l10n_ru_kkm_try_login(vendor)
        labels = dict(self._fields["vendor"]._description_selection(self.env))
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
            with self.env["l10n_ru_kkm.client"]._open(self, vendor=vendor, shared_token=False) as client:
                result = client.check_connection()
        except TransientError as error:
            return self.env._("The service could not be reached: %(error)s", error=str(error))
        connected = isinstance(result, str) or result.status == oc.DONE
        return True if connected else result
