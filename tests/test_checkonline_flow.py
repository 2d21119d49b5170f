"""Checkonline end to end: invoices registered by the sandbox over mutual TLS, with the client
certificate kept in Odoo's certificate module."""

import tempfile

from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import tagged

from odoo.addons.queue_job.tests.common import trap_jobs

from ..sandbox.server import Sandbox
from .common import KkmTestCommon, create_checkonline_certificate
from .pki import Pki


@tagged("post_install", "-at_install")
class TestCheckonlineFlow(KkmTestCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        folder = tempfile.TemporaryDirectory()
        cls.addClassCleanup(folder.cleanup)
        cls.pki = Pki(folder.name)
        cls.sandbox = Sandbox(
            seed=3,
            done_delay=0,
            quiet=True,
            tls_cert=cls.pki.server_cert,
            tls_key=cls.pki.server_key,
            tls_client_ca=cls.pki.ca,
        ).start()
        cls.addClassCleanup(cls.sandbox.stop)
        cls.env["ir.config_parameter"].sudo().set_param("l10n_ru_kkm.ca_bundle", cls.pki.ca)
        cert_path, key_path = cls.pki.client
        certificate = create_checkonline_certificate(cls.env, cls.company, cert_path, key_path)
        cls.company.sudo().write(
            {
                "l10n_ru_kkm_vendor": "checkonline",
                "l10n_ru_kkm_service_url": cls.sandbox.url,
                "l10n_ru_kkm_checkonline_certificate_id": certificate.id,
                "l10n_ru_kkm_async": True,
            }
        )

    def setUp(self):
        super().setUp()
        self.sandbox.reset()

    def _post_and_run(self, move_type="out_invoice", rounds=1):
        with trap_jobs() as trap:
            move = self.post_invoice(amounts=(1200.0,), move_type=move_type)
            for _ in range(rounds):
                trap.perform_enqueued_jobs()
        return move, move.l10n_ru_kkm_receipt_ids

    def test_invoice_is_registered_with_fiscal_data(self):
        move, receipt = self._post_and_run()
        self.assertEqual(receipt.vendor, "checkonline")
        self.assertEqual(receipt.state, "done", receipt.error_message)
        self.assertEqual(receipt.request_payload["RequestId"], receipt.external_id)
        self.assertEqual(receipt.request_payload["NonCash"][0], 120000)
        self.assertTrue(receipt.fn_number)
        self.assertTrue(receipt.fiscal_document_number)
        self.assertTrue(receipt.fiscal_document_attribute)
        self.assertEqual(move.l10n_ru_kkm_state, "done")
        documents = self.sandbox.ledger()["documents"]
        self.assertEqual([d["operation"] for d in documents], ["sell"])

    def test_credit_note_is_a_refund_receipt(self):
        _move, receipt = self._post_and_run(move_type="out_refund")
        self.assertEqual(receipt.state, "done", receipt.error_message)
        self.assertEqual(receipt.request_payload["DocumentType"], 2)

    def test_lost_answer_then_retry_registers_one_document(self):
        self.sandbox.set_faults({"lost_answer": {"next": 1, "targets": ["complex"]}})
        with trap_jobs() as trap:
            receipt = self.post_invoice().l10n_ru_kkm_receipt_ids
            trap.perform_enqueued_jobs()
            self.assertEqual(receipt.state, "unknown")
            trap.perform_enqueued_jobs()
        self.assertEqual(receipt.state, "done")
        ledger = self.sandbox.ledger()
        self.assertEqual(ledger["count"], 1)
        self.assertEqual(ledger["duplicates_by_id"]["count"], 0)
        self.assertEqual(ledger["documents"][0]["submitted"], 2)

    def test_fatal_error_puts_the_receipt_in_error_with_the_text(self):
        self.sandbox.set_faults(
            {"fiscal_fail": {"next": 1, "fce": 19, "fatal": True, "targets": ["complex"]}}
        )
        _move, receipt = self._post_and_run()
        self.assertEqual(receipt.state, "error")
        self.assertTrue(receipt.error_message)
        self.assertEqual(receipt.error_code, "FCE-19")

    def test_an_undefined_state_waits_for_a_manager_who_checked_the_account(self):
        # FCE error 6: the device may have printed the receipt (ST32 §3.6.4).
        self.sandbox.set_faults({"fiscal_fail": {"next": 1, "fce": 6, "fatal": True, "targets": ["complex"]}})
        with trap_jobs() as trap:
            receipt = self.post_invoice().l10n_ru_kkm_receipt_ids
            trap.perform_enqueued_jobs()
            self.assertEqual(receipt.state, "unknown")
            self.assertTrue(receipt.needs_decision)
            self.assertTrue(receipt.move_id.l10n_ru_kkm_failed)
            self.assertIn("may have registered", receipt.problem_text)
            old_id = receipt.external_id
            # Nothing is sent again on its own: not by a job, not by the cron, not by "Send now".
            receipt._l10n_ru_kkm_send()
            receipt.action_l10n_ru_kkm_send_now()
            trap.perform_enqueued_jobs()
            self.assertEqual(self.sandbox.ledger()["submissions"], 1)
            accountant = self.company_user("kkm_co_accountant")
            with self.assertRaises(AccessError):
                receipt.with_user(accountant)._l10n_ru_kkm_send_under_new_id()
            wizard = (
                self.env["l10n_ru_kkm.receipt.renew.wizard"]
                .with_context(active_model="l10n_ru_kkm.receipt", active_id=receipt.id)
                .create({})
            )
            with self.assertRaisesRegex(UserError, "twice"):
                wizard.action_send_under_new_id()
            self.assertEqual(receipt.external_id, old_id)
            wizard.confirmed = True
            wizard.action_send_under_new_id()
            self.assertEqual(receipt.state, "to_send")
            self.assertNotEqual(receipt.external_id, old_id)
            self.assertEqual(receipt.request_payload["RequestId"], receipt.external_id)
            self.assertIn(
                "confirmed that the service holds no registered receipt", receipt.message_ids[0].body
            )
            trap.perform_enqueued_jobs()
        self.assertEqual(receipt.state, "done", receipt.error_message)
        self.assertEqual(self.sandbox.ledger()["count"], 1)

    def test_the_cashier_password_is_sent_but_not_kept(self):
        # The register knows cashier passwords 1 to 30: 31 is refused (error 79), which shows that
        # the password sent is the company's current one, added at send time.
        self.company.sudo().l10n_ru_kkm_checkonline_password = 31
        _move, receipt = self._post_and_run()
        self.assertEqual((receipt.state, receipt.error_code), ("error", "79"))
        self.assertNotIn("Password", receipt.request_payload)
        registrations = receipt.attempt_ids.filtered(lambda a: a.action == "register")
        self.assertEqual(registrations.mapped("request_payload")[0]["Password"], "***")
        self.company.sudo().l10n_ru_kkm_checkonline_password = 5
        with trap_jobs() as trap:
            receipt.action_l10n_ru_kkm_resend()
            trap.perform_enqueued_jobs()
        self.assertEqual(receipt.state, "done", receipt.error_message)
        self.assertNotIn("Password", receipt.request_payload)
        (document,) = [d for d in self.sandbox.documents() if d["request_id"] == receipt.external_id]
        self.assertEqual(document["request"]["Password"], 5)

    def test_non_fatal_server_error_is_retried_to_done(self):
        self.sandbox.set_faults({"fiscal_fail": {"next": 1, "fce": 18, "targets": ["complex"]}})
        with trap_jobs() as trap:
            receipt = self.post_invoice().l10n_ru_kkm_receipt_ids
            trap.perform_enqueued_jobs()
            self.assertEqual(receipt.state, "to_send")
            self.assertEqual(receipt.send_attempts, 1)
            trap.perform_enqueued_jobs()
        self.assertEqual(receipt.state, "done")
        self.assertEqual(self.sandbox.ledger()["count"], 1)

    def test_company_settings_reach_the_request_and_the_ofd_link(self):
        self.company.sudo().write({"l10n_ru_kkm_checkonline_tax_ids": "vat22=1", "l10n_ru_kkm_ofd": "ofd.ru"})
        vat22 = self.vat20.copy({"name": "НДС 22%", "amount": 22, "l10n_ru_kkm_vat_code": "vat22"})
        with trap_jobs() as trap:
            move = self.init_invoice("out_invoice", amounts=[1220.0], taxes=vat22, invoice_date="2026-02-01")
            move.action_post()
            trap.perform_enqueued_jobs()
        receipt = move.l10n_ru_kkm_receipt_ids
        self.assertEqual(receipt.state, "done", receipt.error_message)
        self.assertEqual(receipt.request_payload["Lines"][0]["TaxId"], 1)
        self.assertTrue(receipt.ofd_receipt_url.startswith("https://check.ofd.ru/rec/"))
        with self.assertRaises(ValidationError):
            self.company.sudo().l10n_ru_kkm_checkonline_tax_ids = "vat22:11"

    def test_check_connection_with_the_certificate(self):
        params = (
            self.env["res.config.settings"].sudo().create({}).action_l10n_ru_kkm_check_connection()["params"]
        )
        self.assertEqual(params["type"], "success", params["message"])

    def test_typographic_quotes_reach_the_register_printable(self):
        product = self.env["product.product"].create({"name": "Книга «Кассовая дисциплина» — том 1"})
        with trap_jobs() as trap:
            move = self.init_invoice("out_invoice", products=product, taxes=self.vat20)
            move.invoice_line_ids.price_unit = 640.0
            move.action_post()
            trap.perform_enqueued_jobs()
        receipt = move.l10n_ru_kkm_receipt_ids
        self.assertEqual(receipt.state, "done", receipt.error_message)
        self.assertEqual(
            receipt.request_payload["Lines"][0]["Description"], 'Книга "Кассовая дисциплина" - том 1'
        )
