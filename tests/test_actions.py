from odoo import Command
from odoo.exceptions import AccessError, UserError
from odoo.tests import new_test_user, tagged

from odoo.addons.queue_job.tests.common import trap_jobs

from .common import GROUP, KkmTestCommon


@tagged("post_install", "-at_install")
class TestActions(KkmTestCommon):
    """What an accountant (not an administrator) does from the invoice and the receipts."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.accountant = new_test_user(
            cls.env,
            login="kkm_accountant",
            groups="base.group_user,account.group_account_invoice",
            company_id=cls.company.id,
            company_ids=[Command.set(cls.company.ids)],
        )

    def test_accountant_cannot_read_secrets_but_can_send_and_resend(self):
        self.assertFalse(self.accountant.has_group("base.group_system"))
        self.company.sudo().l10n_ru_kkm_atol_token = "cached-token"
        company = self.company.with_user(self.accountant)
        for secret in ("l10n_ru_kkm_atol_password", "l10n_ru_kkm_atol_token"):
            with self.subTest(secret=secret), self.assertRaises(AccessError):
                company.read([secret])
        self.atol.token_ok()
        self.atol.register_error(32, "Ошибка валидации")
        move = self.post_invoice().with_user(self.accountant)
        with trap_jobs() as trap:
            move.action_l10n_ru_kkm_send()
            trap.perform_enqueued_jobs()
        self.assertEqual(move.l10n_ru_kkm_state, "error")
        with trap_jobs() as trap:
            move.action_l10n_ru_kkm_resend()
            self.assertEqual(len(trap.enqueued_jobs), 1)
        self.assertEqual(move.l10n_ru_kkm_state, "to_send")

    def test_resend_after_a_refusal_keeps_the_external_id_and_uses_fixed_data(self):
        self.atol.token_ok()
        self.atol.register_error(32, "Ошибка валидации: receipt.client.email")
        receipt = self.post_invoice().l10n_ru_kkm_receipt_ids
        receipt._l10n_ru_kkm_send()
        self.assertEqual(receipt.state, "error")
        external_id = receipt.external_id
        self.partner_a.email = "fixed@example.ru"
        with trap_jobs() as trap:
            receipt.action_l10n_ru_kkm_resend()
            self.assertEqual(len(trap.enqueued_jobs), 1)
        self.assertEqual(receipt.state, "to_send")
        self.assertEqual(receipt.external_id, external_id, "nothing was registered under it")
        self.assertEqual(receipt.request_payload["receipt"]["client"], {"email": "fixed@example.ru"})

    def test_resend_after_a_failed_document_takes_a_new_external_id(self):
        self.atol.token_ok()
        self.atol.register_ok(uuid="uuid-failed")
        self.atol.report_fail(uuid="uuid-failed")
        receipt = self.post_invoice().l10n_ru_kkm_receipt_ids
        receipt._l10n_ru_kkm_send()
        receipt._l10n_ru_kkm_fetch_report()
        self.assertEqual(receipt.state, "error")
        self.assertTrue(receipt.external_id_spent)
        old_id = receipt.external_id
        with trap_jobs():
            receipt.move_id.action_l10n_ru_kkm_resend()
        self.assertEqual(receipt.state, "to_send")
        self.assertNotEqual(receipt.external_id, old_id)
        self.assertEqual(receipt.request_payload["external_id"], receipt.external_id)
        self.assertFalse(receipt.vendor_uuid)

    def test_resend_refuses_receipts_that_are_not_in_error(self):
        receipt = self.post_invoice().l10n_ru_kkm_receipt_ids
        with self.assertRaises(UserError):
            receipt.action_l10n_ru_kkm_resend()
        self.assertEqual(receipt.state, "to_send")

    def test_resend_with_data_still_wrong_says_why(self):
        self.partner_a.write({"email": False, "phone": False})
        receipt = self.post_invoice().l10n_ru_kkm_receipt_ids
        with self.assertRaisesRegex(UserError, "neither an e-mail nor a phone"):
            receipt.action_l10n_ru_kkm_resend()

    def test_check_status_from_the_invoice(self):
        self.atol.token_ok()
        self.atol.register_ok(uuid="uuid-s")
        self.atol.report_done(uuid="uuid-s")
        move = self.post_invoice()
        move.l10n_ru_kkm_receipt_ids._l10n_ru_kkm_send()
        action = move.action_l10n_ru_kkm_check_status()
        self.assertEqual(action["tag"], "display_notification")
        self.assertEqual(move.l10n_ru_kkm_state, "done")

    def test_registered_receipt_blocks_reset_to_draft(self):
        self.atol.token_ok()
        self.atol.register_ok()
        move = self.post_invoice()
        self.assertTrue(move.show_reset_to_draft_button)
        move.l10n_ru_kkm_receipt_ids._l10n_ru_kkm_send()
        self.assertFalse(move.show_reset_to_draft_button)
        with self.assertRaisesRegex(UserError, "credit note"):
            move.button_draft()
        self.assertEqual(move.state, "posted")

    def test_send_button_creates_the_receipt_of_an_invoice_posted_before_enabling(self):
        self.company.l10n_ru_kkm_enabled = False
        move = self.post_invoice()
        self.company.l10n_ru_kkm_enabled = True
        self.assertTrue(move.l10n_ru_kkm_show_send)
        self.atol.token_ok()
        self.atol.register_ok(uuid="uuid-late")
        with trap_jobs() as trap:
            move.action_l10n_ru_kkm_send()
            trap.perform_enqueued_jobs()
        self.assertEqual(move.l10n_ru_kkm_receipt_ids.state, "sent")
        self.assertFalse(move.l10n_ru_kkm_show_send)
        self.assertEqual(len(self.atol.calls_to(f"{GROUP}/sell")), 1)
