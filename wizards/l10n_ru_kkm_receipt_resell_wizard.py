from odoo import api, fields, models


class L10nRuKkmResellWizard(models.TransientModel):
    """Re-issue registered sales: a refund mirroring each, then a new sale from the invoice."""

    _name = "l10n_ru_kkm.receipt.resell.wizard"
    _description = "Re-issue fiscal receipts"

    receipt_ids = fields.Many2many("l10n_ru_kkm.receipt", string="Sale receipts", readonly=True)

    @api.model
    def default_get(self, fields_list):
        values = super().default_get(fields_list)
        context = self.env.context
        if context.get("active_model") == "l10n_ru_kkm.receipt":
            receipts = self.env["l10n_ru_kkm.receipt"].browse(context.get("active_ids", []))
        elif context.get("active_model") == "account.move":
            moves = self.env["account.move"].browse(context.get("active_ids", []))
            receipts = moves.l10n_ru_kkm_receipt_ids.filtered(
                lambda r: r.operation == "sell" and r.state == "done"
            )
            receipts = receipts.filtered(
                lambda r: not r.refund_receipt_ids.filtered(lambda x: x.state not in ("error", "cancelled"))
            )
        else:
            receipts = self.env["l10n_ru_kkm.receipt"]
        values["receipt_ids"] = [fields.Command.set(receipts.ids)]
        return values

    def action_resell(self):
        self.ensure_one()
        self.env["l10n_ru_kkm.receipt"]._l10n_ru_kkm_check_rights("l10n_ru_kkm.group_kkm_manager")
        refunds = self.receipt_ids._l10n_ru_kkm_resell()
        return refunds._l10n_ru_kkm_notify(
            self.env._(
                "%(count)s refund receipt(s) queued; the new sale receipts follow once they are registered.",
                count=len(refunds),
            )
        )
