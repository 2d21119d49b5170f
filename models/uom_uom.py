from odoo import api, fields, models, tools

# FFD 1.2 measure codes (tag 2108), ATOL v5 "measure".
MEASURES = [
    ("0", "Pieces or units"),
    ("10", "Gram"),
    ("11", "Kilogram"),
    ("12", "Tonne"),
    ("20", "Centimetre"),
    ("21", "Decimetre"),
    ("22", "Metre"),
    ("30", "Square centimetre"),
    ("31", "Square decimetre"),
    ("32", "Square metre"),
    ("40", "Millilitre"),
    ("41", "Litre"),
    ("42", "Cubic metre"),
    ("50", "Kilowatt-hour"),
    ("51", "Gigacalorie"),
    ("70", "Day"),
    ("71", "Hour"),
    ("72", "Minute"),
    ("73", "Second"),
    ("80", "Kilobyte"),
    ("81", "Megabyte"),
    ("82", "Gigabyte"),
    ("83", "Terabyte"),
    ("255", "Other unit"),
]
OTHER_UNIT = 255
STANDARD_MEASURES = {
    "uom.product_uom_unit": "0",
    "uom.product_uom_hour": "71",
    "uom.product_uom_day": "70",
    "uom.product_uom_minute": "72",
    "uom.product_uom_cm": "20",
    "uom.product_uom_meter": "22",
    "uom.product_uom_square_meter": "32",
    "uom.product_uom_milliliter": "40",
    "uom.product_uom_litre": "41",
    "uom.product_uom_cubic_meter": "42",
    "uom.product_uom_gram": "10",
    "uom.product_uom_kgm": "11",
    "uom.product_uom_ton": "12",
    "uom.product_uom_kwh": "50",
}


class UomUom(models.Model):
    _inherit = "uom.uom"

    l10n_ru_kkm_measure = fields.Selection(
        selection=MEASURES,
        string="Fiscal measure",
        help="Unit of measure code printed on FFD 1.2 receipts (tag 2108). "
        'Units without a code are sent as "other unit".',
    )

    @api.model
    def _l10n_ru_kkm_set_standard_measures(self):
        for xmlid, code in STANDARD_MEASURES.items():
            uom = self.env.ref(xmlid, raise_if_not_found=False)
            if uom and not uom.l10n_ru_kkm_measure:
                uom.l10n_ru_kkm_measure = code

    @api.model
    @tools.ormcache("uom_id", "self.env.lang")
    def _l10n_ru_kkm_unit_of(self, uom_id):
        """(FFD 1.2 measure code, FFD 1.05 unit name) of a unit, cached: every receipt reads them."""
        uom = self.browse(uom_id).sudo()
        return uom._l10n_ru_kkm_measure_code(), (uom.name or "")[:16]

    def write(self, vals):
        if {"name", "l10n_ru_kkm_measure"} & set(vals):
            self.env.registry.clear_cache()
        return super().write(vals)

    def _l10n_ru_kkm_measure_code(self):
        self.ensure_one()
        return int(self.l10n_ru_kkm_measure) if self.l10n_ru_kkm_measure else OTHER_UNIT
