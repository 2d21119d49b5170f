from markupsafe import Markup

from odoo import api, models


class AccountMoveSend(models.AbstractModel):
    _inherit = "account.move.send"

    @api.model
    def _get_default_mail_body(self, move, mail_template, mail_lang):
        """The invoice e-mail carries the QR code and the links of its registered receipts
        (docs/architecture.rst, "The customer's receipt")."""
        body = super()._get_default_mail_body(move, mail_template, mail_lang)
        receipts = (
            move._l10n_ru_kkm_customer_receipts() if move.move_type in ("out_invoice", "out_refund") else None
        )
        if not receipts:
            return body
        block = (
            self.env["ir.qweb"]
            .with_context(lang=mail_lang)
            ._render("l10n_ru_kkm.mail_fiscal_receipts", {"receipts": receipts.with_context(lang=mail_lang)})
        )
        return Markup(body or "") + Markup(block)
