from datetime import timedelta
from unittest.mock import patch

import requests
import responses

from odoo import fields
from odoo.tests import freeze_time, tagged

from odoo.addons.queue_job.tests.common import trap_jobs

from ..models.l10n_ru_kkm_receipt import polling
from .common import GROUP, KkmTestCommon


@tagged("post_install", "-at_install")
class TestPipeline(KkmTestCommon):
    """Asynchronous sending, retries, polling and failure notices (docs/architecture.rst, "The receipt's life")."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company.write({"l10n_ru_kkm_async": True, "l10n_ru_kkm_retry_intervals": "1,5,15"})
        cls.receipt_model = cls.env["l10n_ru_kkm.receipt"]

    @staticmethod
    def _send_jobs(trap):
        return [job for job in trap.enqueued_jobs if job.method_name == "_l10n_ru_kkm_job_send"]

    def _connection_dropped(self):
        self.mock.add(
            responses.POST,
            f"{self.atol.root}/{GROUP}/sell",
            body=requests.exceptions.ConnectionError("Connection aborted: RemoteDisconnected"),
        )

    def test_posting_enqueues_one_send_job_on_the_fiscal_channel(self):
        with trap_jobs() as trap:
            move = self.post_invoice()
            receipt = move.l10n_ru_kkm_receipt_ids
            self.assertEqual(len(self._send_jobs(trap)), 1)
            trap.assert_enqueued_job(
                receipt._l10n_ru_kkm_job_send, properties={"channel": "root.l10n_ru_kkm"}
            )
            self.assertFalse(self.mock.calls, "the job runs only after the posting is committed")
            self.atol.token_ok()
            self.atol.register_ok(uuid="uuid-job")
            trap.perform_enqueued_jobs()
        self.assertEqual(receipt.state, "sent")
        self.assertEqual(receipt.vendor_uuid, "uuid-job")

    def test_transient_failure_is_retried_after_the_company_intervals_with_the_same_id(self):
        self.atol.token_ok()
        self._connection_dropped()
        self._connection_dropped()
        self.atol.register_ok(uuid="uuid-third")
        with trap_jobs() as trap:
            receipt = self.post_invoice().l10n_ru_kkm_receipt_ids
            external_id = receipt.external_id
            with freeze_time("2026-11-28 10:00:00"):
                trap.perform_enqueued_jobs()
                self.assertEqual(receipt.state, "unknown")
                self.assertEqual(receipt.send_attempts, 1)
                self.assertEqual(receipt.next_attempt_at, fields.Datetime.to_datetime("2026-11-28 10:01:00"))
                trap.assert_jobs_count(1)
                self.assertEqual(
                    trap.enqueued_jobs[0].eta, fields.Datetime.to_datetime("2026-11-28 10:01:00")
                )
                trap.perform_enqueued_jobs()
                self.assertEqual(receipt.send_attempts, 2)
                self.assertEqual(receipt.next_attempt_at, fields.Datetime.to_datetime("2026-11-28 10:05:00"))
                trap.perform_enqueued_jobs()
        self.assertEqual(receipt.state, "sent")
        self.assertEqual(receipt.send_attempts, 0)
        self.assertEqual(receipt.external_id, external_id)
        bodies = {call.request.body for call in self.atol.calls_to(f"{GROUP}/sell")}
        self.assertEqual(len(bodies), 1, "every attempt sends the same frozen request")

    def test_last_attempt_shows_failed_notifies_once_and_resumes_after_the_pause(self):
        self.company.l10n_ru_kkm_max_attempts = 2
        self.atol.token_ok()
        for _ in range(4):
            self.mock.add(
                responses.POST, f"{self.atol.root}/{GROUP}/sell", status=503, body="Service Unavailable"
            )
        with trap_jobs() as trap, freeze_time("2026-11-28 10:00:00"):
            move = self.post_invoice()
            receipt = move.l10n_ru_kkm_receipt_ids
            trap.perform_enqueued_jobs()  # attempt 1
            self.assertFalse(move.l10n_ru_kkm_failed)
            trap.perform_enqueued_jobs()  # attempt 2 = the maximum
            self.assertTrue(receipt.retries_exhausted)
            self.assertTrue(move.l10n_ru_kkm_failed)
            self.assertEqual(receipt.send_attempts, 0)
            self.assertEqual(trap.enqueued_jobs[0].eta, fields.Datetime.to_datetime("2026-11-29 10:00:00"))
            trap.perform_enqueued_jobs()  # resumed: attempt 1 of a new round
            trap.perform_enqueued_jobs()  # exhausted again
        activities = move.activity_ids.filtered(
            lambda a: a.activity_type_id == self.env.ref("l10n_ru_kkm.mail_activity_receipt_failed")
        )
        self.assertEqual(len(activities), 1, "one activity for the accountant, not one per retry")
        notes = move.message_ids.filtered(lambda m: "needs attention" in (m.body or ""))
        self.assertEqual(len(notes), 2)
        self.assertFalse(notes.mapped("notified_partner_ids"), "chatter notes e-mail nobody")
        self.assertIn(move, self.env["account.move"].search([("l10n_ru_kkm_failed", "=", True)]))
        self.assertIn("could not be reached after several attempts", move.l10n_ru_kkm_problem)

    def test_poll_cron_brings_accepted_receipts_to_done_and_survives_a_bad_one(self):
        self.atol.token_ok()
        self.atol.register_ok(uuid="uuid-a")
        receipts = self.receipt_model
        with trap_jobs() as trap:
            for _ in range(3):
                receipts |= self.post_invoice().l10n_ru_kkm_receipt_ids
            trap.perform_enqueued_jobs()
        self.assertEqual(set(receipts.mapped("state")), {"sent"})
        receipts[1].sudo().vendor_uuid = "uuid-b"
        receipts[2].sudo().vendor_uuid = "uuid-c"
        self.atol.report_done(uuid="uuid-a")
        self.atol.report_done(uuid="uuid-c")
        original = type(receipts)._l10n_ru_kkm_take_answer

        def take_answer(records, answer):
            if records.vendor_uuid == "uuid-b":
                raise RuntimeError("unexpected bug for one receipt")
            return original(records, answer)

        with (
            patch.object(type(receipts), "_l10n_ru_kkm_take_answer", take_answer),
            patch.object(polling, "POLL_SPACING", 0.0),
        ):
            self.receipt_model._cron_l10n_ru_kkm_poll()
        self.assertEqual(receipts.mapped("state"), ["done", "sent", "done"])
        self.assertTrue(receipts[1].needs_attention, "the bad one is flagged at once")
        self.assertEqual(receipts[0].fiscal_document_number, 133)

    def test_receipt_past_the_poll_limit_is_flagged_not_failed(self):
        self.company.l10n_ru_kkm_max_polls = 2
        self.atol.token_ok()
        self.atol.register_ok(uuid="uuid-slow")
        wait = {
            "error": {"code": 34, "text": "Состояние чека не найдено", "type": "system"},
            "status": "wait",
        }
        self.mock.add(responses.GET, f"{self.atol.root}/{GROUP}/report/uuid-slow", json=wait)
        with trap_jobs() as trap:
            move = self.post_invoice()
            trap.perform_enqueued_jobs()
        receipt = move.l10n_ru_kkm_receipt_ids
        with patch.object(polling, "POLL_SPACING", 0.0):
            self.receipt_model._cron_l10n_ru_kkm_poll()
            self.assertFalse(receipt.needs_attention)
            self.receipt_model._cron_l10n_ru_kkm_poll()
        self.assertEqual(receipt.poll_count, 2)
        self.assertTrue(receipt.needs_attention)
        self.assertEqual(receipt.state, "sent")
        self.assertTrue(move.l10n_ru_kkm_failed)
        self.assertEqual(len(move.activity_ids), 1)

    def test_poll_cron_rearms_itself_sooner_while_receipts_are_pending(self):
        self.atol.token_ok()
        self.atol.register_ok(uuid="uuid-p")
        self.mock.add(
            responses.GET,
            f"{self.atol.root}/{GROUP}/report/uuid-p",
            json={"error": {"code": 34, "text": "…", "type": "system"}, "status": "wait"},
        )
        with trap_jobs() as trap, freeze_time("2026-11-28 09:59:50"):
            self.post_invoice()
            trap.perform_enqueued_jobs()
        cron = self.env.ref("l10n_ru_kkm.ir_cron_poll_receipts")
        triggers = self.env["ir.cron.trigger"].search([("cron_id", "=", cron.id)])
        with (
            freeze_time("2026-11-28 10:00:00"),
            patch.object(polling, "POLL_SPACING", 0.0),
            patch.object(polling, "POLL_AGAIN_AFTER", timedelta(seconds=10)),
        ):
            self.receipt_model._cron_l10n_ru_kkm_poll()
            new = self.env["ir.cron.trigger"].search([("cron_id", "=", cron.id)]) - triggers
        # Asked again when due (10 s after an answer "not ready"), not after the cron's interval.
        self.assertEqual(new.mapped("call_at"), [fields.Datetime.to_datetime("2026-11-28 10:00:10")])

    def test_paid_trigger_waits_for_the_payment(self):
        self.company.l10n_ru_kkm_trigger = "paid"
        with trap_jobs() as trap:
            move = self.post_invoice(amounts=(500.0,))
            self.assertFalse(move.l10n_ru_kkm_receipt_ids)
            self.env["account.payment.register"].with_context(
                active_model="account.move", active_ids=move.ids
            ).create({})._create_payments()
            self.assertIn(move.payment_state, ("paid", "in_payment"))
            self.assertEqual(move.l10n_ru_kkm_receipt_ids.operation, "sell")
            self.assertEqual(len(self._send_jobs(trap)), 1)

    def test_synchronous_mode_queues_the_retry_of_a_failed_first_attempt(self):
        self.company.l10n_ru_kkm_async = False
        self.atol.token_ok()
        self.mock.add(responses.POST, f"{self.atol.root}/{GROUP}/sell", status=502, body="Bad gateway")
        with trap_jobs() as trap, freeze_time("2026-11-28 10:00:00"):
            move = self.post_invoice()
            trap.assert_jobs_count(0)
            self.env.flush_all()
            self.env.cr.postcommit.run()
            self.assertEqual(len(self._send_jobs(trap)), 1)
        receipt = move.l10n_ru_kkm_receipt_ids
        receipt.invalidate_recordset()
        self.assertEqual(move.state, "posted")
        self.assertEqual(receipt.state, "unknown")
        self.assertEqual(receipt.next_attempt_at, fields.Datetime.to_datetime("2026-11-28 10:01:00"))

    def test_a_receipt_left_without_a_job_is_queued_again(self):
        self.company.l10n_ru_kkm_async = False
        receipt_class = type(self.receipt_model)
        with trap_jobs() as trap:
            with freeze_time("2026-11-28 10:00:00"):
                move = self.post_invoice()
                self.env.flush_all()
                # The after-commit send crashes: the posting stays, the receipt waits, no job.
                with patch.object(
                    receipt_class, "_l10n_ru_kkm_send", side_effect=RuntimeError("worker died")
                ):
                    self.env.cr.postcommit.run()
            receipt = move.l10n_ru_kkm_receipt_ids
            self.assertEqual(receipt.state, "to_send")
            self.assertEqual(receipt.next_attempt_at, fields.Datetime.to_datetime("2026-11-28 10:00:00"))
            self.assertFalse(self._send_jobs(trap))
            with freeze_time("2026-11-28 10:05:00"), patch.object(polling, "POLL_SPACING", 0.0):
                self.receipt_model._cron_l10n_ru_kkm_poll()
            self.assertFalse(self._send_jobs(trap), "not overdue yet")
            with freeze_time("2026-11-28 10:20:00"), patch.object(polling, "POLL_SPACING", 0.0):
                self.receipt_model._cron_l10n_ru_kkm_poll()
            self.assertEqual(len(self._send_jobs(trap)), 1)
            self.atol.token_ok()
            self.atol.register_ok(uuid="uuid-rescued")
            trap.perform_enqueued_jobs()
        self.assertEqual(move.l10n_ru_kkm_receipt_ids.state, "sent")

    def test_a_refused_status_request_flags_the_receipt_without_failing_it(self):
        self.atol.token_ok()
        self.atol.register_ok(uuid="uuid-kept")
        with trap_jobs() as trap:
            move = self.post_invoice()
            trap.perform_enqueued_jobs()
        receipt = move.l10n_ru_kkm_receipt_ids
        self.assertEqual(receipt.state, "sent")
        # The password changed meanwhile: the token request is refused.
        self.company.sudo().write({"l10n_ru_kkm_atol_token": False})
        self.mock.reset()
        self.mock.add(
            responses.POST,
            f"{self.atol.root}/getToken",
            status=401,
            json={"error": {"code": 12, "text": "Неверный логин или пароль", "type": "system"}},
        )
        receipt._l10n_ru_kkm_fetch_report()
        self.assertEqual(receipt.state, "sent", "the registered receipt is not failed")
        self.assertTrue(receipt.needs_attention)
        self.assertIn("Неверный логин или пароль", move.l10n_ru_kkm_problem)
        self.assertTrue(move.l10n_ru_kkm_failed)

    def test_the_first_status_request_is_made_when_the_result_is_due(self):
        """The pass started at once by the accepted registration waits for the due time (10 s
        here) instead of ending and leaving the receipt to the cron worker's next wake-up."""
        self.atol.token_ok()
        self.atol.register_ok(uuid="uuid-due")
        self.atol.report_done(uuid="uuid-due")
        slept = []
        with (
            freeze_time("2026-11-28 10:00:00") as frozen,
            patch.object(polling, "FIRST_POLL_AFTER", timedelta(seconds=10)),
            patch.object(polling, "WAIT_AHEAD", 15.0),
            patch.object(polling, "POLL_SPACING", 0.0),
        ):
            with trap_jobs() as trap:
                move = self.post_invoice()
                trap.perform_enqueued_jobs()
            receipt = move.l10n_ru_kkm_receipt_ids
            self.assertEqual(receipt.state, "sent")
            self.assertEqual(receipt.next_poll_at, fields.Datetime.to_datetime("2026-11-28 10:00:10"))

            def sleep(seconds):
                slept.append(seconds)
                frozen.tick(timedelta(seconds=seconds))

            with patch.object(polling.time, "sleep", sleep):
                self.receipt_model._cron_l10n_ru_kkm_poll()
        self.assertEqual(slept, [10.0], "one wait, until the result was due")
        self.assertEqual((receipt.state, receipt.poll_count), ("done", 1))
        self.assertEqual(receipt.last_poll_at, fields.Datetime.to_datetime("2026-11-28 10:00:10"))

    def test_a_batch_of_status_requests_costs_a_few_queries_per_receipt(self):
        """The batch path (docs/architecture.rst, "Speed and scale"): one search, one lock,
        one INSERT of the exchanges, writes and chatter notes grouped; at most 5 queries per
        receipt for ten receipts brought to done (bench/README.rst has the figures)."""
        self.atol.token_ok()
        receipts = self.receipt_model
        for number in range(10):  # answered in this order, one each
            self.atol.register_ok(uuid=f"uuid-{number}")
            self.atol.report_done(uuid=f"uuid-{number}")
        with trap_jobs() as trap:
            for number in range(10):
                receipts |= self.post_invoice(amounts=(100.0 + number,)).l10n_ru_kkm_receipt_ids
            trap.perform_enqueued_jobs()
        self.assertEqual(len(set(receipts.mapped("vendor_uuid"))), 10)
        self.assertEqual(set(receipts.mapped("state")), {"sent"})
        self.env.flush_all()
        self.env.invalidate_all()
        with patch.object(polling, "POLL_SPACING", 0.0), self.assertQueryCount(50):
            self.receipt_model._cron_l10n_ru_kkm_poll()
            self.env.flush_all()
        self.assertEqual(set(receipts.mapped("state")), {"done"})
