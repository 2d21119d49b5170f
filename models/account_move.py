from decimal import Decimal

from odoo import api, fields, models
from odoo.exceptions import UserError

from .l10n_ru_kkm_receipt.receipt import FISCAL_MOVE_TYPES, PAID_STATES, STATES

USER = "l10n_ru_kkm.group_kkm_user"
# The invoice shows the state of its receipts that needs someone first.
STATE_URGENCY = ["error", "unknown", "to_send", "sent", "done", "cancelled"]


class AccountMove(models.Model):
    _inherit = "account.move"

    l10n_ru_kkm_receipt_ids = fields.One2many(
        "l10n_ru_kkm.receipt", "move_id", string="Fiscal receipts", readonly=True
    )
    l10n_ru_kkm_mark_check_ids = fields.One2many(
        "l10n_ru_kkm.mark.check", "move_id", string="Marking checks", readonly=True
    )
    l10n_ru_kkm_state = fields.Selection(
        selection=STATES,
        string="Fiscal receipt",
        compute="_compute_l10n_ru_kkm_state",
        store=True,
        help="One state for all the invoice's fiscal receipts (several when it is split, re-issued or "
        "paid on credit): the one that needs someone first.",
    )
    l10n_ru_kkm_failed = fields.Boolean(
        string="Fiscal receipt failed",
        compute="_compute_l10n_ru_kkm_state",
        store=True,
        help="A receipt of this invoice was refused, could not be sent after all attempts, "
        "or has no result after the maximum status requests.",
    )

    l10n_ru_kkm_show_send = fields.Boolean(compute="_compute_l10n_ru_kkm_show_send")
    l10n_ru_kkm_has_marked = fields.Boolean(
        string="Marked goods on the invoice",
        compute="_compute_l10n_ru_kkm_has_marked",
        help="A customer invoice or credit note with marked goods: its lines ask for marking codes.",
    )
    l10n_ru_kkm_problem = fields.Text(
        string="Fiscal receipt problem",
        compute="_compute_l10n_ru_kkm_problem",
        help="What went wrong with the invoice's fiscal receipt, and how to fix it.",
    )

    @api.depends_context("lang")
    @api.depends(
        "l10n_ru_kkm_failed", "l10n_ru_kkm_receipt_ids.problems", "l10n_ru_kkm_receipt_ids.vendor_message"
    )
    def _compute_l10n_ru_kkm_problem(self):
        for move in self:
            failing = move.l10n_ru_kkm_receipt_ids.filtered(lambda r: r._l10n_ru_kkm_is_failing())
            move.l10n_ru_kkm_problem = "\n".join(r._l10n_ru_kkm_problem_text() for r in failing) or False

    @api.depends("move_type", "invoice_line_ids.product_id")
    def _compute_l10n_ru_kkm_has_marked(self):
        for move in self:
            move.l10n_ru_kkm_has_marked = move.move_type in FISCAL_MOVE_TYPES and any(
                move.invoice_line_ids.mapped("l10n_ru_kkm_marked")
            )

    @api.depends(
        "state",
        "move_type",
        "company_id",
        "payment_state",
        "l10n_ru_kkm_receipt_ids.state",
        "l10n_ru_kkm_receipt_ids.needs_decision",
    )
    def _compute_l10n_ru_kkm_show_send(self):
        """Offered to create the missing receipts, or to send now a receipt that waits; never
        while a receipt is being registered (sent, outcome unknown, or its request in flight)."""
        receipts = self.env["l10n_ru_kkm.receipt"]
        for move in self:
            live = move.l10n_ru_kkm_receipt_ids.filtered(lambda r: r.state != "cancelled")
            being_registered = live.filtered(
                lambda r: (
                    r.state in ("sent", "unknown") or (r.state == "to_send" and r._l10n_ru_kkm_may_be_held())
                )
            )
            move.l10n_ru_kkm_show_send = (
                move.move_type in FISCAL_MOVE_TYPES
                and move.company_id.l10n_ru_kkm_enabled
                and not being_registered
                and not receipts._l10n_ru_kkm_refusal(move)
                and (not live or any(r.state == "to_send" and not r.needs_decision for r in live))
            )

    @api.depends(
        "l10n_ru_kkm_receipt_ids.state",
        "l10n_ru_kkm_receipt_ids.retries_exhausted",
        "l10n_ru_kkm_receipt_ids.needs_attention",
    )
    def _compute_l10n_ru_kkm_state(self):
        for move in self:
            receipts = move.l10n_ru_kkm_receipt_ids
            live = receipts.filtered(lambda r: r.state != "cancelled") or receipts
            move.l10n_ru_kkm_state = min(live.mapped("state"), key=STATE_URGENCY.index, default=False)
            move.l10n_ru_kkm_failed = any(r._l10n_ru_kkm_is_failing() for r in receipts)

    def _post(self, soft=True):
        posted = super()._post(soft=soft)
        posted._l10n_ru_kkm_fiscalize(trigger="post")
        return posted

    def _invoice_paid_hook(self):
        """Paid: the receipts that waited for it (the trigger "when paid", the payment of a sale on
        credit, the refund of an early-payment discount)."""
        result = super()._invoice_paid_hook()
        self._l10n_ru_kkm_fiscalize(trigger="paid")
        self.l10n_ru_kkm_receipt_ids._l10n_ru_kkm_register_credit_payment()
        self._l10n_ru_kkm_register_early_discount()
        return result

    def _l10n_ru_kkm_fiscalize(self, trigger):
        """Create and start the receipts of the moves whose company registers them at ``trigger``.

        The receipt model's gate decides; an invoice confirmed again after a reset, already paid,
        is registered at confirmation even when its company waits for payments (Odoo does not
        call the payment hook again).
        """
        moves = self.filtered(
            lambda m: (
                m.move_type in FISCAL_MOVE_TYPES
                and m.company_id.l10n_ru_kkm_enabled
                and (
                    m.company_id.l10n_ru_kkm_trigger == trigger
                    or (trigger == "post" and m.payment_state in PAID_STATES)
                )
            )
        )
        if moves:
            self.env["l10n_ru_kkm.receipt"]._l10n_ru_kkm_create_for_moves(moves)._l10n_ru_kkm_dispatch()

    @api.depends("l10n_ru_kkm_receipt_ids.state")
    def _compute_show_reset_to_draft_button(self):
        # A registered receipt cannot be taken back: a credit note or a resell is the way.
        result = super()._compute_show_reset_to_draft_button()
        for move in self:
            if move._l10n_ru_kkm_registered_receipts():
                move.show_reset_to_draft_button = False
        return result

    def _l10n_ru_kkm_customer_receipts(self):
        """The registered receipts the invoice's customer may see, in the order they were made
        (each part of a split invoice, refunds and re-issues included)."""
        self.ensure_one()
        return self.sudo().l10n_ru_kkm_receipt_ids.filtered(lambda r: r.state == "done").sorted("id")

    def _l10n_ru_kkm_registered_receipts(self):
        """Receipts the service holds or may hold (docs/architecture.rst, "Exactly once"): they block a reset."""
        return self.l10n_ru_kkm_receipt_ids.filtered(lambda r: not r._l10n_ru_kkm_never_reached())

    def button_draft(self):
        # Cancel (button_cancel) resets posted moves through here as well.
        self._l10n_ru_kkm_release_receipts()
        return super().button_draft()

    def _l10n_ru_kkm_release_receipts(self):
        """Refuse the reset while a receipt is or may be registered, or is being sent right now;
        otherwise cancel the receipts, so that confirming again builds a new request from the
        new data (docs/architecture.rst, "Exactly once")."""
        receipts = self.l10n_ru_kkm_receipt_ids.filtered(lambda r: r.state != "cancelled").sudo()
        if not receipts:
            return
        locked = receipts.try_lock_for_update(allow_referencing=True)
        for move in self:
            mine = receipts.filtered(lambda r, m=move: r.move_id == m)
            if mine - locked:
                raise UserError(
                    self.env._(
                        "A fiscal receipt of %(move)s is being sent to the service right now: try again in "
                        "a minute.",
                        move=move.display_name,
                    )
                )
            if move._l10n_ru_kkm_registered_receipts():
                raise UserError(
                    self.env._(
                        "Invoice %(move)s has a fiscal receipt registered (or possibly registered) with the "
                        "tax office: it cannot be reset to draft. Issue a credit note instead.",
                        move=move.display_name,
                    )
                )
        receipts._l10n_ru_kkm_cancel()

    def action_l10n_ru_kkm_send(self):
        """Create the missing receipts (e.g. before fiscalization was enabled) or send now."""
        self.ensure_one()
        receipts = self.env["l10n_ru_kkm.receipt"]
        receipts._l10n_ru_kkm_check_rights(USER)
        waiting = self.l10n_ru_kkm_receipt_ids.filtered(
            lambda r: r.state in ("to_send", "unknown") and not r.needs_decision
        )
        refusal = receipts._l10n_ru_kkm_refusal(self) if not waiting else ""
        if refusal or self.state != "posted":
            raise UserError(refusal or receipts._l10n_ru_kkm_refusal(self))
        created = self._l10n_ru_kkm_create_missing_receipts()
        created._l10n_ru_kkm_enqueue()
        if waiting:
            waiting.action_l10n_ru_kkm_send_now()
        failed = self.l10n_ru_kkm_receipt_ids.filtered(lambda r: r.state == "error")
        if failed and not (created | waiting):
            raise UserError("\n".join(failed.mapped("error_message")))
        return receipts._l10n_ru_kkm_notify(self.env._("The fiscal receipt is queued for sending."))

    def _l10n_ru_kkm_create_missing_receipts(self):
        return self.env["l10n_ru_kkm.receipt"]._l10n_ru_kkm_create_for_moves(self)

    def action_l10n_ru_kkm_check_status(self):
        self.env["l10n_ru_kkm.receipt"]._l10n_ru_kkm_check_rights(USER)
        pending = self.l10n_ru_kkm_receipt_ids.filtered(lambda r: r.state in ("sent", "unknown"))
        return pending.action_l10n_ru_kkm_check_status()

    def action_l10n_ru_kkm_resend(self):
        self.env["l10n_ru_kkm.receipt"]._l10n_ru_kkm_check_rights(USER)
        return self.l10n_ru_kkm_receipt_ids.filtered(lambda r: r.state == "error").action_l10n_ru_kkm_resend()

    # -- early-payment discounts ----------------------------------------------------

    def _l10n_ru_kkm_early_discount(self):
        """The early-payment discount the customer took when paying this invoice, or 0.

        Odoo books it on the payment, on the company's cash discount account; the invoice's
        payment term line says what was due with the discount.
        """
        self.ensure_one()
        account = self.company_id.account_journal_early_pay_discount_loss_account_id
        terms = self.line_ids.filtered(lambda line: line.display_type == "payment_term")
        if self.payment_state not in PAID_STATES or not account or not any(terms.mapped("discount_date")):
            return Decimal(0)
        taken = any(
            account in partial["aml"].move_id.line_ids.account_id
            for partial in self._get_all_reconciled_invoice_partials()
            if not partial.get("is_exchange")
        )
        if not taken:
            return Decimal(0)
        due = sum(abs(Decimal(str(amount))) for amount in terms.mapped("discount_amount_currency"))
        return max(Decimal(str(self.amount_total)) - due, Decimal(0)).quantize(Decimal("0.01"))

    def _l10n_ru_kkm_register_early_discount(self):
        """Refund the discount of invoices registered at confirmation, once paid with it."""
        receipts = self.env["l10n_ru_kkm.receipt"]
        values_list = []
        for move in self.filtered(
            lambda m: (
                m.move_type == "out_invoice"
                and m.payment_state in PAID_STATES
                and m.company_id.l10n_ru_kkm_trigger == "post"
            )
        ):
            existing = move.l10n_ru_kkm_receipt_ids.filtered(lambda r: r.state != "cancelled")
            sales = existing.filtered(lambda r: r.operation == "sell" and r.payment_stage == "full")
            if (
                not sales
                or any(r.state != "done" for r in sales)
                or existing.filtered(lambda r: r.payment_stage == "early_discount")
                or not move._l10n_ru_kkm_early_discount()
            ):
                continue
            values_list.append(
                receipts._l10n_ru_kkm_values(move, "sell_refund", payment_stage="early_discount")
            )
        created = receipts._l10n_ru_kkm_create_prepared(values_list)
        created._l10n_ru_kkm_dispatch()
        return created
