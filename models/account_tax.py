from odoo import api, fields, models, tools

from ..vendors.receipt import VAT_CODES

VAT_CODE_LABELS = {
    "none": "No VAT",
    "vat0": "VAT 0%",
    "vat5": "VAT 5%",
    "vat7": "VAT 7%",
    "vat10": "VAT 10%",
    "vat20": "VAT 20%",
    "vat22": "VAT 22%",
    "vat105": "VAT 5/105",
    "vat107": "VAT 7/107",
    "vat110": "VAT 10/110",
    "vat120": "VAT 20/120",
    "vat122": "VAT 22/122",
}


class AccountTax(models.Model):
    _inherit = "account.tax"

    l10n_ru_kkm_vat_code = fields.Selection(
        selection=[(code, VAT_CODE_LABELS[code]) for code in VAT_CODES],
        string="Fiscal VAT code",
        help="The VAT rate printed on fiscal receipts (tag 1199) for lines with this tax.",
    )

    @api.model
    @tools.ormcache("tax_id")
    def _l10n_ru_kkm_vat_code_of(self, tax_id):
        """The fiscal VAT code of a tax, cached: every posted invoice reads it."""
        return self.browse(tax_id).sudo().l10n_ru_kkm_vat_code or False

    def write(self, vals):
        if "l10n_ru_kkm_vat_code" in vals:
            self.env.registry.clear_cache()
        return super().write(vals)
