"""Never wrong: a receipt only for what the tax office should see, never from stale data, only
by those allowed to, and always in a state that tells the truth (issue "Never wrong")."""

from unittest.mock import patch

from odoo.exceptions import AccessError, UserError
from odoo.modules.neutralize import get_neutralization_queries
from odoo.tests import tagged

from odoo.addons.queue_job.tests.common import trap_jobs

from ..models.l10n_ru_kkm_receipt import polling
from .common import DONE_PAYLOAD, GROUP, KkmTestCommon, make_checkonline_certificate


class NeverWrongCommon(KkmTestCommon):
    def _pay(self, move):
        self.env["account.payment.register"].with_context(
            active_model="account.move", active_ids=move.ids
        ).create({})._create_payments()
        self.assertIn(move.payment_state, ("paid", "in_payment"))

    def _send_jobs(self, receipt):
        jobs = (
            self.env["queue.job"]
            .sudo()
            .search([("method_name", "=", "_l10n_ru_kkm_job_send"), ("state", "in", ("pending", "enqueued"))])
        )
        return jobs.filtered(lambda job: job.records == receipt)


@tagged("post_install", "-at_install")
class TestOnlyWhatShouldBeRegistered(NeverWrongCommon):
    """1. One gate, whoever calls."""

    def test_a_vendor_bill_never_becomes_a_receipt_whoever_calls(self):
        bill = self.init_invoice("in_invoice", amounts=[1200.0], post=True)
        self.assertFalse(bill.l10n_ru_kkm_receipt_ids)
        self.assertFalse(bill.l10n_ru_kkm_show_send)
        with self.assertRaisesRegex(UserError, "not a customer invoice"):
            bill.action_l10n_ru_kkm_send()
        receipts = self.env["l10n_ru_kkm.receipt"]
        # Even a direct call of the creation, as an RPC-reachable caller could make, creates nothing.
        created = receipts._l10n_ru_kkm_create_prepared([receipts._l10n_ru_kkm_values(bill, "sell_refund")])
        self.assertFalse(created)
        self.assertFalse(bill.l10n_ru_kkm_receipt_ids)
        self.assertFalse(self.mock.calls)

    def test_a_draft_or_cancelled_invoice_never_becomes_a_receipt(self):
        self.company.l10n_ru_kkm_enabled = False
        draft = self.init_invoice("out_invoice", amounts=[1200.0])
        cancelled = self.init_invoice("out_invoice", amounts=[1300.0])
        cancelled.button_cancel()
        self.company.l10n_ru_kkm_enabled = True
        cli = self.env["l10n_ru_kkm.cli"]
        for move in draft | cancelled:
            with self.subTest(state=move.state):
                self.assertFalse(move.l10n_ru_kkm_show_send)
                with self.assertRaisesRegex(UserError, "not posted"):
                    move.action_l10n_ru_kkm_send()
                code, text = cli._run({"command": "send", "invoice": str(move.id)})
                self.assertEqual(code, 1)
                self.assertIn("not posted", text)
                self.assertFalse(move.l10n_ru_kkm_receipt_ids)
                wizard = (
                    self.env["l10n_ru_kkm.correction.wizard"]
                    .with_context(active_model="account.move", active_id=move.id)
                    .create({"base_number": "1"})
                )
                with self.assertRaisesRegex(UserError, "not posted"):
                    wizard.action_register()
        self.assertFalse(self.mock.calls)

    def test_when_paid_an_unpaid_invoice_gets_no_receipt_and_no_send_button(self):
        self.company.l10n_ru_kkm_trigger = "paid"
        move = self.post_invoice(amounts=(900.0,))
        self.assertFalse(move.l10n_ru_kkm_receipt_ids)
        self.assertFalse(move.l10n_ru_kkm_show_send, "Send receipt is not offered before the payment")
        with self.assertRaisesRegex(UserError, "not paid yet"):
            move.action_l10n_ru_kkm_send()
        code, text = self.env["l10n_ru_kkm.cli"]._run({"command": "send", "invoice": move.name})
        self.assertEqual((code, "not paid yet" in text), (1, True))
        self.assertFalse(move.l10n_ru_kkm_receipt_ids)
        with trap_jobs():
            self._pay(move)
        self.assertEqual(move.l10n_ru_kkm_receipt_ids.mapped("operation"), ["sell"])

    def test_a_disabled_company_registers_nothing(self):
        self.company.l10n_ru_kkm_enabled = False
        move = self.post_invoice()
        with self.assertRaisesRegex(UserError, "not enabled"):
            move.action_l10n_ru_kkm_send()
        self.assertFalse(move.l10n_ru_kkm_receipt_ids)

    def test_a_credit_note_of_a_sale_never_registered_refunds_nothing(self):
        self.company.l10n_ru_kkm_trigger = "paid"
        move = self.post_invoice(amounts=(700.0,))
        reversal = (
            self.env["account.move.reversal"]
            .with_context(active_model="account.move", active_ids=move.ids)
            .create({"journal_id": move.journal_id.id, "reason": "cancelled order"})
        )
        reversal.modify_moves()  # the credit note cancels the invoice (reconciled with it)
        credit_note = move.reversal_move_ids
        self.assertEqual(move.payment_state, "reversed")
        self.assertFalse((move | credit_note).l10n_ru_kkm_receipt_ids, "no money moved, nothing registered")
        with self.assertRaisesRegex(UserError, "never registered"):
            credit_note.action_l10n_ru_kkm_send()


@tagged("post_install", "-at_install")
class TestNeverStaleData(NeverWrongCommon):
    """2. Reset and cancel, in-flight marks, the document the service holds."""

    def test_reset_edit_repost_never_registers_the_old_request(self):
        move = self.post_invoice(amounts=(1200.0,))
        old = move.l10n_ru_kkm_receipt_ids
        self.assertEqual(old.state, "to_send")
        move.button_draft()
        self.assertEqual(old.state, "cancelled", "never sent: cancelled with the reset")
        self.assertIn("Cancelled with the reset", old.message_ids[:1].body)
        move.invoice_line_ids.price_unit = 1500.0
        move.action_post()
        new = move.l10n_ru_kkm_receipt_ids - old
        self.assertEqual(len(new), 1)
        self.assertEqual(new.request_payload["receipt"]["total"], 1500.0)
        self.atol.token_ok()
        self.atol.register_ok(uuid="uuid-new")
        (old | new)._l10n_ru_kkm_send()
        self.assertEqual([sent["receipt"]["total"] for sent in self.atol.registered], [1500.0])
        self.assertEqual((old.state, new.state), ("cancelled", "sent"))
        self.assertEqual(move.l10n_ru_kkm_state, "sent")

    def test_cancel_of_a_refused_receipt_keeps_it_in_the_history(self):
        self.atol.token_ok()
        self.atol.register_error(32, "Ошибка валидации")
        move = self.post_invoice()
        receipt = move.l10n_ru_kkm_receipt_ids
        receipt._l10n_ru_kkm_send()
        self.assertEqual(receipt.state, "error")
        self.assertTrue(move.show_reset_to_draft_button)
        move.button_cancel()
        self.assertEqual((move.state, receipt.state), ("cancel", "cancelled"))

    def test_reset_is_refused_while_the_service_holds_or_may_hold_the_receipt(self):
        self.atol.token_ok()
        self.atol.register_ok(uuid="uuid-held")
        for case in ("sent", "unknown", "in flight"):
            with self.subTest(case=case):
                move = self.post_invoice()
                receipt = move.l10n_ru_kkm_receipt_ids
                if case == "sent":
                    receipt._l10n_ru_kkm_send()
                elif case == "unknown":
                    receipt._l10n_ru_kkm_set_state("unknown")
                else:
                    # A worker marked the request in flight, then died before recording anything.
                    receipt._l10n_ru_kkm_mark_in_flight()
                    self.assertEqual(receipt.state, "to_send")
                self.assertFalse(move.show_reset_to_draft_button)
                for button in (move.button_draft, move.button_cancel):
                    with self.assertRaisesRegex(UserError, "credit note"):
                        button()
                self.assertEqual(move.state, "posted")
                self.assertNotEqual(receipt.state, "cancelled")

    def test_an_interrupted_send_reads_as_unknown_within_one_poll_and_is_asked_first(self):
        move = self.post_invoice()
        receipt = move.l10n_ru_kkm_receipt_ids
        receipt._l10n_ru_kkm_mark_in_flight()  # the worker died after this, before any answer
        with trap_jobs() as trap, patch.object(polling, "POLL_SPACING", 0.0):
            self.env["l10n_ru_kkm.receipt"]._cron_l10n_ru_kkm_poll()
            self.assertEqual(receipt.state, "unknown")
            self.assertTrue(receipt.needs_attention)
            self.assertTrue(move.l10n_ru_kkm_failed, "visible on the invoice")
            self.assertEqual(len(trap.enqueued_jobs), 1)
            # Asked again under the same id: ATOL answers that it holds it (33), no new document.
            self.atol.token_ok()
            self.atol.register_error(33, "Документ с external_id уже существует", uuid="uuid-33")
            trap.perform_enqueued_jobs()
        self.assertEqual(receipt.state, "sent")
        self.assertEqual(receipt.vendor_uuid, "uuid-33")

    def test_sending_refuses_a_document_that_is_no_longer_posted(self):
        move = self.post_invoice()
        receipt = move.l10n_ru_kkm_receipt_ids
        move.sudo().write({"state": "draft"})  # as a careless data fix would leave it
        with self.assertRaisesRegex(UserError, "not posted"):
            receipt.action_l10n_ru_kkm_send_now()
        receipt._l10n_ru_kkm_send()
        self.assertEqual(receipt.state, "error")
        self.assertIn("not posted", receipt.error_message)
        self.assertFalse(self.mock.calls, "nothing left")

    def test_a_repeated_id_is_done_only_if_the_service_holds_this_request(self):
        self.atol.token_ok()
        self.atol.register_error(33, "Документ с external_id уже существует", uuid="uuid-other")
        receipt = self.post_invoice(amounts=(1200.0,)).l10n_ru_kkm_receipt_ids
        receipt._l10n_ru_kkm_send()
        self.assertEqual(receipt.state, "sent")
        # The document held under this id is another one: 999.00 instead of 1,200.00.
        self.atol.report_done(uuid="uuid-other", payload=dict(DONE_PAYLOAD, total=999.0))
        receipt._l10n_ru_kkm_fetch_report()
        self.assertEqual(receipt.state, "unknown")
        self.assertTrue(receipt.needs_decision)
        self.assertIn("999.00", receipt.problem_text)
        self.assertFalse(receipt.fiscal_document_number, "no fiscal data is taken from another document")
        # Nothing more is sent or asked on its own until a manager decides.
        with patch.object(polling, "POLL_SPACING", 0.0):
            self.env["l10n_ru_kkm.receipt"]._cron_l10n_ru_kkm_poll()
        receipt._l10n_ru_kkm_send()
        self.assertEqual(len(self.atol.calls_to("report/")), 1)
        self.assertEqual(len(self.atol.calls_to(f"{GROUP}/sell")), 1)

    def test_a_repeated_id_holding_this_request_is_done(self):
        self.atol.token_ok()
        self.atol.register_error(33, "Документ с external_id уже существует", uuid="uuid-same")
        receipt = self.post_invoice(amounts=(1200.0,)).l10n_ru_kkm_receipt_ids
        receipt._l10n_ru_kkm_send()
        self.atol.report_done(uuid="uuid-same", payload=dict(DONE_PAYLOAD, total=1200))
        receipt._l10n_ru_kkm_fetch_report()
        self.assertEqual((receipt.state, receipt.fiscal_document_number), ("done", 133))


@tagged("post_install", "-at_install")
class TestRightsInPython(NeverWrongCommon):
    """3. What a button needs, an RPC call needs too."""

    def setUp(self):
        super().setUp()
        self.auditor = self.company_user("kkm_auditor", "account.group_account_readonly")
        self.accountant = self.company_user("kkm_accountant_rights")
        self.manager = self.company_user("kkm_manager_rights", "account.group_account_manager")

    def _done_receipt(self):
        return self.register_done(self.post_invoice().l10n_ru_kkm_receipt_ids, "uuid-r")

    def test_a_read_only_auditor_can_call_none_of_them(self):
        self.assertFalse(self.auditor.has_group("l10n_ru_kkm.group_kkm_user"))
        move = self.post_invoice()
        receipt = move.l10n_ru_kkm_receipt_ids
        jobs = self._send_jobs(receipt)
        calls = {
            "invoice: send": move.with_user(self.auditor).action_l10n_ru_kkm_send,
            "invoice: check status": move.with_user(self.auditor).action_l10n_ru_kkm_check_status,
            "invoice: resend": move.with_user(self.auditor).action_l10n_ru_kkm_resend,
            "receipt: send now": receipt.with_user(self.auditor).action_l10n_ru_kkm_send_now,
            "receipt: check status": receipt.with_user(self.auditor).action_l10n_ru_kkm_check_status,
            "receipt: resend": receipt.with_user(self.auditor).action_l10n_ru_kkm_resend,
        }
        for name, call in calls.items():
            with self.subTest(call=name), self.assertRaises(AccessError):
                call()
        self.assertEqual(receipt.state, "to_send")
        self.assertEqual(self._send_jobs(receipt), jobs, "nothing queued")

    def test_users_cannot_do_what_managers_do(self):
        receipt = self._done_receipt()
        user_receipt = receipt.with_user(self.accountant)
        with self.assertRaises(AccessError):
            user_receipt._l10n_ru_kkm_send_under_new_id()
        # Wizards are refused at creation (access rules) and at their action (Python).
        for model in ("l10n_ru_kkm.receipt.resell.wizard", "l10n_ru_kkm.correction.wizard"):
            with self.subTest(model=model), self.assertRaises(AccessError):
                self.env[model].with_user(self.accountant).create({})
        wizard = (
            self.env["l10n_ru_kkm.receipt.resell.wizard"]
            .with_context(active_model="l10n_ru_kkm.receipt", active_ids=receipt.ids)
            .create({})
        )
        with self.assertRaises(AccessError):
            wizard.with_user(self.accountant).action_resell()
        self.assertFalse(receipt.refund_receipt_ids)
        with trap_jobs():
            wizard.with_user(self.manager).action_resell()
        self.assertEqual(len(receipt.refund_receipt_ids), 1)

    def test_repeated_send_now_queues_one_job_per_receipt(self):
        receipt = self.post_invoice().l10n_ru_kkm_receipt_ids
        self.assertEqual(len(self._send_jobs(receipt)), 1, "the posting queued one")
        user_receipt = receipt.with_user(self.accountant)
        for _ in range(3):
            user_receipt.action_l10n_ru_kkm_send_now()
            receipt.move_id.with_user(self.accountant).action_l10n_ru_kkm_send()
        self.assertEqual(len(self._send_jobs(receipt)), 1)

    def test_send_now_brings_a_later_retry_forward(self):
        self.atol.token_ok()
        self.atol.mock.add("POST", f"{self.atol.root}/{GROUP}/sell", status=502, body="Bad gateway")
        receipt = self.post_invoice().l10n_ru_kkm_receipt_ids
        self._send_jobs(receipt).unlink()
        receipt._l10n_ru_kkm_send()  # a 502: a retry is queued for later
        job = self._send_jobs(receipt)
        self.assertEqual(len(job), 1)
        self.assertTrue(job.eta)
        receipt.with_user(self.accountant).action_l10n_ru_kkm_send_now()
        self.assertEqual(self._send_jobs(receipt), job)
        self.assertFalse(job.eta, "due now")


@tagged("post_install", "-at_install")
class TestUnexpectedFailures(NeverWrongCommon):
    """4. No exception escapes a job or the cron; the receipt is flagged at once."""

    def test_a_job_that_fails_while_handling_the_answer_leaves_the_receipt_unknown_and_flagged(self):
        self.atol.token_ok()
        self.atol.register_ok(uuid="uuid-crash")
        receipt = self.post_invoice().l10n_ru_kkm_receipt_ids
        with (
            patch.object(type(receipt), "_l10n_ru_kkm_apply", side_effect=RuntimeError("boom")),
            trap_jobs() as trap,
        ):
            receipt._l10n_ru_kkm_job_send()  # no exception escapes the job
            self.assertEqual(len(trap.enqueued_jobs), 1, "tried again later")
        self.assertEqual(receipt.state, "unknown", "the request had left: its outcome is unknown")
        self.assertTrue(receipt.needs_attention)
        self.assertIn("boom", receipt.error_message)
        self.assertTrue(receipt.move_id.l10n_ru_kkm_failed)

    def test_a_failing_status_request_is_counted_and_flagged(self):
        self.atol.token_ok()
        self.atol.register_ok(uuid="uuid-poll")
        receipt = self.post_invoice().l10n_ru_kkm_receipt_ids
        receipt._l10n_ru_kkm_send()
        with (
            patch.object(type(receipt), "_l10n_ru_kkm_apply", side_effect=RuntimeError("bad poll")),
            patch.object(polling, "POLL_SPACING", 0.0),
        ):
            self.atol.report_done(uuid="uuid-poll")
            self.env["l10n_ru_kkm.receipt"]._cron_l10n_ru_kkm_poll()
        self.assertEqual(receipt.poll_count, 1, "the attempt counts although it failed")
        self.assertEqual(receipt.state, "sent")
        self.assertTrue(receipt.needs_attention)
        self.assertIn("bad poll", receipt.error_message)


@tagged("post_install", "-at_install")
class TestCopiesAndSecrets(NeverWrongCommon):
    """6. Neutralized copies, secrets out of the stored requests and the logs."""

    def test_a_neutralized_copy_cannot_reach_the_tax_office(self):
        certificate = make_checkonline_certificate(type(self), self.company)
        self.company.sudo().write(
            {
                "l10n_ru_kkm_test_mode": False,
                "l10n_ru_kkm_atol_token": "production-token",
                "l10n_ru_kkm_checkonline_certificate_id": certificate.id,
            }
        )
        self.env.flush_all()
        for query in get_neutralization_queries(["l10n_ru_kkm"]):
            self.env.cr.execute(query)
        self.env.invalidate_all()
        company = self.company.sudo()
        self.assertTrue(certificate.exists())
        self.assertTrue(company.l10n_ru_kkm_test_mode)
        self.assertFalse(company.l10n_ru_kkm_service_url)
        self.assertFalse(company.l10n_ru_kkm_atol_password)
        self.assertFalse(company.l10n_ru_kkm_atol_token)
        self.assertFalse(company.l10n_ru_kkm_checkonline_certificate_id)

    def test_secrets_frozen_by_older_versions_are_removed(self):
        receipt = self.post_invoice().l10n_ru_kkm_receipt_ids
        payload = dict(receipt.request_payload, service={"callback_url": "https://x/cb/id/token"}, Password=7)
        receipt.sudo().request_payload = payload
        self.assertEqual(self.env["l10n_ru_kkm.receipt"]._l10n_ru_kkm_strip_secrets(), 1)
        self.assertNotIn("service", receipt.request_payload)
        self.assertNotIn("Password", receipt.request_payload)
        self.assertEqual(receipt.request_payload["external_id"], receipt.external_id)

    def test_the_cashier_password_is_for_administrators_only(self):
        accountant = self.company_user("kkm_accountant_secret")
        with self.assertRaises(AccessError):
            self.company.with_user(accountant).read(["l10n_ru_kkm_checkonline_password"])
