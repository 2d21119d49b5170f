"""End to end: posted invoices become fiscal receipts registered by the real sandbox.

The module's own ATOL client talks HTTP to the project's sandbox on loopback; jobs are run
as the queue_job runner would (``trap_jobs``) and the poll cron as the scheduler would.
"""

from odoo.tests import tagged

from .sandbox_common import SANDBOX_INN, KkmSandboxCommon, ledger_by_external_id, no_poll_spacing


@tagged("post_install", "-at_install")
class TestEndToEndSandbox(KkmSandboxCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company.l10n_ru_kkm_async = True

    # -- helpers ---------------------------------------------------------------------

    def _post_and_send(self, move_type="out_invoice", amount=1200.0):
        """Post one document and run its send job; returns the receipt."""
        documents_before = self.sandbox.ledger()["count"]
        with self.trapped() as trap:
            move = self.post_document(move_type, amount)
            receipt = move.l10n_ru_kkm_receipt_ids
            self.assertEqual(receipt.state, "to_send")
            self.assertEqual(
                self.sandbox.ledger()["count"], documents_before, "nothing is sent before the commit"
            )
            trap.assert_jobs_count(1)
            trap.perform_enqueued_jobs()
            trap.assert_jobs_count(0)
        return receipt

    def _poll(self):
        with no_poll_spacing():
            self.receipt_model._cron_l10n_ru_kkm_poll()

    def _assert_done_like_the_ledger(self, receipt, operation, group):
        """The receipt holds the fiscal data the sandbox registered, and only one document."""
        self.assertEqual(receipt.state, "done", receipt.error_message)
        self.assertEqual(receipt.move_id.l10n_ru_kkm_state, "done")
        self.assertFalse(receipt.move_id.l10n_ru_kkm_failed)
        ledger = self.sandbox.ledger()
        self.assertEqual(ledger["count"], 1, ledger)
        self.assertEqual(ledger["duplicates_by_id"]["count"], 0)
        self.assertEqual(ledger["duplicates_by_content"]["count"], 0)
        row = ledger["documents"][0]
        self.assertEqual(row["external_id"], receipt.external_id)
        self.assertEqual(row["uuid"], receipt.vendor_uuid)
        self.assertEqual((row["operation"], row["group"], row["status"]), (operation, group, "done"))
        self.assertEqual(row["total"], f"{receipt.amount_total:.2f}")
        fiscal = row["fiscal"]
        self.assertEqual(receipt.fn_number, fiscal["fn_number"])
        self.assertEqual(len(receipt.fn_number), 16)
        self.assertEqual(receipt.fiscal_document_number, fiscal["fiscal_document_number"])
        self.assertGreater(receipt.fiscal_document_number, 0)
        self.assertEqual(receipt.fiscal_document_attribute, str(fiscal["fiscal_document_attribute"]))
        self.assertEqual(receipt.shift_number, fiscal["shift_number"])
        self.assertEqual(receipt.fiscal_receipt_number, fiscal["fiscal_receipt_number"])
        self.assertRegex(receipt.receipt_datetime, r"^\d\d\.\d\d\.\d{4} \d\d:\d\d(:\d\d)?$")
        self.assertEqual(len(receipt.ecr_registration_number), 16)
        self.assertIn(f"fp={receipt.fiscal_document_attribute}", receipt.ofd_receipt_url)
        # What the sandbox registered is exactly the request frozen at posting.
        self.assertEqual(self.sandbox.document(receipt.vendor_uuid)["request"], receipt.request_payload)
        return row

    # -- flows -----------------------------------------------------------------------

    def test_invoice_job_sent_then_poll_cron_done_with_fiscal_data(self):
        receipt = self._post_and_send()
        self.assertEqual(receipt.state, "sent")
        self.assertTrue(receipt.vendor_uuid)
        # Newest first: the registration row was marked in flight before the token was asked.
        self.assertEqual(receipt.attempt_ids.mapped("action"), ["token", "register"])
        self.assertEqual(receipt.attempt_ids.mapped("http_status"), [200, 200])
        self._poll()
        self.assertEqual(receipt.poll_count, 1)
        row = self._assert_done_like_the_ledger(receipt, "sell", "v4-online-atol-ru_4179")
        self.assertEqual(row["version"], "v4")
        self.assertEqual(row["submitted"], 1)
        self.assertEqual(receipt.request_payload["receipt"]["company"]["inn"], SANDBOX_INN)

    def test_credit_note_ends_done_as_sell_refund(self):
        receipt = self._post_and_send(move_type="out_refund", amount=300.0)
        self.assertEqual(receipt.operation, "sell_refund")
        self.assertEqual(receipt.state, "sent")
        self._poll()
        row = self._assert_done_like_the_ledger(receipt, "sell_refund", "v4-online-atol-ru_4179")
        self.assertEqual(row["total"], "300.00")

    def test_atol_v5_invoice_and_credit_note_end_done(self):
        self.use_vendor("atol_v5")
        receipt = self._post_and_send()
        self.assertEqual(receipt.vendor, "atol_v5")
        # A refusal here carries the sandbox's validation text: it is the finding.
        self.assertEqual(receipt.state, "sent", f"{receipt.error_code}: {receipt.error_message}")
        self._poll()
        row = self._assert_done_like_the_ledger(receipt, "sell", "v5-online-atol-ru_5179")
        self.assertEqual(row["version"], "v5")

        self.sandbox.reset()
        refund = self._post_and_send(move_type="out_refund", amount=300.0)
        self.assertEqual(refund.state, "sent", f"{refund.error_code}: {refund.error_message}")
        self._poll()
        self._assert_done_like_the_ledger(refund, "sell_refund", "v5-online-atol-ru_5179")

    def test_synchronous_mode_registers_right_after_the_commit(self):
        self.company.l10n_ru_kkm_async = False
        with self.trapped() as trap:
            move = self.post_document()
            receipt = move.l10n_ru_kkm_receipt_ids
            self.assertEqual(self.sandbox.ledger()["count"], 0)
            self.env.flush_all()
            self.env.cr.postcommit.run()  # what the commit of the posting triggers
            trap.assert_jobs_count(0)
        # The send ran in cursors of its own: forget what this one has cached.
        self.env.invalidate_all()
        # done_delay=0: the report asked right after the registration already has the result.
        self._assert_done_like_the_ledger(receipt, "sell", "v4-online-atol-ru_4179")

    def test_registered_but_answer_lost_is_resolved_with_the_same_external_id(self):
        self.sandbox.set_faults({"lost_answer": {"next": 1, "targets": ["register"]}})
        with self.trapped() as trap:
            receipt = self.post_document().l10n_ru_kkm_receipt_ids
            external_id = receipt.external_id
            trap.perform_enqueued_jobs()
            self.assertEqual(receipt.state, "unknown")
            self.assertFalse(receipt.vendor_uuid)
            self.assertEqual(receipt.send_attempts, 1)
            # The sandbox did register it: resending blind under a new id would duplicate it.
            self.assertEqual(self.sandbox.ledger()["count"], 1)
            self.assertEqual(self.sandbox.get_faults()["fired"][-1]["faults"], ["lost_answer"])
            trap.assert_jobs_count(1)  # the retry, queued by the module itself
            trap.perform_enqueued_jobs()
        self.assertEqual(receipt.state, "sent")
        self.assertEqual(receipt.external_id, external_id)
        register_attempts = receipt.attempt_ids.filtered(lambda a: a.action == "register")
        self.assertEqual(register_attempts.sorted("id").mapped("error_code"), ["", "33"])
        self._poll()
        row = self._assert_done_like_the_ledger(receipt, "sell", "v4-online-atol-ru_4179")
        self.assertEqual(row["submitted"], 2, "the retry carried the same external_id")
        self.assertEqual(ledger_by_external_id(self.sandbox).keys(), {external_id})

    def test_fiscal_failure_in_the_report_puts_the_receipt_in_error_with_the_vendor_text(self):
        self.sandbox.configure(fail_share=1)
        receipt = self._post_and_send()
        self.assertEqual(receipt.state, "sent")
        self._poll()
        self.assertEqual(receipt.state, "error")
        row = self.sandbox.ledger()["documents"][0]
        self.assertEqual(row["status"], "fail")
        self.assertEqual(receipt.error_code, str(row["error"]["code"]))
        self.assertEqual(receipt.vendor_message, row["error"]["text"])
        self.assertTrue(receipt.vendor_message)
        self.assertIn(row["error"]["text"], receipt.error_message)
        self.assertEqual(receipt.error_kind, "device")
        self.assertTrue(receipt.move_id.l10n_ru_kkm_failed)
        activity = self.env.ref("l10n_ru_kkm.mail_activity_receipt_failed")
        self.assertEqual(receipt.move_id.activity_ids.activity_type_id, activity)
        self.assertFalse(receipt.fn_number)

    def test_expired_token_is_renewed_once_and_shared(self):
        first = self._post_and_send()
        self.assertEqual(first.state, "sent")
        token = self.company.sudo().l10n_ru_kkm_atol_token
        self.assertTrue(token)
        self.assertEqual(self.sandbox.expire_tokens(), 1)
        second = self._post_and_send(amount=700.0)
        self.assertEqual(second.state, "sent")
        self.assertEqual(second.attempt_ids.sorted("id").mapped("action"), ["register", "token", "register"])
        self.assertEqual(second.attempt_ids.sorted("id").mapped("error_code"), ["11", "", ""])
        self.assertNotEqual(self.company.sudo().l10n_ru_kkm_atol_token, token)
        self.assertEqual(self.sandbox.ledger()["count"], 2)
