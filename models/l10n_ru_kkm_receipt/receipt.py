"""The fiscal receipt: what it is, its fields, its states and the one method that moves them.

The receipt's life, phase by phase, is in the files beside this one: ``creation`` (the gate,
the frozen request), ``sending`` (register, retries, outcomes), ``polling`` (status requests,
callbacks), ``follow_ups`` (what a registration sets off), ``actions`` (what accountants do),
``problems`` (what needs someone) and ``report``. docs/architecture.rst draws it.
"""

from markupsafe import escape

from odoo import api, fields, models
from odoo.exceptions import MissingError, UserError
from odoo.tools.mail import generate_tracking_message_id

from ...vendors import CLIENTS, safe
from ...vendors.receipt import CORRECTION_TYPES
from .. import problems as pb

# Receipt states (docs/architecture.rst, "The receipt's life"). One method,
# _l10n_ru_kkm_set_state, performs every move:
#
# to_send ──accepted (ATOL)──────────────► sent ──report/callback: done──► done
# to_send ──fiscal data returned (Checkonline)─────────────────────────► done
# to_send ──transient failure (network, 5xx, 429)──► to_send (retry later, same external_id)
# to_send ──no answer after the request left───────► unknown (outcome uncertain: ask, never resend blind)
# unknown ──report/duplicate says registered───────► sent | done
# unknown ──vendor confirms it never got it────────► to_send (same external_id)
# unknown ──vendor holds a failed document─────────► error
# unknown ──still no answer────────────────────────► unknown (retry later, same external_id)
# to_send ──permanent failure (validation, auth, config)──► error (+ activity, banner)
# sent    ──report: fail────────────────────────────► error
# sent    ──report: not the document we sent─────────► unknown (needs a manager's decision)
# error   ──resend──────────────────────────────────► to_send (new external_id only if the vendor
#                                                     recorded a failed document under the old one)
# to_send ──invoice reset or cancelled, request certainly never reached the service──► cancelled
# error   ──invoice reset or cancelled (the service registered nothing)──────────────► cancelled
#
# Whatever the service may hold stays visible: ``error`` means it registered nothing under the
# receipt's id, ``unknown`` that it may have.
STATES = [
    ("to_send", "To send"),
    ("sent", "Sent"),
    ("unknown", "Outcome unknown"),
    ("done", "Done"),
    ("error", "Error"),
    ("cancelled", "Cancelled"),
]
TRANSITIONS = {
    "to_send": {"sent", "done", "to_send", "unknown", "error", "cancelled"},
    "unknown": {"sent", "done", "to_send", "unknown", "error"},
    "sent": {"done", "error", "unknown"},
    "error": {"to_send", "cancelled"},
    "done": set(),
    "cancelled": set(),
}
OPERATIONS = [
    ("sell", "Sale"),
    ("sell_refund", "Sale refund"),
    ("sell_correction", "Sale correction"),
    ("sell_refund_correction", "Sale refund correction"),
]
# What a receipt settles (tag 1214): everything at once, a transfer on credit then its payment,
# an advance, or the refund of an early-payment discount taken after a receipt at confirmation.
PAYMENT_STAGES = [
    ("full", "Full payment"),
    ("credit", "Transfer on credit"),
    ("credit_payment", "Payment of credit"),
    ("prepayment", "Advance payment"),
    ("early_discount", "Early payment discount"),
]
CORRECTION_TYPE_LABELS = {"self": "On our own initiative", "instruction": "By order of the tax office"}
CORRECTION_TYPE_SELECTION = [(code, CORRECTION_TYPE_LABELS[code]) for code in CORRECTION_TYPES]
# Invoice states the trigger "when paid" waits for.
PAID_STATES = ("paid", "in_payment")
FISCAL_MOVE_TYPES = ("out_invoice", "out_refund")
PENDING_STATES = ("to_send", "sent", "unknown")

FISCAL_FIELDS = (
    "fn_number",
    "fiscal_document_number",
    "fiscal_document_attribute",
    "shift_number",
    "fiscal_receipt_number",
    "receipt_datetime",
    "ecr_registration_number",
    "ofd_inn",
    "ofd_receipt_url",
    "fns_site",
)


class L10nRuKkmReceipt(models.Model):
    _name = "l10n_ru_kkm.receipt"
    _description = "Fiscal receipt"
    _inherit = ["mail.thread"]
    _order = "id desc"
    _check_company_auto = True

    # Read in the reader's language ("Sale INV/…", "Продажа INV/…"), never frozen in the poster's.
    name = fields.Char(compute="_compute_name", search="_search_name")
    company_id = fields.Many2one("res.company", required=True, readonly=True, index=True)
    move_id = fields.Many2one(
        "account.move",
        string="Invoice",
        required=True,
        readonly=True,
        index=True,
        ondelete="restrict",
        check_company=True,
    )
    partner_id = fields.Many2one(related="move_id.partner_id", string="Customer")
    # Receipts are registered in roubles only, whatever the company's or the invoice's currency.
    currency_id = fields.Many2one("res.currency", compute="_compute_currency_id")
    operation = fields.Selection(selection=OPERATIONS, required=True, readonly=True)
    payment_stage = fields.Selection(
        selection=PAYMENT_STAGES,
        string="Payment stage",
        required=True,
        default="full",
        readonly=True,
        help="Full payment, or for an invoice sold on credit: the transfer on credit at confirmation, "
        "then the payment of credit when the invoice is paid.",
    )
    part = fields.Integer(
        default=0,  # stored, never NULL: it belongs to the one-open-receipt index
        readonly=True,
        help="Which of the receipts of its invoice this one is, when the service cannot take the whole "
        "invoice in one receipt (0 until the request is built).",
    )
    part_count = fields.Integer(string="Parts", default=0, readonly=True)
    correction_type = fields.Selection(selection=CORRECTION_TYPE_SELECTION, readonly=True)
    correction_base_date = fields.Date(string="Date of the corrected settlement", readonly=True)
    correction_base_number = fields.Char(string="Order number", readonly=True)
    register_id = fields.Many2one(
        "l10n_ru_kkm.register",
        string="Cash register",
        readonly=True,
        index=True,
        check_company=True,
        ondelete="restrict",
        help="Chosen when the receipt was created (routing) and kept: the register that holds it.",
    )
    register_note = fields.Char(string="Routing note", readonly=True, copy=False)
    failover_from_id = fields.Many2one(
        "l10n_ru_kkm.register",
        string="Moved from",
        readonly=True,
        copy=False,
        help="The register this receipt left for its backup, which never received it.",
    )
    vendor = fields.Selection(
        # The registers' list (static, so that its labels are translated on the receipt too).
        selection=[(code, client.label) for code, client in CLIENTS.items()],
        string="Cash register service",
        required=True,
        readonly=True,
        help="The cash register service, frozen when the receipt was created.",
    )
    external_id = fields.Char(
        string="External ID",
        required=True,
        readonly=True,
        copy=False,
        index=True,
        help="Idempotency key sent to the service; kept on every retry.",
    )
    external_id_spent = fields.Boolean(
        readonly=True,
        copy=False,
        help="The service holds a failed document under this external ID: a resend needs a new one.",
    )
    vendor_uuid = fields.Char(string="Document ID at the service", readonly=True, copy=False)
    group_code = fields.Char(
        readonly=True,
        help="The ATOL group the receipt is registered in, frozen when it was created: its status "
        "is asked there even if the company moves to another group.",
    )
    state = fields.Selection(selection=STATES, required=True, default="to_send", readonly=True, tracking=True)
    amount_total = fields.Monetary(
        string="Total",
        currency_field="currency_id",
        readonly=True,
        help="In roubles; empty for an invoice in another currency, which no receipt can register.",
    )
    # Frozen with the request, for reconciliation (l10n_ru_kkm_discrepancy.py).
    amount_prepaid = fields.Monetary(
        string="Paid earlier",
        currency_field="currency_id",
        readonly=True,
        help="The part of the total paid by earlier advances or down payments (payment type 2).",
    )
    amount_deducted = fields.Monetary(
        string="Deducted by the document",
        currency_field="currency_id",
        readonly=True,
        help="The down payments the document itself deducts: in the receipt, not in its total.",
    )
    vat_amounts = fields.Json(
        string="Goods and VAT per rate", readonly=True, copy=False, help="{VAT code: {gross, vat}}"
    )
    verified_at = fields.Datetime(
        string="Checked with the service",
        readonly=True,
        copy=False,
        help="When the nightly check last found the service holding this receipt as stored.",
    )
    request_payload = fields.Json(readonly=True, copy=False)
    response_payload = fields.Json(readonly=True, copy=False)
    # -- what needs someone (see problems.py) --------------------------------------------
    problems = fields.Json(
        readonly=True, copy=False, help="What keeps the receipt back, as codes with parameters."
    )
    problem_level = fields.Selection(selection=pb.LEVELS, string="Problem level", readonly=True, copy=False)
    vendor_message = fields.Text(
        string="Service's message", readonly=True, copy=False, help="What the service said, in its own words."
    )
    error_message = fields.Text(
        string="Problem",
        compute="_compute_error_message",
        help="What keeps the receipt back, in your language.",
    )
    problem_text = fields.Text(
        string="What to do",
        compute="_compute_error_message",
        help="What needs someone, and how to fix it, in your language.",
    )
    error_code = fields.Char(readonly=True, copy=False)
    error_kind = fields.Selection(
        selection=[
            ("data", "Invoice data"),
            ("validation", "Refused by the service"),
            ("auth", "Credentials"),
            ("config", "Settings"),
            ("device", "Cash register failure"),
        ],
        readonly=True,
        copy=False,
    )
    needs_attention = fields.Boolean(
        readonly=True,
        copy=False,
        help="Something needs a look: the service has not given the result after the maximum status "
        "requests, its answer could not be read, or an attempt was interrupted.",
    )
    needs_decision = fields.Boolean(
        string="Decision needed",
        readonly=True,
        copy=False,
        help="The service may hold a registered document under this receipt's ID that cannot be taken "
        "as this receipt. Nothing is sent until a fiscal administrator has checked the service's "
        "account and decided.",
    )
    # -- fiscal data -----------------------------------------------------------------------
    fn_number = fields.Char(string="FN number", readonly=True, copy=False)
    fiscal_document_number = fields.Integer(string="FD number", readonly=True, copy=False)
    fiscal_document_attribute = fields.Char(string="Fiscal sign (FPD)", readonly=True, copy=False)
    shift_number = fields.Integer(string="Shift number", readonly=True, copy=False)
    fiscal_receipt_number = fields.Integer(string="Receipt number in shift", readonly=True, copy=False)
    receipt_datetime = fields.Char(
        string="Registered (Moscow time)",
        readonly=True,
        copy=False,
        help="The date and time of the receipt as the cash register registered it, in Moscow time.",
    )
    ecr_registration_number = fields.Char(string="Register registration number", readonly=True, copy=False)
    ofd_inn = fields.Char(string="OFD INN", readonly=True, copy=False)
    ofd_receipt_url = fields.Char(string="Receipt at the OFD", readonly=True, copy=False)
    fns_site = fields.Char(string="Tax office site", readonly=True, copy=False)
    # -- the customer's receipt (customer_copy.py) ----------------------------------------
    check_string = fields.Char(
        string="QR code",
        compute="_compute_customer_check",
        help="The check string of the tax service's app, in the receipt's QR code.",
    )
    ofd_link = fields.Char(
        string="Link to the receipt",
        compute="_compute_customer_check",
        help="The receipt's page at the fiscal data operator: the service's link, or one built "
        "from the operator chosen in the settings.",
    )
    copy_emailed = fields.Boolean(
        string="Copy e-mailed",
        readonly=True,
        copy=False,
        help="The customer was e-mailed a copy of this receipt (once).",
    )
    # -- retries and status requests -------------------------------------------------------
    send_attempts = fields.Integer(
        readonly=True, copy=False, help="Temporary failures since the last success or pause."
    )
    next_attempt_at = fields.Datetime(string="Next attempt", readonly=True, copy=False)
    retries_exhausted = fields.Boolean(
        readonly=True,
        copy=False,
        help="All attempts failed for now; sending resumes automatically after the pause.",
    )
    poll_count = fields.Integer(string="Status requests", readonly=True, copy=False)
    last_poll_at = fields.Datetime(string="Last status request", readonly=True, copy=False)
    next_poll_at = fields.Datetime(
        string="Next status request",
        readonly=True,
        copy=False,
        index="btree_not_null",
        help="When the service's result is due: the poll cron asks then, at the service's pace.",
    )
    # -- re-issue (resell) chain -----------------------------------------------------------
    origin_receipt_id = fields.Many2one(
        "l10n_ru_kkm.receipt",
        string="Refunded receipt",
        readonly=True,
        index="btree_not_null",
        help="The registered sale this refund cancels (resell).",
    )
    resell_receipt_id = fields.Many2one(
        "l10n_ru_kkm.receipt",
        string="New sale receipt",
        readonly=True,
        help="The sale registered again once this refund was done (resell).",
    )
    refund_receipt_ids = fields.One2many(
        "l10n_ru_kkm.receipt", "origin_receipt_id", string="Refunds of this receipt", readonly=True
    )
    attempt_ids = fields.One2many(
        "l10n_ru_kkm.receipt.attempt", "receipt_id", string="Attempts", readonly=True
    )

    _external_id_unique = models.Constraint(
        "UNIQUE(company_id, vendor, external_id)",
        "A receipt with this external ID already exists for this service.",
    )
    _one_open_per_operation = models.UniqueIndex(
        "(move_id, operation, payment_stage, part) WHERE state IN ('to_send', 'sent', 'unknown', 'error')",
        "An invoice may have only one open receipt per operation (and part).",
    )

    def _compute_currency_id(self):
        # Through the cached xmlid, not env.ref(): it checks the row at each posting.
        self.currency_id = self.env["res.currency"].browse(
            self.env["ir.model.data"]._xmlid_to_res_id("base.RUB")
        )

    @api.depends_context("lang")
    @api.depends("operation", "payment_stage", "move_id.name", "part", "part_count")
    def _compute_name(self):
        labels = dict(self._fields["operation"]._description_selection(self.env))
        stages = dict(self._fields["payment_stage"]._description_selection(self.env))
        for receipt in self:
            label = labels.get(receipt.operation, "")
            if receipt.payment_stage and receipt.payment_stage != "full":
                label = f"{label} ({stages[receipt.payment_stage].lower()})"
            name = f"{label} {receipt.move_id.name or ''}".strip()
            if receipt.part_count > 1:
                name = self.env._(
                    "%(name)s, part %(part)s/%(count)s",
                    name=name,
                    part=receipt.part,
                    count=receipt.part_count,
                )
            receipt.name = name

    @api.depends_context("lang")
    @api.depends("name")
    def _compute_display_name(self):
        for receipt in self:
            receipt.display_name = receipt.name

    def _search_name(self, operator, value):
        # The invoice's name is the part of a receipt's name that is in no language.
        return [("move_id.name", operator, value)]

    # -- the state machine ------------------------------------------------------------------

    def _message_track(self, fields_iter, initial_values_dict):
        """mail.thread's tracking, with the notes of a whole batch in one INSERT: receipts
        change state by the hundred (docs/architecture.rst, "Speed and scale"). Receipts have
        no tracking subtype, so mail.thread would log each as a note, one by one."""
        if not fields_iter:
            return {}
        tracked_fields = self.fields_get(
            fields_iter, attributes=("string", "type", "selection", "currency_field")
        )
        tracking = {}
        for record in self:
            try:
                tracking[record.id] = record._mail_track(tracked_fields, initial_values_dict[record.id])
            except MissingError:
                continue
        precommit = self.env.cr.precommit.data
        bodies = precommit.pop(f"mail.tracking.message.{self._name}", {})
        authors = precommit.pop(f"mail.tracking.author.{self._name}", {})
        subtype_id = self.env["ir.model.data"]._xmlid_to_res_id("mail.mt_note")
        reply_to = {}
        values_list, tracking_values = [], []
        for record in self:
            changes, tracking_value_ids = tracking.get(record.id, (None, None))
            if not changes or not tracking_value_ids:
                continue
            author = authors.get(record.id)
            author_id, email_from = record._message_compute_author(author.id if author else None, None)
            body = (
                bodies[record.id] if record.id in bodies else record._track_get_default_log_message(changes)
            )
            values_list.append(
                {
                    "author_id": author_id,
                    "email_from": email_from,
                    "model": self._name,
                    "res_id": record.id,
                    "record_alias_domain_id": False,
                    "record_company_id": False,
                    "message_type": "notification",
                    "is_internal": True,
                    "subtype_id": subtype_id,
                    "body": escape(body or ""),
                    "email_add_signature": False,
                    "message_id": generate_tracking_message_id("message-notify"),
                    "reply_to": reply_to.get(author_id)
                    or reply_to.setdefault(
                        author_id,
                        self.env["mail.thread"]._notify_get_reply_to(default=email_from, author_id=author_id)[
                            False
                        ],
                    ),
                }
            )
            tracking_values.append([command[2] for command in tracking_value_ids])
        if values_list:
            messages = self.sudo()._message_create(values_list)
            self.env["mail.tracking.value"].sudo().create(
                [
                    dict(values, mail_message_id=message.id)
                    for message, message_values in zip(messages, tracking_values, strict=True)
                    for values in message_values
                ]
            )
        return tracking

    def _l10n_ru_kkm_set_state(self, new_state, **values):
        """The only way a receipt changes state; refuses moves not in TRANSITIONS."""
        for receipt in self:
            if new_state not in TRANSITIONS[receipt.state]:
                raise UserError(
                    self.env._(
                        "Fiscal receipt %(name)s cannot go from %(old)s to %(new)s.",
                        name=receipt.display_name,
                        old=receipt.state,
                        new=new_state,
                    )
                )
        # Users only read receipts; their state is the module's business.
        self._l10n_ru_kkm_write(dict(values, state=new_state))
        if new_state == "done":
            registered = self.env.context.get("l10n_ru_kkm_registered")
            if registered is not None:  # a batch of answers: its follow-ups run together
                registered.extend(self.ids)
            else:
                self._l10n_ru_kkm_on_done()

    def _l10n_ru_kkm_write(self, values):
        """Write values, some of which may come from a service, made safe to store."""
        self.sudo().write(_storable_values(values))

    def _l10n_ru_kkm_state_label(self):
        return dict(self._fields["state"]._description_selection(self.env))[self.state]

    def _l10n_ru_kkm_is_failing(self):
        """Whether the receipt needs someone: refused, retries used up, or flagged."""
        self.ensure_one()
        if self.state == "error":
            return True
        return self.state not in ("done", "cancelled") and (self.retries_exhausted or self.needs_attention)


def _storable_values(values):
    """Field values with every text and JSON coming from a service made safe to store."""
    cleaned = {}
    for name, value in values.items():
        if isinstance(value, str):
            value = safe.text(value)
        elif name in ("response_payload", "request_payload", "problems") and value:
            value = safe.storable(value)
        cleaned[name] = value
    return cleaned
