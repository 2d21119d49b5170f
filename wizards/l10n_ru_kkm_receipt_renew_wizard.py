from odoo import api, fields, models
from odoo.exceptions import UserError


class L10nRuKkmRenewWizard(models.TransientModel):
    """A fiscal administrator's decision on a receipt the service may have registered: send it
    again under a new ID, once they checked that nothing is registered under the old one."""

    _name = "l10n_ru_kkm.receipt.renew.wizard"
    _description = "Send a fiscal receipt under a new ID"

    receipt_id = fields.Many2one("l10n_ru_kkm.receipt", required=True, readonly=True)
    external_id = fields.Char(related="receipt_id.external_id", string="Current ID")
    problem_text = fields.Text(related="receipt_id.problem_text", string="What the service said")
    confirmed = fields.Boolean(
        string="I checked: nothing is registered under the current ID",
        help="Checked in the cash register service's account or at the OFD.",
    )

    @api.model
    def default_get(self, fields_list):
        values = super().default_get(fields_list)
        if self.env.context.get("active_model") == "l10n_ru_kkm.receipt":
            values["receipt_id"] = self.env.context.get("active_id")
        return values

    def action_send_under_new_id(self):
        self.ensure_one()
        if not self.confirmed:
            raise UserError(
                self.env._(
                    "Confirm that you checked the service's account: sending under a new ID registers the sale "
                    "twice if the service did register it."
                )
            )
        receipts = self.receipt_id._l10n_ru_kkm_send_under_new_id()
        return receipts._l10n_ru_kkm_notify(
            self.env._("%(count)s receipt(s) queued for sending.", count=len(receipts))
        )
