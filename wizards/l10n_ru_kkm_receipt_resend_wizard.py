from odoo import api, fields, models


class L10nRuKkmResendWizard(models.TransientModel):
    """Resend failed receipts: shows each one's state and last error, refuses the others."""

    _name = "l10n_ru_kkm.receipt.resend.wizard"
    _description = "Resend fiscal receipts"

    receipt_ids = fields.Many2many("l10n_ru_kkm.receipt", string="Receipts", readonly=True)
    resendable_ids = fields.Many2many(
        "l10n_ru_kkm.receipt", string="Will be resent", compute="_compute_split", readonly=True
    )
    refused_ids = fields.Many2many(
        "l10n_ru_kkm.receipt", string="Will not be resent", compute="_compute_split", readonly=True
    )

    @api.model
    def default_get(self, fields_list):
        values = super().default_get(fields_list)
        if self.env.context.get("active_model") == "l10n_ru_kkm.receipt":
            values["receipt_ids"] = [fields.Command.set(self.env.context.get("active_ids", []))]
        return values

    @api.depends("receipt_ids")
    def _compute_split(self):
        for wizard in self:
            wizard.resendable_ids = wizard.receipt_ids.filtered(lambda r: r.state == "error")
            wizard.refused_ids = wizard.receipt_ids - wizard.resendable_ids

    def action_resend(self):
        self.ensure_one()
        return self.resendable_ids.action_l10n_ru_kkm_resend()
