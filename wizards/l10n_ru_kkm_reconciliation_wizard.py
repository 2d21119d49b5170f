from odoo import fields, models


class L10nRuKkmReconciliationWizard(models.TransientModel):
    _name = "l10n_ru_kkm.reconciliation.wizard"
    _description = "Reconcile the fiscal receipts of a period"

    company_id = fields.Many2one("res.company", required=True, default=lambda self: self.env.company)
    date_from = fields.Date(
        string="From", required=True, default=lambda self: fields.Date.context_today(self).replace(day=1)
    )
    date_to = fields.Date(string="To", required=True, default=fields.Date.context_today)
    late_hours = fields.Integer(
        string="Late after (hours)", default=24, help="A receipt not registered after this long is late."
    )

    def action_reconcile(self):
        self.ensure_one()
        self.env["l10n_ru_kkm.receipt"]._l10n_ru_kkm_check_rights("l10n_ru_kkm.group_kkm_user")
        discrepancies = self.env["l10n_ru_kkm.discrepancy"]
        found = discrepancies._l10n_ru_kkm_reconcile(
            self.company_id, self.date_from, self.date_to, self.late_hours
        )
        action = self.env["ir.actions.act_window"]._for_xml_id("l10n_ru_kkm.l10n_ru_kkm_discrepancy_action")
        action["domain"] = [("id", "in", found.ids)]
        action["context"] = {"search_default_open": 1}
        return action
