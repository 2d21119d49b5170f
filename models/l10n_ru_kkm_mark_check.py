"""The check of one marking code of an invoice line (the permissive mode, vendors/marking): what
the marking system said, and the requisite the receipt carried for it (tag 1260). Every check is
kept, the newest first; the ATOL report's result (tag 2106) is added to the newest check of each
code when the receipt is registered."""

import base64
import logging

from odoo import api, fields, models

from ..vendors import marking, safe
from ..vendors.receipt import GROUP_SEPARATOR
from . import problems as pb

_logger = logging.getLogger(__name__)

# Tag 2106 as ATOL reports it (protocol v5, marks_result.result).
RECEIPT_RESULTS = [
    ("0", "Not checked"),
    ("1", "Code key wrong, status not checked"),
    ("3", "Code key right, status not checked"),
    ("16", "Not checked (offline register)"),
    ("17", "Code key wrong (offline register)"),
    ("19", "Code key right (offline register)"),
    ("5", "Code key wrong, status wrong"),
    ("7", "Code key right, status wrong"),
    ("15", "Code key right, status right"),
]


class L10nRuKkmMarkCheck(models.Model):
    _name = "l10n_ru_kkm.mark.check"
    _description = "Marking code check"
    _order = "id desc"
    _check_company_auto = True

    company_id = fields.Many2one("res.company", required=True, readonly=True, index=True)
    move_id = fields.Many2one(
        "account.move", string="Invoice", required=True, readonly=True, index=True, ondelete="cascade"
    )
    move_line_id = fields.Many2one(
        "account.move.line", string="Invoice line", required=True, readonly=True, ondelete="cascade"
    )
    sequence = fields.Integer(readonly=True)
    code = fields.Char(string="Full code", required=True, readonly=True)
    code_label = fields.Char(string="Marking code", compute="_compute_code_label")
    verdict = fields.Selection(
        selection=[
            ("allowed", "May be sold"),
            ("refused", "Refused"),
            ("emergency", "Sold without a check (emergency mode)"),
        ],
        required=True,
        readonly=True,
    )
    route = fields.Selection(
        selection=[
            (marking.ONLINE, "GIS MT (online)"),
            (marking.OFFLINE, "Local module (offline)"),
            (marking.EMERGENCY, "No check"),
        ],
        string="Checked by",
        required=True,
        readonly=True,
    )
    reasons = fields.Char(readonly=True, help="Why the sale was refused (codes).")
    reason_text = fields.Char(string="Why refused", compute="_compute_reason_text")
    req_id = fields.Char(string="Check ID (reqId)", readonly=True)
    req_timestamp = fields.Char(string="Check time (reqTimestamp)", readonly=True)
    inst = fields.Char(string="Local module instance", readonly=True)
    version = fields.Char(string="Local module base version", readonly=True)
    requisite = fields.Char(
        string="Requisite (tag 1265)", readonly=True, help="The value the receipt carries for this code."
    )
    checked_at = fields.Datetime(string="Checked at", readonly=True)
    answer = fields.Json(readonly=True, help="What the marking system said of the code.")
    receipt_result = fields.Selection(
        selection=RECEIPT_RESULTS,
        string="Result on the receipt (tag 2106)",
        readonly=True,
        help="What the cash register reported of the code when it registered the receipt (ATOL v5).",
    )

    @api.depends("code")
    def _compute_code_label(self):
        for check in self:
            # GTIN and serial, as printed under the barcode; the crypto tail stays in "Full code".
            check.code_label = (check.code or "").split(GROUP_SEPARATOR)[0]

    @api.depends("reasons")
    @api.depends_context("lang")
    def _compute_reason_text(self):
        for check in self:
            check.reason_text = pb.term(self.env._, "reason", check.reasons) if check.reasons else False

    # -- the check --------------------------------------------------------------------------

    @api.model
    def _l10n_ru_kkm_check(self, company, lines):
        """Check the codes of ``lines`` (account.move.line) with ``company``'s settings; store and
        return one ``marking.Verdict`` per (line, code), in order.

        Raises what ``MarkingClient.check`` raises: ``MarkingUnavailable`` (the company waits),
        ``MarkingAccessDenied``.
        """
        pairs = [(line, code) for line in lines for code in line._l10n_ru_kkm_mark_code_list()]
        client = marking.MarkingClient(company._l10n_ru_kkm_marking_config(), on_exchange=_log_exchange)
        verdicts = client.check([code for _line, code in pairs])
        now = fields.Datetime.now()
        # Kept, never replaced: an unlink here would drop the posting's pending computations.
        self.sudo().create(
            [
                {
                    "company_id": company.id,
                    "move_id": line.move_id.id,
                    "move_line_id": line.id,
                    "sequence": sequence,
                    "code": code,
                    "verdict": _verdict(verdict),
                    "route": verdict.route,
                    "reasons": ",".join(verdict.reasons) or False,
                    "req_id": verdict.req_id or False,
                    "req_timestamp": verdict.req_timestamp or False,
                    "inst": verdict.inst or False,
                    "version": verdict.version or False,
                    "requisite": verdict.requisite.value if verdict.requisite else False,
                    "checked_at": now,
                    "answer": safe.storable(verdict.answer) if verdict.answer else False,
                }
                for sequence, ((line, code), verdict) in enumerate(zip(pairs, verdicts, strict=True))
            ]
        )
        return [(line, verdict) for (line, _code), verdict in zip(pairs, verdicts, strict=True)]

    @api.model
    def _l10n_ru_kkm_check_connection(self, company):
        """Ask the parts of the check the company's settings use: (notification type, message)."""
        config = company._l10n_ru_kkm_marking_config()
        if config.missing():
            return "danger", pb.render(
                self.env, [pb.problem("mark_check_settings", company=company.name).as_json()]
            )
        lines = []
        parts = marking.MarkingClient(config, on_exchange=_log_exchange).check_connection()
        for part, ok, detail in parts:
            if part == "online" and ok:
                lines.append(
                    self.env._(
                        "GIS MT answers: %(count)s check host(s), the fastest %(host)s.",
                        count=len(detail),
                        host=detail[0],
                    )
                )
            elif part == "online":
                lines.append(self.env._("GIS MT cannot be asked: %(error)s", error=detail))
            elif ok:
                lines.append(self.env._("The local module answers: %(status)s.", status=detail))
            else:
                lines.append(self.env._("The local module cannot be asked: %(error)s", error=detail))
        return ("success" if all(ok for _part, ok, _detail in parts) else "danger"), "\n".join(lines)

    @api.model
    def _l10n_ru_kkm_store_receipt_results(self, move, payload):
        """Keep what ATOL's report says of each code (``payload.marks_result``, tag 2106)."""
        results = (payload or {}).get("marks_result") if isinstance(payload, dict) else None
        if not isinstance(results, list):
            return
        checks = self.sudo().search([("move_id", "=", move.id)])  # the newest first
        known = {value for value, _label in RECEIPT_RESULTS}
        for entry in results:
            if not isinstance(entry, dict) or str(entry.get("result")) not in known:
                continue
            code = _decoded(entry.get("mark_code"))
            newest = checks.filtered(lambda c, code=code: c.code == code)[:1]
            newest.write({"receipt_result": str(entry["result"])})


def _verdict(verdict):
    if verdict.route == marking.EMERGENCY:
        return "emergency"
    return "allowed" if verdict.allowed else "refused"


def _decoded(value):
    """A mark code as ATOL's report gives it (base64 of the code sent), or the text itself."""
    if not isinstance(value, str):
        return ""
    try:
        return base64.b64decode(value, validate=True).decode()
    except ValueError:
        return value


def _log_exchange(exchange):
    # The check's exchanges go to the server log (no receipt exists yet when codes are checked).
    _logger.info(
        "Marking check %s %s: HTTP %s, %s ms %s",
        exchange.action,
        exchange.url,
        exchange.http_status,
        exchange.duration_ms,
        exchange.message or "",
    )
