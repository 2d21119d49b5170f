import re

from odoo import fields, models

from ..vendors.receipt import GROUP_SEPARATOR

# Scanners that cannot type the GS1 separator (FNC1) often print it as "<GS>" or "\x1d".
_SEPARATOR_SPELLINGS = re.compile(r"<GS>|\\x1d|\\u001d", re.IGNORECASE)


class AccountMoveLine(models.Model):
    _inherit = "account.move.line"

    l10n_ru_kkm_marked = fields.Boolean(related="product_id.product_tmpl_id.l10n_ru_kkm_marked")
    l10n_ru_kkm_mark_codes = fields.Text(
        string="Marking codes",
        copy=False,
        help="Marked goods (Chestny ZNAK): the code of each unit sold, one per line, as scanned; "
        'the separator may be typed as "<GS>". As many codes as the quantity.',
    )

    def _l10n_ru_kkm_mark_code_list(self):
        """The line's marking codes, one per unit, with their separators restored."""
        self.ensure_one()
        codes = (self.l10n_ru_kkm_mark_codes or "").splitlines()
        return tuple(
            _SEPARATOR_SPELLINGS.sub(GROUP_SEPARATOR, code.strip()) for code in codes if code.strip()
        )
