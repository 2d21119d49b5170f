"""A receipt's problems are stored as codes with parameters and read in the reader's language
(issue "One receipt, one place", point 5): the receipt, the invoice's banner, the report and its
e-mail, never frozen in the language of whoever posted."""

import importlib.util
from pathlib import Path

from odoo import Command
from odoo.tests import tagged

from .common import KkmTestCommon

RUSSIAN = "не указаны ни адрес электронной почты, ни телефон"
ENGLISH = "has neither an e-mail nor a phone"


@tagged("post_install", "-at_install")
class TestProblemsInTheReadersLanguage(KkmTestCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["res.lang"]._activate_lang("ru_RU")

    def _refused(self):
        self.partner_a.write({"email": False, "phone": False})
        # Posted by a Russian-speaking accountant.
        receipt = self.post_invoice().with_context(lang="ru_RU").l10n_ru_kkm_receipt_ids
        self.assertEqual(receipt.state, "error")
        return receipt

    def test_stored_as_codes_read_in_each_language(self):
        receipt = self._refused()
        self.assertEqual([entry["code"] for entry in receipt.problems], ["no_contact"])
        self.assertEqual(receipt.problem_level, "danger")
        self.assertNotIn(RUSSIAN, repr(receipt.problems), "no text frozen in the poster's language")
        self.assertIn(RUSSIAN, receipt.with_context(lang="ru_RU").error_message)
        self.assertIn(ENGLISH, receipt.with_context(lang="en_US").error_message)
        move = receipt.move_id
        self.assertIn(ENGLISH, move.with_context(lang="en_US").l10n_ru_kkm_problem)
        self.assertIn(RUSSIAN, move.with_context(lang="ru_RU").l10n_ru_kkm_problem)

    def test_the_report_is_mailed_in_each_recipients_language(self):
        receipt = self._refused()
        readers = self.env["res.partner"].create(
            [
                {"name": "Бухгалтер", "email": "ru@example.ru", "lang": "ru_RU"},
                {"name": "Auditor", "email": "en@example.com", "lang": "en_US"},
            ]
        )
        self.company.l10n_ru_kkm_report_partner_ids = [Command.set(readers.ids)]
        day = receipt.create_date.date()
        mails = self.env["l10n_ru_kkm.receipt"]._l10n_ru_kkm_send_report(self.company, day, day)
        self.assertEqual(len(mails), 2)
        by_reader = {mail.recipient_ids.email: mail for mail in mails}
        self.assertIn(RUSSIAN, by_reader["ru@example.ru"].body_html)
        self.assertIn(ENGLISH, by_reader["en@example.com"].body_html)
        self.assertIn("Fiscal receipts of", by_reader["en@example.com"].subject)
        self.assertNotIn("Fiscal receipts of", by_reader["ru@example.ru"].subject)

    def test_an_upgraded_database_keeps_what_its_receipts_said(self):
        receipt = self.post_invoice().l10n_ru_kkm_receipt_ids
        self.env.flush_all()
        # The text column of 19.0.1.1.0, as an upgraded database still has it.
        self.env.cr.execute("ALTER TABLE l10n_ru_kkm_receipt ADD COLUMN IF NOT EXISTS error_message text")
        self.env.cr.execute(
            "UPDATE l10n_ru_kkm_receipt SET error_message = 'old words' WHERE id = %s", [receipt.id]
        )
        path = Path(__file__).parent.parent / "migrations" / "19.0.1.2.0" / "post-migrate.py"
        spec = importlib.util.spec_from_file_location("l10n_ru_kkm_migration_19_0_1_2_0", path)
        migration = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(migration)
        migration.migrate(self.env.cr, "19.0.1.1.0")
        receipt.invalidate_recordset()
        self.assertEqual(receipt.vendor_message, "old words")
        self.assertEqual(receipt.error_message, "old words")
