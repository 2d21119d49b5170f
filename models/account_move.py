from odoo import api, fields, models
from odoo.exceptions import UserError

from .kkm_receipt import STATES

FISCAL_MOVE_TYPES = ("out_invoice", "out_refund")


class AccountMove(models.Model):
    _inherit = "account.move"

    l10n_ru_kkm_receipt_ids = fields.One2many(
        "l10n_ru_kkm.receipt", "move_id", string="Fiscal receipts", readonly=True
    )
    l10n_ru_kkm_state = fields.Selection(
        selection=STATES,
        string="Fiscal receipt",
        compute="_compute_l10n_ru_kkm_state",
        store=True,
        help="State of the invoice's latest fiscal receipt.",
    )
    l10n_ru_kkm_failed = fields.Boolean(
        string="Fiscal receipt failed",
        compute="_compute_l10n_ru_kkm_state",
        store=True,
        help="A receipt of this invoice was refused, could not be sent after all attempts, "
        "or has no result after the maximum status requests.",
    )

    l10n_ru_kkm_show_send = fields.Boolean(compute="_compute_l10n_ru_kkm_show_send")
    l10n_ru_kkm_problem = fields.Text(
        string="Fiscal receipt problem",
        compute="_compute_l10n_ru_kkm_problem",
        help="What went wrong with the invoice's fiscal receipt, and how to fix it.",
    )

    @api.depends("l10n_ru_kkm_failed", "l10n_ru_kkm_receipt_ids.error_message")
    def _compute_l10n_ru_kkm_problem(self):
        for move in self:
            failing = move.l10n_ru_kkm_receipt_ids.filtered(
                lambda r: (
                    r.state == "error" or (r.state != "done" and (r.retries_exhausted or r.needs_attention))
                )
            )
            move.l10n_ru_kkm_problem = "\n".join(r._l10n_ru_kkm_problem_text() for r in failing) or False

    @api.depends("state", "move_type", "company_id", "l10n_ru_kkm_receipt_ids.state")
    def _compute_l10n_ru_kkm_show_send(self):
        for move in self:
            receipts = move.l10n_ru_kkm_receipt_ids
            move.l10n_ru_kkm_show_send = (
                move.state == "posted"
                and move.move_type in FISCAL_MOVE_TYPES
                and move.company_id.l10n_ru_kkm_enabled
                and (not receipts or any(r.state in ("to_send", "unknown") for r in receipts))
            )

    @api.depends(
        "l10n_ru_kkm_receipt_ids.state",
        "l10n_ru_kkm_receipt_ids.retries_exhausted",
        "l10n_ru_kkm_receipt_ids.needs_attention",
    )
    def _compute_l10n_ru_kkm_state(self):
        for move in self:
            receipts = move.l10n_ru_kkm_receipt_ids
            move.l10n_ru_kkm_state = receipts.sorted("id")[-1:].state or False
            move.l10n_ru_kkm_failed = any(
                r.state == "error" or (r.state != "done" and (r.retries_exhausted or r.needs_attention))
                for r in receipts
            )

    def _post(self, soft=True):
        posted = super()._post(soft=soft)
        posted._l10n_ru_kkm_fiscalize(trigger="post")
        return posted

    def _invoice_paid_hook(self):
        result = super()._invoice_paid_hook()
        self._l10n_ru_kkm_fiscalize(trigger="paid")
        return result

    def _l10n_ru_kkm_fiscalize(self, trigger):
        """Create and start the receipts of the moves whose company registers them at ``trigger``."""
        moves = self.filtered(
            lambda m: (
                m.state == "posted"
                and m.move_type in FISCAL_MOVE_TYPES
                and m.company_id.l10n_ru_kkm_enabled
                and m.company_id.l10n_ru_kkm_trigger == trigger
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

    def _l10n_ru_kkm_registered_receipts(self):
        return self.l10n_ru_kkm_receipt_ids.filtered(lambda r: r.state in ("sent", "unknown", "done"))

    def button_draft(self):
        for move in self:
            if move._l10n_ru_kkm_registered_receipts():
                raise UserError(
                    self.env._(
                        "Invoice %(move)s has a fiscal receipt registered with the tax office: it cannot "
                        "be reset to draft. Issue a credit note instead.",
                        move=move.display_name,
                    )
                )
        return super().button_draft()

    def action_l10n_ru_kkm_send(self):
        """Create the missing receipts (e.g. before fiscalization was enabled) or send now."""
        self.ensure_one()
        if not self.company_id.l10n_ru_kkm_enabled:
            raise UserError(
                self.env._("Fiscal receipts are not enabled for %(company)s.", company=self.company_id.name)
            )
        receipts = self._l10n_ru_kkm_create_missing_receipts()
        receipts._l10n_ru_kkm_enqueue()
        waiting = (
            self.l10n_ru_kkm_receipt_ids.filtered(lambda r: r.state in ("to_send", "unknown")) - receipts
        )
        if waiting:
            waiting.action_l10n_ru_kkm_send_now()
        failed = self.l10n_ru_kkm_receipt_ids.filtered(lambda r: r.state == "error")
        if failed and not (receipts | waiting):
            raise UserError("\n".join(failed.mapped("error_message")))
        return self.env["l10n_ru_kkm.receipt"]._l10n_ru_kkm_notify(
            self.env._("The fiscal receipt is queued for sending.")
        )

    def _l10n_ru_kkm_create_missing_receipts(self):
        return self.env["l10n_ru_kkm.receipt"]._l10n_ru_kkm_create_for_moves(self)

    def action_l10n_ru_kkm_check_status(self):
        pending = self.l10n_ru_kkm_receipt_ids.filtered(lambda r: r.state in ("sent", "unknown"))
        return pending.action_l10n_ru_kkm_check_status()

    def action_l10n_ru_kkm_resend(self):
        return self.l10n_ru_kkm_receipt_ids.filtered(lambda r: r.state == "error").action_l10n_ru_kkm_resend()
