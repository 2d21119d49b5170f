from datetime import date, timedelta

from odoo import Command, fields
from odoo.exceptions import UserError
from odoo.tests import freeze_time, tagged

from .common import GROUP, KkmTestCommon


@tagged("post_install", "-at_install")
class TestReport(KkmTestCommon):
    """The periodic report for a database with done, pending and failed receipts."""

    def setUp(self):
        super().setUp()
        self.atol.token_ok()
        self.atol.register_ok(uuid="u-sell")
        self.atol.register_ok(uuid="u-refund", operation="sell_refund")
        self.atol.report_done(uuid="u-sell")
        self.atol.report_done(uuid="u-refund")
        self.done_sell = self._sent(self.post_invoice(amounts=(1200.0,)))
        self.done_refund = self._sent(self.post_invoice(amounts=(300.0,), move_type="out_refund"))
        (self.done_sell | self.done_refund)._l10n_ru_kkm_fetch_report()
        self.pending = self.post_invoice(amounts=(500.0,)).l10n_ru_kkm_receipt_ids
        self.partner_a.write({"email": False, "phone": False})
        self.failed = self.post_invoice(amounts=(700.0,)).l10n_ru_kkm_receipt_ids
        # The pending receipt has been waiting for two hours: it is stuck.
        self.env.cr.execute(
            "UPDATE l10n_ru_kkm_receipt SET create_date = create_date - interval '2 hours' WHERE id = %s",
            [self.pending.id],
        )
        self.pending.invalidate_recordset(["create_date"])
        self.receipts = self.env["l10n_ru_kkm.receipt"]

    def _sent(self, move):
        receipt = move.l10n_ru_kkm_receipt_ids
        receipt._l10n_ru_kkm_send()
        return receipt

    def test_figures_and_problem_table(self):
        self.assertEqual(
            (self.done_sell.state, self.done_refund.state, self.pending.state, self.failed.state),
            ("done", "done", "to_send", "error"),
        )
        today = fields.Date.context_today(self.receipts)
        data = self.receipts._l10n_ru_kkm_report_data(self.company, today - timedelta(days=1), today)
        self.assertEqual((data["count"], data["done"], data["pending"], data["failed"]), (4, 2, 1, 1))
        self.assertEqual((data["sold"], data["refunded"]), (1200.0, 300.0))
        problems = {p["invoice"]: p for p in data["problems"]}
        self.assertEqual(set(problems), {self.pending.move_id.name, self.failed.move_id.name})
        self.assertIn("neither an e-mail nor a phone", problems[self.failed.move_id.name]["error"])
        self.assertGreaterEqual(problems[self.pending.move_id.name]["age_hours"], 2)

        html = str(self.receipts._l10n_ru_kkm_render_report(self.company, today - timedelta(days=1), today))
        for name, value in (("count", "4"), ("done", "2"), ("pending", "1"), ("failed", "1")):
            self.assertRegex(html, rf'<td name="{name}">{value}</td>')
        self.assertIn(self.failed.move_id.name, html)
        self.assertIn("1,200.00", html)

    def test_period_outside_the_receipts_counts_nothing_but_still_lists_problems(self):
        data = self.receipts._l10n_ru_kkm_report_data(self.company, date(2020, 1, 1), date(2020, 1, 2))
        self.assertEqual((data["count"], data["done"]), (0, 0))
        self.assertEqual(len(data["problems"]), 2)

    def test_the_cron_mails_the_recipients_once_per_period(self):
        accountant = self.env["res.partner"].create({"name": "Главбух", "email": "chief@example.ru"})
        self.company.write(
            {
                "l10n_ru_kkm_report_partner_ids": [Command.set(accountant.ids)],
                "l10n_ru_kkm_report_period": "weekly",
            }
        )
        mails = self.env["mail.mail"].sudo()
        before = mails.search([])
        tomorrow = fields.Date.context_today(self.receipts) + timedelta(days=1)
        with freeze_time(tomorrow):
            self.receipts._cron_l10n_ru_kkm_send_report()
            self.receipts._cron_l10n_ru_kkm_send_report()
        sent = mails.search([]) - before
        self.assertEqual(len(sent), 1, "one report per period")
        self.assertEqual(sent.recipient_ids, accountant)
        self.assertIn("Fiscal receipts of", sent.subject)
        self.assertIn(self.failed.move_id.name, sent.body_html)
        self.assertEqual(self.company.l10n_ru_kkm_report_last_date, tomorrow)
        with freeze_time(tomorrow + timedelta(days=7)):
            self.receipts._cron_l10n_ru_kkm_send_report()
        self.assertEqual(len(mails.search([]) - before), 2)

    def test_report_on_screen(self):
        wizard = self.env["l10n_ru_kkm.report.wizard"].create({})
        self.assertIn(self.failed.move_id.name, str(wizard.report_html))
        self.assertEqual(len(self.atol.calls_to(f"{GROUP}/sell$")), 1)

    def test_sending_without_recipients_says_where_to_set_them(self):
        self.company.l10n_ru_kkm_report_partner_ids = False
        wizard = self.env["l10n_ru_kkm.report.wizard"].create({})
        before = self.env["mail.mail"].sudo().search_count([])
        with self.assertRaises(UserError) as refusal:
            wizard.action_send_now()
        self.assertIn("Report recipients", str(refusal.exception))
        self.assertEqual(self.env["mail.mail"].sudo().search_count([]), before)
