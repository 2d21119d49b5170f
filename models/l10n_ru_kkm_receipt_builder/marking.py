"""Marked goods under the permissive mode (Decree 1944): which lines it concerns, what the
service must be able to carry, and the check of their codes before the receipt is built
(vendors/marking). A refused code stops the receipt, naming the line, the code and the reason; a
check that cannot be made follows the company's policy, never a silent sale."""

from dataclasses import replace

from markupsafe import Markup

from odoo import api, models

from ...vendors import marking, safe
from ..problems import ReceiptMustWait, ReceiptProblems, problem

# The receipts that hand goods over, whose codes are checked: a sale, or its transfer on credit.
# (The payment of credit, refunds, advances and corrections sell no goods.)
CHECKED_STAGES = {("sell", "full"), ("sell", "credit")}


class L10nRuKkmReceiptBuilder(models.AbstractModel):
    _inherit = "l10n_ru_kkm.receipt.builder"

    @api.model
    def _permissive_lines(self, receipt, lines):
        """The lines of ``receipt`` whose codes the permissive mode checks."""
        company = receipt.company_id
        if (
            not company.l10n_ru_kkm_permissive
            or receipt.correction_type
            or (receipt.operation, receipt.payment_stage) not in CHECKED_STAGES
        ):
            return lines.browse()
        return lines.filtered(
            lambda line: company._l10n_ru_kkm_permissive_product(line.product_id.product_tmpl_id)
        )

    @api.model
    def _permissive_problems(self, receipt, line, client, where):
        if not self._permissive_lines(receipt, line):
            return []
        if not client.industry_props:
            return [problem("mark_permissive_unsupported", service=client.label, **where)]
        if not line._l10n_ru_kkm_mark_code_list():
            return [problem("mark_codes_missing", **where)]
        return []

    @api.model
    def _checked_codes(self, receipt, lines):
        """{code: the item's industry requisites} of the codes the permissive mode checks, checked
        now. Raises ``ReceiptProblems`` (a refused code, a credential or setting to fix) or
        ``ReceiptMustWait`` (no check could be made, and the company waits for one)."""
        lines = self._permissive_lines(receipt, lines)
        if not lines:
            return {}
        company, move = receipt.company_id, receipt.move_id
        if company._l10n_ru_kkm_marking_config().missing():
            raise ReceiptProblems(self.env, [problem("mark_check_settings", company=company.name)])
        try:
            checked = self.env["l10n_ru_kkm.mark.check"]._l10n_ru_kkm_check(company, lines)
        except marking.MarkingUnavailable as error:
            found = problem("mark_check_waiting", move=move.display_name, error=safe.text(error, 300))
            raise ReceiptMustWait(self.env, [found]) from error
        except marking.MarkingAccessDenied as error:
            raise ReceiptProblems(self.env, [problem("mark_check_denied", error=str(error))]) from error
        refused = [
            problem(
                "mark_code_refused",
                **self._where(line),
                code=verdict.code.split("\x1d")[0],
                reason=",".join(verdict.reasons),
                check=verdict.req_id or "-",
            )
            for line, verdict in checked
            if not verdict.allowed
        ]
        if refused:
            raise ReceiptProblems(self.env, refused)
        unchecked = [verdict for _line, verdict in checked if verdict.route == marking.EMERGENCY]
        if unchecked:
            move.sudo()._message_log(
                body=Markup("<p>%s</p>")
                % self.env._(
                    "%(count)s marking code(s) of %(move)s are sold without a check, in the emergency "
                    "mode: the receipt carries no check for them (tag 1260).",
                    count=len(unchecked),
                    move=move.display_name,
                )
            )
        return {verdict.code: (verdict.requisite,) if verdict.requisite else () for _line, verdict in checked}

    @api.model
    def _with_checks(self, items, checked):
        """The items, each marked unit with the requisite of its own code's check."""
        return [
            replace(item, industry_props=checked[item.mark_code]) if item.mark_code in checked else item
            for item in items
        ]
