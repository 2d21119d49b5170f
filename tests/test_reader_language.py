"""What the receipts say is read in the reader's language (issue "The accountant's day,
polished"): their names, their state changes in the chatter, the notes on the invoice, the
problems and the banner -- whoever, or whichever job, wrote them."""

from odoo.tests import tagged

from .common import KkmTestCommon


@tagged("post_install", "-at_install")
class TestReaderLanguage(KkmTestCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["res.lang"]._activate_lang("ru_RU")
        cls.env["ir.module.module"]._load_module_terms(["l10n_ru_kkm"], ["ru_RU"], overwrite=True)

    def _refused_by_the_service(self):
        """A receipt the service refuses, handled in English (a job, an English-speaking user)."""
        self.atol.token_ok()
        self.atol.register_error(32, "Ошибка валидации входного чека")
        move = self.post_invoice()
        receipt = move.l10n_ru_kkm_receipt_ids.with_context(
            lang="en_US", tracking_disable=False, mail_notrack=False
        )
        receipt._l10n_ru_kkm_send()
        self.assertEqual(receipt.state, "error")
        return receipt

    def test_receipt_names_are_read_in_each_language(self):
        receipt = self.post_invoice().with_context(lang="en_US").l10n_ru_kkm_receipt_ids
        invoice = receipt.move_id.name
        self.assertEqual(receipt.display_name, f"Sale {invoice}")
        self.assertEqual(receipt.with_context(lang="ru_RU").display_name, f"Приход {invoice}")
        found = self.env["l10n_ru_kkm.receipt"].name_search(invoice)
        self.assertEqual([row[0] for row in found], receipt.ids, "found by its invoice's name")

    def test_state_changes_in_the_receipts_chatter_are_read_in_each_language(self):
        receipt = self._refused_by_the_service()
        trackings = receipt.message_ids.tracking_value_ids.filtered(lambda t: t.field_id.name == "state")
        self.assertTrue(trackings)
        for lang, old, new in (("ru_RU", "К отправке", "Ошибка"), ("en_US", "To send", "Error")):
            with self.subTest(lang=lang):
                shown = trackings.with_context(lang=lang)._tracking_value_format()
                self.assertIn((old, new), [(entry["oldValue"], entry["newValue"]) for entry in shown])

    def test_the_invoice_notes_speak_the_accountants_language(self):
        self.env.user.lang = "ru_RU"  # the invoice's accountant; the job that sends speaks English
        receipt = self._refused_by_the_service()
        note = receipt.move_id.message_ids.filtered(lambda m: "Приход" in (m.body or ""))
        self.assertEqual(len(note), 1, receipt.move_id.message_ids.mapped("body"))
        self.assertIn("требует внимания", note.body)
        self.assertNotIn("needs attention", note.body)
        activity = receipt.move_id.activity_ids
        self.assertNotIn("The service refused", activity.note)
