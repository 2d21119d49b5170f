from odoo import fields, models

from ..models.account_tax import VAT_CODE_SELECTION


class L10nRuKkmVatCodeWizardLine(models.TransientModel):
    """One sales tax, its code now and the code it gets."""

    _name = "l10n_ru_kkm.vat.code.wizard.line"
    _description = "Fiscal VAT code of a sales tax"

    wizard_id = fields.Many2one("l10n_ru_kkm.vat.code.wizard", required=True, ondelete="cascade")
    tax_id = fields.Many2one("account.tax", required=True, readonly=True)
    amount = fields.Float(related="tax_id.amount", string="Rate")
    price_include = fields.Boolean(related="tax_id.price_include", string="Included in price")
    current_vat_code = fields.Selection(related="tax_id.l10n_ru_kkm_vat_code", string="Code now")
    vat_code = fields.Selection(
        selection=VAT_CODE_SELECTION,
        string="Fiscal VAT code",
        help="Proposed from the tax's rate and whether it is included in the price: check it.",
    )
