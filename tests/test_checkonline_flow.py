"""Checkonline end to end: invoices registered by the sandbox over mutual TLS, with the client
certificate kept in Odoo's certificate module."""

import tempfile

from odoo.exceptions import ValidationError
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
        self.company.sudo().write(
            {"l10n_ru_kkm_checkonline_tax_ids": "vat22=1", "l10n_ru_kkm_checkonline_ofd": "ofd.ru"}
        )
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
