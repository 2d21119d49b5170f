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

    @api.depends("l10n_ru_kkm_receipt_ids.state")
    def _compute_l10n_ru_kkm_state(self):
        for move in self:
            latest = move.l10n_ru_kkm_receipt_ids.sorted("id")[-1:]
            move.l10n_ru_kkm_state = latest.state or False

    def _post(self, soft=True):
        posted = super()._post(soft=soft)
        fiscal = posted.filtered(
            lambda m: m.move_type in FISCAL_MOVE_TYPES and m.company_id.l10n_ru_kkm_enabled
        )
        if fiscal:
            receipts = self.env["l10n_ru_kkm.receipt"]._l10n_ru_kkm_create_for_moves(fiscal)
            receipts._l10n_ru_kkm_send_after_commit()
        return posted
