import re

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
VAT_CODE_SELECTION = [(code, VAT_CODE_LABELS[code]) for code in VAT_CODES]

# The rates of the fiscal codes (tag 1199), and their calculated rates: N/(100+N) of the gross
# amount, which a tax takes out of a price that includes it (division taxes, advances).
VAT_RATES = {0: "vat0", 5: "vat5", 7: "vat7", 10: "vat10", 20: "vat20", 22: "vat22"}
CALCULATED_RATES = {5: "vat105", 7: "vat107", 10: "vat110", 20: "vat120", 22: "vat122"}
# A 0 % tax is "No VAT" when its name or group says so (not subject to VAT), else "VAT 0%".
NO_VAT = re.compile(r"без\s+ндс|не\s+облага|no\s+vat|without\s+vat|exempt|not\s+subject", re.IGNORECASE)


class AccountTax(models.Model):
    _inherit = "account.tax"

    l10n_ru_kkm_vat_code = fields.Selection(
        selection=VAT_CODE_SELECTION,
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

    def _l10n_ru_kkm_proposed_vat_code(self):
        """The fiscal VAT code this sales tax most likely prints, from its rate and whether it is
        included in the price (a percentage of the gross amount is a calculated rate), or False."""
        self.ensure_one()
        if self.amount_type not in ("percent", "division"):
            return False
        rate = round(self.amount, 2)
        if rate == 0:
            names = f"{self.name} {self.tax_group_id.name or ''}"
            return "none" if NO_VAT.search(names) else "vat0"
        if self.amount_type == "percent" and rate in VAT_RATES:
            return VAT_RATES[rate]
        if self.amount_type == "division" or self.price_include:
            for base, code in CALCULATED_RATES.items():
                if round(100 * base / (100 + base), 2) == rate:
                    return code
        return False
