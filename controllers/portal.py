from werkzeug.exceptions import NotFound

from odoo import http
from odoo.exceptions import AccessError, MissingError

from odoo.addons.portal.controllers.portal import CustomerPortal

REPORTS = {
    "a4": "l10n_ru_kkm.report_receipt_copy",
    "roll": "l10n_ru_kkm.report_receipt_copy_roll",
}


class L10nRuKkmPortal(CustomerPortal):
    """The copy of an invoice's registered receipt, for whoever may open the invoice: its
    customer signed in, or anyone holding the invoice's access token (docs/architecture.rst,
    "The customer's receipt")."""

    @http.route(
        "/my/invoices/<int:invoice_id>/fiscal-receipt/<int:receipt_id>",
        type="http",
        auth="public",
        website=True,
    )
    def l10n_ru_kkm_receipt_copy(
        self, invoice_id, receipt_id, access_token=None, report_type="html", layout="a4", download=False, **kw
    ):
        try:
            invoice_sudo = self._document_check_access("account.move", invoice_id, access_token)
        except (AccessError, MissingError):
            # Never say whether the invoice exists.
            raise NotFound() from None
        receipt = invoice_sudo._l10n_ru_kkm_customer_receipts().filtered(lambda r: r.id == receipt_id)
        if not receipt:
            raise NotFound()
        return self._show_report(
            model=receipt,
            report_type="pdf" if report_type == "pdf" else "html",
            report_ref=REPORTS.get(layout, REPORTS["a4"]),
            download=download,
        )
