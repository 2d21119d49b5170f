from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import UserError


class L10nRuKkmReportWizard(models.TransientModel):
    """The periodic report, on screen, for any company and period."""

    _name = "l10n_ru_kkm.report.wizard"
    _description = "Fiscal receipts report"

    company_id = fields.Many2one("res.company", required=True, default=lambda self: self.env.company)
    date_from = fields.Date(
        string="From", required=True, default=lambda self: fields.Date.context_today(self) - timedelta(days=7)
    )
    date_to = fields.Date(string="To", required=True, default=fields.Date.context_today)
    report_html = fields.Html(string="Report", compute="_compute_report_html", sanitize=False)

    @api.depends("company_id", "date_from", "date_to")
    def _compute_report_html(self):
        receipts = self.env["l10n_ru_kkm.receipt"]
        for wizard in self:
            if wizard.company_id and wizard.date_from and wizard.date_to:
                wizard.report_html = receipts._l10n_ru_kkm_render_report(
                    wizard.company_id, wizard.date_from, wizard.date_to
                )
            else:
                wizard.report_html = False

    def action_send_now(self):
        """Mail this report to the company's report recipients."""
        self.ensure_one()
        self.env["l10n_ru_kkm.receipt"]._l10n_ru_kkm_check_rights("l10n_ru_kkm.group_kkm_user")
        if not self.company_id.l10n_ru_kkm_report_partner_ids:
            raise UserError(
                self.env._(
                    "Nobody receives the report of %(company)s: add the recipients in Settings › "
                    "Invoicing › Fiscalization (54-FZ), Report recipients.",
                    company=self.company_id.name,
                )
            )
        self.env["l10n_ru_kkm.receipt"]._l10n_ru_kkm_send_report(
            self.company_id, self.date_from, self.date_to
        )
        return self.env["l10n_ru_kkm.receipt"]._l10n_ru_kkm_notify(
            self.env._("The report is on its way to the recipients.")
        )
