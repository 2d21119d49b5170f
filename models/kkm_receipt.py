import uuid
from dataclasses import replace

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError

from ..vendors import safe

# Receipt states (design.md §3). One method, _l10n_ru_kkm_set_state, performs every move:
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
# receipt's id, ``unknown`` that it may have (design.md §4.8).
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
# What a sale receipt settles (tag 1214): everything at once, or a transfer on credit then its payment.
PAYMENT_STAGES = [
    ("full", "Full payment"),
    ("credit", "Transfer on credit"),
    ("credit_payment", "Payment of credit"),
    ("prepayment", "Advance payment"),
    ("early_discount", "Early payment discount"),
]
# Basis of a correction receipt (tag 1173).
CORRECTION_TYPES = [("self", "On our own initiative"), ("instruction", "By order of the tax office")]
# Invoice states the trigger "when paid" waits for.
PAID_STATES = ("paid", "in_payment")
FISCAL_MOVE_TYPES = ("out_invoice", "out_refund")

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

    name = fields.Char(compute="_compute_name", store=True, precompute=True)
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
    currency_id = fields.Many2one(related="company_id.currency_id")
    operation = fields.Selection(
        selection=[
            ("sell", "Sale"),
            ("sell_refund", "Sale refund"),
            ("sell_correction", "Sale correction"),
            ("sell_refund_correction", "Sale refund correction"),
        ],
        required=True,
        readonly=True,
    )
    part = fields.Integer(
        default=0,  # stored, never NULL: it belongs to the one-open-receipt index
        readonly=True,
        help="Which of the receipts of its invoice this one is, when the service cannot take the whole "
        "invoice in one receipt (0 until the request is built).",
    )
    part_count = fields.Integer(string="Parts", default=0, readonly=True)
    payment_stage = fields.Selection(
        selection=PAYMENT_STAGES,
        string="Payment stage",
        required=True,
        default="full",
        readonly=True,
        help="Full payment, or for an invoice sold on credit: the transfer on credit at confirmation, "
        "then the payment of credit when the invoice is paid.",
    )
    correction_type = fields.Selection(selection=CORRECTION_TYPES, readonly=True)
    correction_base_date = fields.Date(string="Date of the corrected settlement", readonly=True)
    correction_base_number = fields.Char(string="Order number", readonly=True)
    vendor = fields.Selection(
        selection=lambda self: self.env["res.company"]._fields["l10n_ru_kkm_vendor"].selection,
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
    vendor_uuid = fields.Char(string="Vendor document ID", readonly=True, copy=False)
    group_code = fields.Char(
        readonly=True,
        help="The ATOL group the receipt is registered in, frozen when it was created: its status "
        "is asked there even if the company moves to another group.",
    )
    state = fields.Selection(selection=STATES, required=True, default="to_send", readonly=True, tracking=True)
    amount_total = fields.Monetary(string="Total", currency_field="currency_id", readonly=True)
    request_payload = fields.Json(readonly=True, copy=False)
    response_payload = fields.Json(readonly=True, copy=False)
    error_code = fields.Char(readonly=True, copy=False)
    error_message = fields.Text(readonly=True, copy=False)
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
    fn_number = fields.Char(string="FN number", readonly=True, copy=False)
    fiscal_document_number = fields.Integer(string="FD number", readonly=True, copy=False)
    fiscal_document_attribute = fields.Char(string="Fiscal sign (FPD)", readonly=True, copy=False)
    shift_number = fields.Integer(string="Shift number", readonly=True, copy=False)
    fiscal_receipt_number = fields.Integer(string="Receipt number in shift", readonly=True, copy=False)
    receipt_datetime = fields.Char(string="Fiscal date and time", readonly=True, copy=False)
    ecr_registration_number = fields.Char(string="Register registration number", readonly=True, copy=False)
    ofd_inn = fields.Char(string="OFD INN", readonly=True, copy=False)
    ofd_receipt_url = fields.Char(string="Receipt at the OFD", readonly=True, copy=False)
    fns_site = fields.Char(string="Tax office site", readonly=True, copy=False)
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
    problem_text = fields.Text(
        string="Problem", compute="_compute_problem_text", help="What needs someone, and how to fix it."
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

    @api.depends("state", "error_message", "needs_attention", "needs_decision", "retries_exhausted")
    def _compute_problem_text(self):
        for receipt in self:
            failing = receipt.state == "error" or receipt.needs_attention or receipt.needs_decision
            receipt.problem_text = failing and receipt._l10n_ru_kkm_problem_text()

    @api.model
    def _new_external_id(self):
        return uuid.uuid4().hex

    @api.model
    def _l10n_ru_kkm_strip_secrets(self):
        """Remove the secrets that requests frozen before 19.0.1.1.0 hold (see migrations/)."""
        self.env.flush_all()
        self.env.cr.execute(
            """
            UPDATE l10n_ru_kkm_receipt
               SET request_payload = request_payload - 'Password' - 'service'
             WHERE request_payload ? 'Password' OR request_payload ? 'service'
            """
        )
        count = self.env.cr.rowcount
        self.invalidate_model(["request_payload"])
        return count

    # -- state machine ---------------------------------------------------------------

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
        # Users only read receipts; their state is the module's business (design.md §9).
        self.sudo().write(dict(_storable_values(values), state=new_state))
        if new_state == "done":
            self._l10n_ru_kkm_on_done()

    def _l10n_ru_kkm_on_done(self):
        """Side effects of a registration (extended by the resell)."""

    def _l10n_ru_kkm_cancel(self):
        """Cancel receipts that the service certainly never registered, with their document's
        reset; kept, with their history, for the record (design.md §4.8)."""
        for receipt in self:
            receipt._l10n_ru_kkm_set_state(
                "cancelled",
                needs_attention=False,
                next_attempt_at=False,
                retries_exhausted=False,
            )
            receipt.message_post(
                body=self.env._(
                    "Cancelled with the reset of %(move)s to draft: the service never registered it.",
                    move=receipt.move_id.display_name,
                )
            )
        # The document may be confirmed again at once: its new receipt needs this one closed.
        self.flush_recordset(["state"])

    def _l10n_ru_kkm_is_failing(self):
        """Whether the receipt needs someone: refused, retries used up, or flagged."""
        self.ensure_one()
        if self.state == "error":
            return True
        return self.state not in ("done", "cancelled") and (self.retries_exhausted or self.needs_attention)

    # -- preparation -----------------------------------------------------------------

    # -- the gate ------------------------------------------------------------------

    @api.model
    def _l10n_ru_kkm_refusal(self, move, payment_stage="full", mirror=False):
        """Why ``move`` may not get a receipt, as a translated sentence, or "" when it may.

        The one gate of every way a receipt is created or sent (posting, payment, buttons,
        wizards, command line, RPC; design.md §5): the move is posted, it is a customer
        invoice or credit note (a customer payment for an advance), its company registers
        receipts, and its trigger is reached. A ``mirror`` (the refund that re-issues a
        registered sale) repeats what was registered, whatever the trigger says now.
        """
        company = move.company_id
        if not company.l10n_ru_kkm_enabled:
            return self.env._(
                "Fiscal receipts are not enabled for %(company)s: enable them in Settings › Invoicing › "
                "Fiscalization (54-FZ).",
                company=company.name,
            )
        if move.state != "posted":
            return self.env._(
                "%(move)s is not posted: only confirmed documents are registered with the tax office.",
                move=move.display_name,
            )
        if payment_stage == "prepayment":
            payment = move.origin_payment_id
            if payment.payment_type != "inbound" or payment.partner_type != "customer":
                return self.env._("%(move)s is not a customer payment.", move=move.display_name)
            return ""
        if move.move_type not in FISCAL_MOVE_TYPES:
            return self.env._(
                "%(move)s is not a customer invoice or credit note: no fiscal receipt is registered for it.",
                move=move.display_name,
            )
        origin = move.reversed_entry_id
        if (
            origin
            and not mirror
            and not origin.l10n_ru_kkm_receipt_ids.filtered(
                lambda r: r.operation == "sell" and r.state != "cancelled"
            )
        ):
            return self.env._(
                "%(move)s reverses %(origin)s, whose sale was never registered with the tax office: there "
                "is nothing to refund.",
                move=move.display_name,
                origin=origin.display_name,
            )
        if (
            not mirror
            and payment_stage == "full"
            and company.l10n_ru_kkm_trigger == "paid"
            and move.payment_state not in PAID_STATES
        ):
            return self.env._(
                "%(move)s is not paid yet: %(company)s registers receipts when invoices are paid.",
                move=move.display_name,
                company=company.name,
            )
        return ""

    @api.model
    def _l10n_ru_kkm_check_rights(self, group):
        """Buttons are hidden from users without ``group``; RPC callers meet this check."""
        if self.env.su or self.env.user.has_group(group):
            return
        raise AccessError(
            self.env._(
                "You are not allowed to do this with fiscal receipts: it needs the group %(group)s.",
                group=self.env.ref(group).sudo().full_name,
            )
        )

    # -- preparation -----------------------------------------------------------------

    @api.model
    def _l10n_ru_kkm_create_for_moves(self, moves):
        """Create the receipts of invoices that passed the gate; nothing is sent here."""
        values_list = []
        for move in moves:
            operation = "sell" if move.move_type == "out_invoice" else "sell_refund"
            if move.l10n_ru_kkm_receipt_ids.filtered(
                lambda r, op=operation: r.operation == op and r.state != "cancelled"
            ):
                continue
            stage = self._l10n_ru_kkm_payment_stage(move, operation)
            values_list.append(self._l10n_ru_kkm_values(move, operation, payment_stage=stage))
        return self._l10n_ru_kkm_create_prepared(values_list)

    @api.model
    def _l10n_ru_kkm_values(self, move, operation, **values):
        """A new receipt of ``move``, for the company's current service, with a fresh id."""
        company = move.company_id
        return {
            "company_id": company.id,
            "move_id": move.id,
            "operation": operation,
            "vendor": company.l10n_ru_kkm_vendor,
            "group_code": company.l10n_ru_kkm_atol_group_code,
            "external_id": self._new_external_id(),
            "amount_total": move.amount_total,
            **values,
        }

    @api.model
    def _l10n_ru_kkm_payment_stage(self, move, operation):
        """What the receipt of a freshly posted invoice settles (extended for credit sales)."""
        return "full"

    @api.model
    def _l10n_ru_kkm_create_prepared(self, values_list):
        """Create receipts with their request already frozen in the row (one INSERT each).

        A request that cannot be built leaves its receipt in error, visibly, with the reason.
        A receipt the gate refuses is not created, whoever asks (callers that talk to a
        person ask the gate first, to say why).
        """
        receipts = self.sudo()
        moves = self.env["account.move"].browse([values["move_id"] for values in values_list])
        values_list = [
            values
            for values, move in zip(values_list, moves, strict=True)
            if not self._l10n_ru_kkm_refusal(
                move, values.get("payment_stage", "full"), mirror=bool(values.get("origin_receipt_id"))
            )
        ]
        # One row per part: an invoice with more items than the service takes in one receipt is
        # registered as several receipts, each valid on its own (its client decides).
        values_list = [
            dict(values, **part_values)
            for values in values_list
            for part_values in receipts.new(values)._l10n_ru_kkm_request_values()
        ]
        # The invoice's chatter tells the story; the receipt needs no "created" note nor followers.
        created = receipts.with_context(
            mail_create_nolog=True, mail_create_nosubscribe=True, tracking_disable=True
        ).create(values_list)
        return created.with_env(receipts.env)  # later changes are tracked again

    def _l10n_ru_kkm_prepare(self):
        """Freeze the request again from the invoice as it is now (e.g. after a fix).

        A receipt whose request was never built may now need several parts: it becomes the
        first, the others are created beside it. Returns all the receipts concerned.
        """
        extra = self.browse()
        for receipt in self:
            first, *others = receipt._l10n_ru_kkm_request_values()
            first.pop("external_id", None)
            if first.pop("state", None) == "error":
                receipt._l10n_ru_kkm_set_state("error", **first)
                continue
            receipt.sudo().write(first)
            if others:
                copied = receipt.copy_data(
                    {"state": "to_send", "origin_receipt_id": False, "resell_receipt_id": False}
                )[0]
                extra |= self.sudo().create([dict(copied, **values) for values in others])
        return self | extra.with_env(self.env)

    def _l10n_ru_kkm_request_values(self):
        """The values of each part: its frozen request and the fields that go with it, or the
        error that blocks it. A receipt with a part number gives that part only."""
        self.ensure_one()
        try:
            parts = self._l10n_ru_kkm_build_requests()
        except UserError as error:
            message = str(error.args[0])
        except ValueError as error:
            # The vendor's own rules (e.g. text Checkonline's register cannot print).
            message = self.env._("The service cannot accept this receipt: %(reason)s", reason=str(error))
        else:
            # Due now: a receipt still waiting long after this lost its job (see the sweep).
            ready = {"error_message": False, "error_kind": False, "next_attempt_at": fields.Datetime.now()}
            return [dict(values, request_payload=payload, **ready) for values, payload in parts]
        return [{"state": "error", "error_kind": "data", "error_code": False, "error_message": message}]

    def _l10n_ru_kkm_build_requests(self):
        """[(part values, vendor request)] of this receipt, from its invoice (extended by the
        resell): one pair, or one per part when the service needs several receipts."""
        data = self.env["l10n_ru_kkm.receipt.builder"]._build(self)
        with self._l10n_ru_kkm_client(credentials=False) as client:
            parts = client.split(data)
            if self.part and (self.part > len(parts) or self.part_count not in (0, len(parts))):
                raise UserError(
                    self.env._(
                        "%(move)s now needs %(count)s receipts instead of %(before)s: its receipts cannot be "
                        "rebuilt part by part. Register a correction instead.",
                        move=self.move_id.display_name,
                        count=len(parts),
                        before=self.part_count,
                    )
                )
            requests = []
            for number, part in enumerate(parts, start=1):
                if self.part and number != self.part:
                    continue
                # The first part keeps the receipt's id; the others get their own.
                external_id = self.external_id if (self.part or number == 1) else self._new_external_id()
                values = {
                    "part": number,
                    "part_count": len(parts),
                    "external_id": external_id,
                    "amount_total": float(part.total),
                }
                requests.append((values, client.build_payload(replace(part, external_id=external_id))))
            return requests


def _storable_values(values):
    """Field values with every text and JSON coming from a vendor made safe to store."""
    cleaned = {}
    for name, value in values.items():
        if isinstance(value, str):
            value = safe.text(value)
        elif name in ("response_payload", "request_payload") and value:
            value = safe.storable(value)
        cleaned[name] = value
    return cleaned
