from odoo import api, fields, models

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
