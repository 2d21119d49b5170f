from werkzeug.exceptions import NotFound

from odoo import http
from odoo.http import request
from odoo.tools import consteq


class L10nRuKkmCallbackController(http.Controller):
    """ATOL posts a document's result here (protocol §6.3).

    Callbacks are not signed by ATOL: the URL carries the receipt's external id (known before
    the row exists, so the request is frozen in its INSERT) and an HMAC token of it, and the
    body is never trusted. A valid call only queues a status request, so that it answers fast
    and repeated calls change nothing.
    """

    @http.route(
        "/l10n_ru_kkm/callback/<string:external_id>/<string:token>",
        type="http",
        methods=["POST"],
        auth="public",
        csrf=False,
        save_session=False,
    )
    def l10n_ru_kkm_callback(self, external_id, token, **kwargs):
        receipts = request.env["l10n_ru_kkm.receipt"].sudo()
        receipt = receipts.search([("external_id", "=", external_id)], limit=1)
        if not receipt or not consteq(receipt._l10n_ru_kkm_callback_token(), token):
            raise NotFound()
        receipt._l10n_ru_kkm_on_callback(request.httprequest.get_data(as_text=True)[:2000])
        return request.make_json_response({"result": "ok"})
