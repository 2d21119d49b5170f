"""The periodic report: what was registered, what waits, what failed and why; on screen and
e-mailed, each recipient reading it in their own language."""

from datetime import datetime, time, timedelta

from odoo import api, fields, models
from odoo.tools import format_date

STUCK_AFTER = timedelta(hours=1)


class L10nRuKkmReceipt(models.Model):
    _inherit = "l10n_ru_kkm.receipt"

    @api.model
    def _l10n_ru_kkm_report_data(self, company, date_from, date_to):
        """Figures of the receipts created in [date_from, date_to] (dates, inclusive), and the
        receipts that need someone, whenever they were created."""
        start = datetime.combine(date_from, time.min)
        end = datetime.combine(date_to + timedelta(days=1), time.min)
        receipts = self.sudo().search(
            [("company_id", "=", company.id), ("create_date", ">=", start), ("create_date", "<", end)]
        )
        done = receipts.filtered(lambda r: r.state == "done")
        pending = receipts.filtered(lambda r: r.state in ("to_send", "sent", "unknown"))
        failed = receipts.filtered(lambda r: r.state == "error")
        now = fields.Datetime.now()
        problems = self.sudo().search(
            [
                ("company_id", "=", company.id),
                "|",
                ("state", "=", "error"),
                "&",
                ("state", "in", ("to_send", "sent", "unknown")),
                "|",
                "|",
                ("retries_exhausted", "=", True),
                ("needs_attention", "=", True),
                ("create_date", "<", now - STUCK_AFTER),
            ],
            order="create_date",
        )
        registers = self.env["l10n_ru_kkm.register"].sudo().search([("company_id", "=", company.id)])
        return {
            "company": company,
            "registers": [
                {
                    "name": register.name,
                    "health": dict(register._fields["health"]._description_selection(self.env))[
                        register.health
                    ],
                    "problem": register._l10n_ru_kkm_health_text(),
                }
                for register in registers
                if register.health in ("failing", "backlog")
            ],
            "reconciliation": self.env["l10n_ru_kkm.discrepancy"]._l10n_ru_kkm_summary(
                company, date_from, date_to
            ),
            "date_from": date_from,
            "date_to": date_to,
            # The period in the reader's date format, as the heading and the subject say it.
            "period": self._l10n_ru_kkm_report_period(date_from, date_to),
            "count": len(receipts),
            # A split invoice has several receipts, but it is one document.
            "documents": len(receipts.move_id),
            "done": len(done),
            "pending": len(pending),
            "failed": len(failed),
            # Goods handed over (paid or on credit); advances and payments of credit apart.
            "sold": sum(
                done.filtered(
                    lambda r: r.operation == "sell" and r.payment_stage in ("full", "credit")
                ).mapped("amount_total")
            ),
            "advances": sum(done.filtered(lambda r: r.payment_stage == "prepayment").mapped("amount_total")),
            "credit_paid": sum(
                done.filtered(lambda r: r.payment_stage == "credit_payment").mapped("amount_total")
            ),
            "refunded": sum(done.filtered(lambda r: r.operation == "sell_refund").mapped("amount_total")),
            "problems": [
                {
                    "receipt": receipt,
                    "invoice": receipt.move_id.name,
                    "state": receipt._l10n_ru_kkm_state_label(),
                    "error": receipt._l10n_ru_kkm_problem_text(),
                    "age_hours": int((now - receipt.create_date).total_seconds() // 3600),
                }
                for receipt in problems
            ],
        }

    @api.model
    def _l10n_ru_kkm_report_period(self, date_from, date_to):
        return f"{format_date(self.env, date_from)} – {format_date(self.env, date_to)}"

    @api.model
    def _l10n_ru_kkm_render_report(self, company, date_from, date_to):
        data = self._l10n_ru_kkm_report_data(company, date_from, date_to)
        return self.env["ir.qweb"]._render(
            "l10n_ru_kkm.report_body", {"data": data, "currency": company.currency_id}
        )

    @api.model
    def _cron_l10n_ru_kkm_send_report(self):
        """Send the report of each company whose period has come, to its recipients."""
        today = fields.Date.context_today(self)
        companies = self.env["res.company"].search(
            [("l10n_ru_kkm_enabled", "=", True), ("l10n_ru_kkm_report_partner_ids", "!=", False)]
        )
        for company in companies:
            days = 7 if company.l10n_ru_kkm_report_period == "weekly" else 1
            last = company.l10n_ru_kkm_report_last_date
            if last and (today - last).days < days:
                continue
            self._l10n_ru_kkm_send_report(company, today - timedelta(days=days), today - timedelta(days=1))
            company.l10n_ru_kkm_report_last_date = today

    @api.model
    def _l10n_ru_kkm_send_report(self, company, date_from, date_to):
        """One e-mail per language of the recipients: the figures and the problems read in it."""
        mails = self.env["mail.mail"].sudo()
        recipients = company.l10n_ru_kkm_report_partner_ids
        for lang in dict.fromkeys(recipients.mapped(lambda p: p.lang or company.partner_id.lang or "en_US")):
            readers = recipients.filtered(
                lambda p, lang=lang: (p.lang or company.partner_id.lang or "en_US") == lang
            )
            report = self.with_context(lang=lang)
            body = report._l10n_ru_kkm_render_report(company, date_from, date_to)
            mails |= mails.create(
                {
                    "subject": report.env._(
                        "Fiscal receipts of %(company)s, %(period)s",
                        company=company.name,
                        period=report._l10n_ru_kkm_report_period(date_from, date_to),
                    ),
                    "body_html": body,
                    "email_from": company.email_formatted or self.env.user.email_formatted,
                    "recipient_ids": [fields.Command.set(readers.ids)],
                    "auto_delete": True,
                }
            )
        return mails
