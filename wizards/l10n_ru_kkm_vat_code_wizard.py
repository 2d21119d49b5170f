from odoo import api, fields, models


class L10nRuKkmVatCodeWizard(models.TransientModel):
    """Every sales tax of a company with the fiscal VAT code proposed for it, to confirm."""

    _name = "l10n_ru_kkm.vat.code.wizard"
    _description = "Set fiscal VAT codes"

    company_id = fields.Many2one("res.company", required=True, readonly=True)
    line_ids = fields.One2many("l10n_ru_kkm.vat.code.wizard.line", "wizard_id", string="Sales taxes")

    @api.model
    def _l10n_ru_kkm_open(self, company):
        taxes = self.env["account.tax"].search(
            [("company_id", "=", company.id), ("type_tax_use", "=", "sale")], order="sequence, id"
        )
        wizard = self.create(
            {
                "company_id": company.id,
                "line_ids": [
                    fields.Command.create(
                        {
                            "tax_id": tax.id,
                            "vat_code": tax._l10n_ru_kkm_proposed_vat_code() or tax.l10n_ru_kkm_vat_code,
                        }
                    )
                    for tax in taxes
                ],
            }
        )
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Set fiscal VAT codes"),
            "res_model": self._name,
            "res_id": wizard.id,
            "view_mode": "form",
            "target": "new",
        }

    def action_apply(self):
        """Write the confirmed codes on the taxes whose code changes."""
        self.ensure_one()
        for line in self.line_ids.filtered(lambda line: line.vat_code != line.current_vat_code):
            line.tax_id.l10n_ru_kkm_vat_code = line.vat_code
        return {"type": "ir.actions.act_window_close"}
