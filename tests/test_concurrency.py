"""Exactly once under real concurrency (docs/architecture.rst, "Exactly once"): committed data, one cursor per worker.

These tests cannot run in Odoo's TransactionCase: there everything happens in one uncommitted
transaction and the registry hands out cursors that wrap it. Here the set-up is committed, as
in production, so that two workers (threads with cursors of their own) really see the same
receipt and really compete for it; what they commit is cleaned up afterwards.
"""

import itertools
import threading
import time
from contextlib import contextmanager
from unittest.mock import patch

import psycopg2.errors

from odoo import SUPERUSER_ID, Command, api
from odoo.exceptions import UserError
from odoo.modules.registry import DummyRLock, Registry
from odoo.tests import test_cursor
from odoo.tests.common import get_db_name
from odoo.tools import mute_logger

from odoo.addons.queue_job.tests.common import trap_jobs

from ..models.l10n_ru_kkm_receipt import polling
from ..sandbox.server import Sandbox
from .common import KkmCase, results_due_at_once
from .sandbox_common import SALE_DATE, sandbox_company_values

COMPANY_NAME = "l10n_ru_kkm concurrency tests"
THREAD_TIMEOUT = 30


class WorkerDied(Exception):
    """Raised inside a worker's transaction to simulate the process dying there."""


class TestConcurrentSending(KkmCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        results_due_at_once(cls)
        # odoo-bin runs the tests holding the registry lock, which every new Environment asks
        # for: the workers' threads would wait for ever. The registry is loaded; as Odoo's own
        # test mode does, the lock is not needed here.
        cls.enterClassContext(patch.object(Registry, "_lock", DummyRLock()))
        cls.registry = Registry(get_db_name())
        with cls.registry.cursor() as cr:
            if isinstance(cr, test_cursor.TestCursor):
                raise AssertionError("the registry is in test mode: these tests need real transactions")
        cls.sandbox = Sandbox(seed=11, done_delay=0, quiet=True).start()
        cls.addClassCleanup(cls.sandbox.stop)
        with cls.env_cursor() as env:
            company, partner, tax = cls._fixtures(env)
            cls.company_id, cls.partner_id, cls.tax_id = company.id, partner.id, tax.id
        cls.addClassCleanup(cls._disable_company)
        cls._purge()  # what an interrupted earlier run may have left

    @classmethod
    @contextmanager
    def env_cursor(cls):
        """A superuser environment on a new cursor, committed at the end of the block."""
        with cls.registry.cursor() as cr:
            yield api.Environment(cr, SUPERUSER_ID, {})

    @classmethod
    def _fixtures(cls, env):
        """The company (created once per database, then reused: a company with a chart of
        accounts cannot be deleted), its customer and its VAT 22 % tax."""
        company = env["res.company"].search([("name", "=", COMPANY_NAME)], limit=1)
        rub = env.ref("base.RUB")
        if not company:
            rub.active = True
            company = env["res.company"].create(
                {"name": COMPANY_NAME, "currency_id": rub.id, "country_id": env.ref("base.ru").id}
            )
            env["account.chart.template"].try_loading("generic_coa", company, install_demo=False)
            company.currency_id = rub
        values = sandbox_company_values(cls.sandbox)
        values.update(l10n_ru_kkm_async=True, l10n_ru_kkm_trigger="post")
        company.write(values)
        env = env(context={"allowed_company_ids": company.ids})
        partner = env["res.partner"].search(
            [("company_id", "=", company.id), ("email", "=", "buyer@example.ru")], limit=1
        ) or env["res.partner"].create(
            {"name": "Concurrency buyer", "email": "buyer@example.ru", "company_id": company.id}
        )
        tax = env["account.tax"].search(
            [("company_id", "=", company.id), ("l10n_ru_kkm_vat_code", "=", "vat22")], limit=1
        ) or env["account.tax"].create(
            {
                "name": "НДС 22% (incl., concurrency tests)",
                "amount": 22,
                "amount_type": "percent",
                "price_include_override": "tax_included",
                "type_tax_use": "sale",
                "company_id": company.id,
                "l10n_ru_kkm_vat_code": "vat22",
            }
        )
        return company, partner, tax

    @classmethod
    def _disable_company(cls):
        with cls.env_cursor() as env:
            env["res.company"].browse(cls.company_id).write(
                {
                    "l10n_ru_kkm_enabled": False,
                    "l10n_ru_kkm_service_url": False,
                    "l10n_ru_kkm_atol_token": False,
                    "l10n_ru_kkm_atol_token_expiry": False,
                }
            )

    def setUp(self):
        super().setUp()
        self.sandbox.reset()
        jobs = self.enterContext(trap_jobs())
        self.receipt_id = self._post_invoice()
        self.assertEqual(
            [job.method_name for job in jobs.enqueued_jobs],
            ["_l10n_ru_kkm_job_send"],
            "posting queued the send (trapped: no job runner may take it during the test)",
        )

    def _post_invoice(self):
        """Post one invoice and commit: the receipt and its frozen request now exist for everyone."""
        self.addCleanup(self._purge)
        with self.env_cursor() as env:
            env = env(context={"allowed_company_ids": [self.company_id]})
            # The sandbox was reset: it forgot the token cached on the company.
            env["res.company"].browse(self.company_id).write(
                {"l10n_ru_kkm_atol_token": False, "l10n_ru_kkm_atol_token_expiry": False}
            )
            move = env["account.move"].create(
                {
                    "move_type": "out_invoice",
                    "partner_id": self.partner_id,
                    "invoice_date": SALE_DATE,
                    "invoice_line_ids": [
                        Command.create(
                            {
                                "name": "Concurrency item",
                                "quantity": 1,
                                "price_unit": 1500.0,
                                "tax_ids": [Command.set([self.tax_id])],
                            }
                        )
                    ],
                }
            )
            move.action_post()
            receipt = move.l10n_ru_kkm_receipt_ids
            self.assertEqual(receipt.state, "to_send", receipt.error_message)
            self.assertTrue(receipt.request_payload)
            receipt_id = receipt.id
        return receipt_id

    @classmethod
    def _purge(cls):
        """Remove the receipts, jobs and invoices of the test company (it serves these tests
        only), so that nothing is left pending for the poll cron of other tests."""
        with cls.env_cursor() as env:
            receipts = env["l10n_ru_kkm.receipt"].search([("company_id", "=", cls.company_id)])
            jobs = env["queue.job"].search([("model_name", "=", "l10n_ru_kkm.receipt")])
            jobs.filtered(lambda job: set(job.records.ids) & set(receipts.ids)).unlink()
            receipts.unlink()
            moves = env["account.move"].search([("company_id", "=", cls.company_id)])
            moves.filtered(lambda move: move.state != "draft").button_draft()
            moves.unlink()

    def _receipt(self, env):
        return env["l10n_ru_kkm.receipt"].browse(self.receipt_id)

    def _state(self):
        with self.env_cursor() as env:
            receipt = self._receipt(env)
            return receipt.state, receipt.vendor_uuid

    def _run_threads(self, *targets):
        """Run each target in a thread of its own; returns their results or exceptions."""
        results = [None] * len(targets)

        def run(index, target):
            try:
                results[index] = target()
            except Exception as error:
                results[index] = error

        threads = [
            threading.Thread(target=run, args=(index, target), name=f"kkm-worker-{index}")
            for index, target in enumerate(targets)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(THREAD_TIMEOUT)
            self.assertFalse(thread.is_alive(), f"{thread.name} still running")
        return results

    def _ledger_row(self):
        ledger = self.sandbox.ledger()
        self.assertEqual(ledger["count"], 1, ledger)
        self.assertEqual(ledger["duplicates_by_id"]["count"], 0)
        self.assertEqual(ledger["duplicates_by_content"]["count"], 0)
        return ledger["documents"][0]

    def _register_attempts(self, env):
        return self._receipt(env).attempt_ids.filtered(lambda a: a.action == "register").sorted("id")

    # -- tests -----------------------------------------------------------------------

    def test_two_workers_sending_the_same_receipt_concurrently_register_it_once(self):
        # The registration takes 2 s: the second worker arrives while the first holds the receipt.
        self.sandbox.set_faults({"latency": {"next": 2, "seconds": 2.0, "targets": ["register"]}})
        both_read = threading.Barrier(2, timeout=THREAD_TIMEOUT)

        def worker():
            with self.env_cursor() as env:
                receipt = self._receipt(env)
                seen = receipt.state  # both transactions see the committed, unsent receipt
                both_read.wait()
                started = time.monotonic()
                receipt._l10n_ru_kkm_send()
                return seen, receipt.state, time.monotonic() - started

        results = self._run_threads(worker, worker)
        for result in results:
            self.assertIsInstance(result, tuple, f"a worker failed: {result!r}")
        self.assertEqual([seen for seen, _state, _duration in results], ["to_send", "to_send"])
        outcomes = sorted((state, duration > 1.9) for _seen, state, duration in results)
        # One worker registered (slowly); the other found the receipt locked and skipped it at once.
        self.assertEqual(outcomes, [("sent", True), ("to_send", False)], results)

        row = self._ledger_row()
        self.assertEqual(row["submitted"], 1, "one registration request reached the service")
        self.assertEqual(self.sandbox.ledger()["submissions"], 1)
        self.assertEqual(self._state(), ("sent", row["uuid"]))
        with self.env_cursor() as env:
            self.assertEqual(len(self._register_attempts(env)), 1)
            # The result is fetched as usual; the receipt ends done.
            self._receipt(env)._l10n_ru_kkm_fetch_report()
        self.assertEqual(self._state(), ("done", row["uuid"]))

    @mute_logger("odoo.sql_db")  # the late worker's refused lock is logged as a "bad query"
    def test_worker_with_a_snapshot_older_than_the_registration_does_not_register_again(self):
        snapshot_taken, first_committed = threading.Event(), threading.Event()

        def late_worker():
            with self.env_cursor() as env:
                receipt = self._receipt(env)
                seen = receipt.state
                snapshot_taken.set()
                self.assertTrue(first_committed.wait(THREAD_TIMEOUT))
                receipt._l10n_ru_kkm_send()
                return seen, receipt.state

        def first_worker():
            self.assertTrue(snapshot_taken.wait(THREAD_TIMEOUT))
            with self.env_cursor() as env:
                self._receipt(env)._l10n_ru_kkm_send()
            first_committed.set()

        late, first = self._run_threads(late_worker, first_worker)
        self.assertIsNone(first)
        # The late worker still believes the receipt unsent; PostgreSQL (REPEATABLE READ) refuses
        # to lock a row changed since its snapshot. The job runner retries such a job later.
        self.assertIsInstance(late, psycopg2.errors.SerializationFailure, repr(late))
        self.assertEqual(self.sandbox.ledger()["submissions"], 1)
        with self.env_cursor() as env:  # the retry of the late worker's job: nothing to do
            receipt = self._receipt(env)
            receipt._l10n_ru_kkm_job_send()
            self.assertEqual(receipt.state, "sent")
        row = self._ledger_row()
        self.assertEqual(row["submitted"], 1)

    def _die_after_register(self):
        """A worker that registers, then dies before its transaction commits."""

        def worker():
            with self.env_cursor() as env:
                receipt = self._receipt(env)
                receipt._l10n_ru_kkm_send()
                state = receipt.state
                raise WorkerDied(state)

        (result,) = self._run_threads(worker)
        self.assertIsInstance(result, WorkerDied, repr(result))
        return result.args[0]

    def _recover_and_check(self):
        """After the crash the receipt reads as unknown, blocks the reset, and is asked about
        first (same external_id): one document, done."""
        with self.env_cursor() as env:
            receipt = self._receipt(env)
            external_id = receipt.external_id
            self.assertEqual(
                receipt.state, "to_send", "nothing of the dead worker's transaction was committed"
            )
            self.assertFalse(receipt.vendor_uuid)
            dead_attempts = [attempt.http_status for attempt in self._register_attempts(env)]
            self.assertEqual(len(dead_attempts), 1, "the exchange log survived the rollback")
            self.assertTrue(self._register_attempts(env).may_hold, "marked in flight before it left")
            with self.assertRaisesRegex(UserError, "credit note"):
                receipt.move_id.button_draft()
        self.assertEqual(self.sandbox.ledger()["count"], 1, "the service did register it")

        # The next poll cycle finds it, whatever the job runner does.
        with self.env_cursor() as env, trap_jobs() as trap:
            env["l10n_ru_kkm.receipt"]._cron_l10n_ru_kkm_poll()
            receipt = self._receipt(env)
            self.assertEqual(receipt.state, "unknown")
            self.assertTrue(receipt.needs_attention)
            self.assertEqual(len(trap.enqueued_jobs), 1)

        with self.env_cursor() as env:
            self._receipt(env)._l10n_ru_kkm_job_send()
        with self.env_cursor() as env:
            receipt = self._receipt(env)
            self.assertEqual(receipt.state, "sent")
            self.assertEqual(receipt.external_id, external_id)
            self.assertEqual(self._register_attempts(env)[-1].error_code, "33")
            receipt._l10n_ru_kkm_fetch_report()
            self.assertEqual(receipt.state, "done")
            self.assertFalse(receipt.needs_attention)
            row = self._ledger_row()
            self.assertEqual(row["uuid"], receipt.vendor_uuid)
            self.assertEqual(row["external_id"], external_id)
            self.assertEqual(row["fiscal"]["fiscal_document_number"], receipt.fiscal_document_number)
        self.assertEqual(row["submitted"], 2)
        return dead_attempts

    def test_crash_after_a_lost_answer_ends_registered_once_after_recovery(self):
        self.sandbox.set_faults({"lost_answer": {"next": 1, "targets": ["register"]}})
        self.assertEqual(self._die_after_register(), "unknown")
        dead_attempts = self._recover_and_check()
        self.assertEqual(dead_attempts, [0], "the dead worker never got an answer")

    def test_crash_after_the_answer_and_before_the_commit_ends_registered_once_after_recovery(self):
        self.assertEqual(self._die_after_register(), "sent")
        dead_attempts = self._recover_and_check()
        self.assertEqual(dead_attempts, [200])

    # -- locks held by a worker that is sending ----------------------------------------------

    def _hold_receipt(self, seconds, state=None):
        """A worker that locks the receipt as a send job does, keeps it ``seconds``, then rolls back."""
        locked, done = threading.Event(), threading.Event()

        def worker():
            with self.registry.cursor() as cr:
                env = api.Environment(cr, SUPERUSER_ID, {})
                receipt = self._receipt(env)
                self.assertTrue(receipt.try_lock_for_update(allow_referencing=True))
                locked.set()
                done.wait(seconds)
                cr.rollback()

        thread = threading.Thread(target=worker, name="kkm-holder")
        thread.start()
        self.assertTrue(locked.wait(THREAD_TIMEOUT))
        return thread, done

    def test_reset_is_refused_while_the_receipt_is_being_sent(self):
        thread, done = self._hold_receipt(THREAD_TIMEOUT)
        try:
            started = time.monotonic()
            with self.env_cursor() as env:
                move = self._receipt(env).move_id
                with self.assertRaisesRegex(UserError, "being sent"):
                    move.button_draft()
            self.assertLess(time.monotonic() - started, 5, "refused at once, not after the send")
        finally:
            done.set()
            thread.join(THREAD_TIMEOUT)
        self.assertEqual(self._state(), ("to_send", False))
        # Once the worker let go, the receipt that never left is cancelled with the reset.
        with self.env_cursor() as env:
            move = self._receipt(env).move_id
            move.button_draft()
            self.assertEqual((move.state, self._receipt(env).state), ("draft", "cancelled"))

    def test_the_poll_cron_skips_a_receipt_a_job_holds(self):
        with self.env_cursor() as env:
            self._receipt(env)._l10n_ru_kkm_send()
            self.assertEqual(self._receipt(env).state, "sent")
        thread, done = self._hold_receipt(THREAD_TIMEOUT)
        try:
            started = time.monotonic()
            with self.env_cursor() as env:
                env["l10n_ru_kkm.receipt"]._cron_l10n_ru_kkm_poll()
            self.assertLess(time.monotonic() - started, 5, "the cron did not wait for the job")
        finally:
            done.set()
            thread.join(THREAD_TIMEOUT)
        with self.env_cursor() as env:
            receipt = self._receipt(env)
            self.assertEqual((receipt.state, receipt.poll_count), ("sent", 0), "nothing written")
            self.assertFalse(receipt.attempt_ids.filtered(lambda a: a.action == "report"))

    # -- speed and scale (docs/architecture.rst, "Speed and scale") ---------------------------

    def _post_and_send(self, count):
        """``count`` more receipts, sent: with the one of setUp, all wait for their result."""
        ids = [self.receipt_id] + [self._post_invoice() for _ in range(count)]
        with self.env_cursor() as env:
            env["l10n_ru_kkm.receipt"].browse(ids)._l10n_ru_kkm_send()
            self.assertEqual(set(env["l10n_ru_kkm.receipt"].browse(ids).mapped("state")), {"sent"})
        return ids

    def test_status_requests_keep_the_pace_across_workers_and_cron_calls(self):
        """Two cron workers, each calling the poll cron twice with small batches: the service
        never sees two status requests of one group closer than the pace allows."""
        ids = self._post_and_send(7)
        self.sandbox.report_log.clear()
        spacing, tolerance = 0.5, 0.1

        def cron_worker():
            for _ in range(2):
                with self.env_cursor() as env:
                    env["l10n_ru_kkm.receipt"]._cron_l10n_ru_kkm_poll(batch_size=2)

        with (
            patch.object(polling, "POLL_SPACING", spacing),
            patch.object(polling, "LATE_TOLERANCE", tolerance),
        ):
            results = self._run_threads(cron_worker, cron_worker)
        self.assertEqual(results, [None, None], "both workers ended normally")
        times = [moment for moment, _group in self.sandbox.report_requests()]
        self.assertEqual(len(times), len(ids), "each receipt asked once")
        gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
        self.assertGreaterEqual(min(gaps), spacing - tolerance - 0.05, gaps)
        with self.env_cursor() as env:
            self.assertEqual(set(env["l10n_ru_kkm.receipt"].browse(ids).mapped("state")), {"done"})

    def test_the_token_is_fetched_once_for_all_workers(self):
        """Two workers needing a token at the same moment: one asks ATOL, the other waits for
        it and uses it; neither fails (no serialization error on the register's row)."""
        second = self._post_invoice()
        self.sandbox.set_faults({"latency": {"next": 1, "seconds": 1.0, "targets": ["get_token"]}})
        both_ready = threading.Barrier(2, timeout=THREAD_TIMEOUT)

        def worker(receipt_id):
            def send():
                with self.env_cursor() as env:
                    receipt = env["l10n_ru_kkm.receipt"].browse(receipt_id)
                    receipt.state  # noqa: B018 (the transaction's snapshot starts before the other's token)
                    both_ready.wait()
                    receipt._l10n_ru_kkm_send()
                    return receipt.state

            return send

        self.assertEqual(self._run_threads(worker(self.receipt_id), worker(second)), ["sent", "sent"])
        with self.env_cursor() as env:
            tokens = env["l10n_ru_kkm.receipt.attempt"].search(
                [("receipt_id", "in", [self.receipt_id, second]), ("action", "=", "token")]
            )
            self.assertEqual(len(tokens), 1, "one token request for both workers")
