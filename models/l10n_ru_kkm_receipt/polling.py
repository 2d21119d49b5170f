"""How a sent receipt learns its result: the poll cron (within ATOL's pace, locking before it
writes), a job queued by the service's callback, and the recovery of sends that were
interrupted or whose job was lost (docs/architecture.rst, "The receipt's life")."""

import json
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from datetime import timedelta

import psycopg2.errors

from odoo import api, fields, models
from odoo.modules import module as odoo_module
from odoo.tools import SQL, hmac, mute_logger

from odoo.addons.queue_job.job import identity_exact

from ...vendors import CLIENTS, safe
from ...vendors import outcome as oc
from ...vendors.errors import TransientError, UnreadableAnswer
from .. import problems as pb
from ..l10n_ru_kkm_client import ThreadTokenStore
from .sending import CHANNEL

_logger = logging.getLogger(__name__)

POLL_BATCH = 50
# At most this many receipts of one group per batch: a batch lasts at most
# POLL_GROUP_SLOTS × POLL_SPACING seconds, and the groups' slots run side by side.
POLL_GROUP_SLOTS = 10
# Groups asked side by side by one worker (threads doing HTTP only).
POLL_THREADS = 8
# ATOL accepts one status request per second per group of cash registers (protocol §6.3),
# shared by every worker and server (l10n_ru_kkm_register/pace.py). Slots are POLL_SPACING
# apart and a request more than LATE_TOLERANCE late for its slot takes a new one; the 0.1 s
# left is for the worker's own delay between that check and the request leaving (bench/polling.py
# measures the narrowest gap), so that two requests do not leave less than 1 s apart.
POLL_SPACING = 1.2
LATE_TOLERANCE = 0.1
# When a result is due: soon after an accepted registration, or after ATOL's 300 s when the
# service calls back (vendor-api.md, "Callback wait"); then less and less often.
FIRST_POLL_AFTER = timedelta(seconds=10)
CALLBACK_GRACE = timedelta(seconds=300)
POLL_AGAIN_AFTER = timedelta(seconds=10)
POLL_AGAIN_MAX = timedelta(minutes=5)
# A pass waits for a receipt due this soon (seconds) rather than leave it to the cron
# worker's next wake-up, a minute away.
WAIT_AHEAD = 15.0
# A receipt waiting this long past its due time has lost its job (e.g. an after-commit send
# that crashed, a cancelled job): the poll cron queues it again.
STUCK_AFTER = timedelta(minutes=15)
# Services that answer at once have no status request: a re-send answers instead.
SYNCHRONOUS = tuple(code for code, client in CLIENTS.items() if client.is_synchronous)


class L10nRuKkmReceipt(models.Model):
    _inherit = "l10n_ru_kkm.receipt"

    # -- asking ------------------------------------------------------------------------

    def _l10n_ru_kkm_fetch_report(self):
        """Ask the service for the result of receipts it accepted."""
        pending = self.sudo().filtered(
            lambda r: r.state in ("sent", "unknown") and r.vendor_uuid and r.vendor not in SYNCHRONOUS
        )
        for receipt in pending.try_lock_for_update(allow_referencing=True):
            receipt._l10n_ru_kkm_wait_for_slot()  # a callback's question keeps the pace too
            receipt._l10n_ru_kkm_guarded(receipt._l10n_ru_kkm_ask)

    def _l10n_ru_kkm_ask(self):
        self.ensure_one()
        try:
            with self._l10n_ru_kkm_client() as client:
                answer = client.report(self.vendor_uuid, self.request_payload)
        except (UnreadableAnswer, TransientError) as error:
            answer = error
        self._l10n_ru_kkm_take_answer(answer)

    def _l10n_ru_kkm_take_answer(self, answer):
        """Map the answer to a status request (an outcome, or the error it raised)."""
        self.ensure_one()
        if isinstance(answer, UnreadableAnswer):
            self._l10n_ru_kkm_write(
                dict(pb.values(pb.problem("unreadable", error=safe.text(answer, 300))), needs_attention=True)
            )
        elif isinstance(answer, TransientError):
            _logger.info("Report of fiscal receipt %s postponed: %s", self.id, answer)
        elif isinstance(answer, Exception):
            raise answer
        elif answer.status == oc.FAILED and answer.kind != oc.KIND_DEVICE:
            # The question failed (credentials, settings), not the registered receipt.
            self._l10n_ru_kkm_cannot_ask(answer)
        else:
            self._l10n_ru_kkm_apply(answer)

    def _l10n_ru_kkm_verify_one(self):
        """Ask the service about this registered receipt again (the nightly reconciliation):
        None when it holds it as stored, else a discrepancy row (see l10n_ru_kkm_discrepancy)."""
        self.ensure_one()
        try:
            with self._l10n_ru_kkm_client() as client:
                outcome = client.report(self.vendor_uuid, self.request_payload)
        except (TransientError, UnreadableAnswer) as error:
            if getattr(error, "unknown_document", False):
                row = (self.move_id.id, self.id, self.move_id.date, self.amount_total)
                return ("vendor_unknown", *row, 0.0, str(error)[:200])
            _logger.info("Check of fiscal receipt %s postponed: %s", self.id, error)
            return None
        row = (self.move_id.id, self.id, self.move_id.date, self.amount_total)
        if outcome.status == oc.FAILED:
            return ("vendor_unknown", *row, 0.0, f"{outcome.error_code} {outcome.error_text}".strip()[:200])
        stored = (self.fn_number or "", self.fiscal_document_number, self.fiscal_document_attribute or "")
        fiscal = outcome.fiscal
        told = (
            (fiscal.fn_number, fiscal.fiscal_document_number, fiscal.fiscal_document_attribute)
            if fiscal
            else None
        )
        if outcome.status != oc.DONE or told != stored:
            detail = self.env._(
                "stored FN %(fn)s FD %(fd)s FP %(fp)s, the service says %(told)s",
                fn=stored[0],
                fd=stored[1],
                fp=stored[2],
                told=" ".join(str(value) for value in told) if told else outcome.status,
            )
            return ("vendor_mismatch", *row, self.amount_total, detail[:200])
        self.sudo().write({"verified_at": fields.Datetime.now()})
        return None

    def _l10n_ru_kkm_cannot_ask(self, outcome):
        """Keep the receipt as it is, flag it, and tell the accountant once."""
        self.ensure_one()
        first_time = not self.needs_attention
        found = pb.problem("report_refused", text=outcome.error_text, code=outcome.error_code)
        self._l10n_ru_kkm_write(
            dict(
                pb.values(found, text=outcome.error_text), needs_attention=True, error_code=outcome.error_code
            )
        )
        if first_time:
            self._l10n_ru_kkm_notify_failure()

    def _l10n_ru_kkm_job_fetch_report(self):
        self._l10n_ru_kkm_fetch_report()
        return ", ".join(f"{r.display_name}: {r.state}" for r in self)

    # -- the poll cron -----------------------------------------------------------------

    def _l10n_ru_kkm_schedule_poll(self):
        """Accepted receipts: their first status request when the result is due.

        The cron is woken now (a trigger in the future waits for the cron worker's next wake-up,
        up to a minute): its pass waits for receipts due within WAIT_AHEAD seconds.
        """
        now = fields.Datetime.now()
        for receipt in self:
            callback = receipt._l10n_ru_kkm_client_class().supports_callbacks and (
                receipt._l10n_ru_kkm_cash_register().callback
            )
            receipt.next_poll_at = now + (CALLBACK_GRACE if callback else FIRST_POLL_AFTER)
        if self:
            self._l10n_ru_kkm_wake_poll_cron()

    @api.model
    def _l10n_ru_kkm_wake_poll_cron(self):
        """ir.cron._trigger() at once, in one INSERT, once per transaction: it is called for
        every accepted receipt."""
        if self.env.cr.postcommit.data.get("l10n_ru_kkm.wake_poll_cron"):
            return
        self.env.cr.postcommit.data["l10n_ru_kkm.wake_poll_cron"] = True
        cron_id = self.env["ir.model.data"]._xmlid_to_res_id("l10n_ru_kkm.ir_cron_poll_receipts")
        now = fields.Datetime.now()
        self.env.cr.execute(
            SQL(
                "INSERT INTO ir_cron_trigger (cron_id, call_at, create_uid, write_uid, create_date, write_date)"
                " VALUES (%(cron)s, %(now)s, %(uid)s, %(uid)s, %(now)s, %(now)s)",
                cron=cron_id,
                now=now,
                uid=self.env.uid,
            )
        )
        self.env.cr.postcommit.add(self.env["ir.cron"]._notifydb)

    @api.model
    def _l10n_ru_kkm_pending_domain(self):
        return [
            ("state", "in", ("sent", "unknown")),
            ("vendor_uuid", "!=", False),
            ("vendor", "not in", SYNCHRONOUS),
            ("needs_decision", "=", False),
        ]

    @api.model
    def _l10n_ru_kkm_due_domain(self, polled=()):
        now = fields.Datetime.now()
        return [
            *self._l10n_ru_kkm_pending_domain(),
            "|",
            ("next_poll_at", "=", False),
            ("next_poll_at", "<=", now),
            ("id", "not in", list(polled)),
        ]

    @api.model
    def _cron_l10n_ru_kkm_poll(self, batch_size=POLL_BATCH, due_only=True):
        """Ask the service about accepted receipts whose result is due, the earliest first.

        Batches of receipts, each committed, for as long as the cron's time allows; the cron is
        told how many are still due, so that it runs again at once instead of after its interval
        (ir.cron's progress API). Each receipt is asked at most once per call. Receipts whose
        sending was interrupted, and receipts to send whose job was lost, are taken care of
        first. ``due_only=False`` (the command line) asks every pending receipt once.
        """
        self._l10n_ru_kkm_recover_interrupted()
        self._l10n_ru_kkm_requeue_stuck()
        pending = (
            self._l10n_ru_kkm_due_domain
            if due_only
            else lambda polled=(): [
                *self._l10n_ru_kkm_pending_domain(),
                ("id", "not in", list(polled)),
            ]
        )
        polled = set()
        while True:
            receipts = self._l10n_ru_kkm_next_batch(pending(polled), batch_size)
            if not receipts:
                wait = self._l10n_ru_kkm_seconds_to_next_due(polled) if due_only else None
                if wait is None or wait > WAIT_AHEAD:
                    break
                time.sleep(wait)
                continue
            polled.update(receipts.ids)
            receipts._l10n_ru_kkm_poll_batch()
            if odoo_module.current_test:
                continue
            remaining = self.search_count(pending(polled))
            time_left = self.env["ir.cron"]._commit_progress(processed=len(receipts), remaining=remaining)
            if time_left <= 0:
                break
        self._l10n_ru_kkm_trigger_next_pass()

    @api.model
    def _l10n_ru_kkm_next_batch(self, domain, batch_size):
        """Receipts of ``domain``, the earliest due first, at most POLL_GROUP_SLOTS per group,
        so that one batch asks every group side by side (one query)."""
        query = self._search(domain)
        self.env.cr.execute(
            SQL(
                """
                SELECT id FROM (
                    SELECT receipt.id, receipt.next_poll_at,
                           ROW_NUMBER() OVER (
                               PARTITION BY receipt.vendor,
                                            COALESCE(NULLIF(receipt.group_code, ''), receipt.register_id::varchar)
                               ORDER BY receipt.next_poll_at ASC NULLS FIRST, receipt.id
                           ) AS rank
                      FROM l10n_ru_kkm_receipt receipt
                     WHERE receipt.id IN (%(due)s)
                ) ranked
                 WHERE rank <= %(slots)s
              ORDER BY rank, next_poll_at ASC NULLS FIRST, id
                 LIMIT %(limit)s
                """,
                due=query.subselect(),
                slots=POLL_GROUP_SLOTS,
                limit=batch_size,
            )
        )
        return self.browse([row[0] for row in self.env.cr.fetchall()])

    @api.model
    def _l10n_ru_kkm_seconds_to_next_due(self, polled=()):
        """Seconds until the next pending receipt is due (0 if one is), None if none is pending
        (``polled``: receipts this call already asked)."""
        first = self.search(
            [*self._l10n_ru_kkm_pending_domain(), ("id", "not in", list(polled))],
            order="next_poll_at asc nulls first",
            limit=1,
        )
        if not first:
            return None
        if not first.next_poll_at:
            return 0.0
        return max((first.next_poll_at - fields.Datetime.now()).total_seconds(), 0.0)

    @api.model
    def _l10n_ru_kkm_trigger_next_pass(self):
        wait = self._l10n_ru_kkm_seconds_to_next_due()
        if wait is not None:
            cron = self.env.ref("l10n_ru_kkm.ir_cron_poll_receipts")
            cron._trigger(fields.Datetime.now() + timedelta(seconds=wait))

    def _l10n_ru_kkm_poll_batch(self):
        """One status request per receipt, at the service's pace, in a few queries per batch.

        The batch is locked at once (a receipt a job holds is skipped: the job will tell); the
        requests go out in the slots reserved for each group; the exchanges are logged in one
        INSERT; the answers are applied together, or one by one when one of them fails.
        """
        receipts = self._l10n_ru_kkm_lock_batch()
        if not receipts:
            return receipts
        now = fields.Datetime.now()
        for receipt in receipts:
            count = receipt.poll_count + 1
            delay = min(POLL_AGAIN_AFTER * 2 ** min(count - 1, 10), POLL_AGAIN_MAX)
            receipt._l10n_ru_kkm_write(
                {"poll_count": count, "last_poll_at": now, "next_poll_at": now + delay}
            )
        answers = receipts._l10n_ru_kkm_ask_paced()
        try:
            with self.env.cr.savepoint():
                receipts._l10n_ru_kkm_take_answers(answers)
        except Exception:
            self.env.invalidate_all()
            for receipt in receipts:
                receipt._l10n_ru_kkm_guarded(lambda r=receipt: r._l10n_ru_kkm_take_answers({r: answers[r]}))
        return receipts

    def _l10n_ru_kkm_lock_batch(self):
        """The receipts of this batch this transaction could lock (one query)."""
        try:
            # Another cron worker may have just asked some of them: expected, not worth a log.
            with mute_logger("odoo.sql_db"), self.env.cr.savepoint(flush=False):
                return self.sudo().try_lock_for_update(allow_referencing=True)
        except psycopg2.errors.SerializationFailure:
            # One of them changed since this transaction began: lock them one by one.
            return self.sudo().filtered(lambda r: r._l10n_ru_kkm_lock())

    def _l10n_ru_kkm_ask_paced(self):
        """{receipt: outcome or error} of one status request each, in the slots reserved for
        their group (``POLL_SPACING`` apart, across every worker and server); the groups are
        asked side by side, each in a thread of its own (the service's latency would otherwise
        cap a worker at a few requests per second whatever the number of groups)."""
        groups = {}
        for receipt in self:
            key = (receipt._l10n_ru_kkm_cash_register(), receipt.vendor, receipt.group_code or "")
            groups.setdefault(key, []).append(receipt)
        registers = self.env["l10n_ru_kkm.register"]
        answers, exchanges, plans, tokens = {}, [], [], []
        with ExitStack() as stack:
            for (register, vendor, _group), members in groups.items():
                current = [None]
                tokens.append(ThreadTokenStore(register.sudo()))
                try:
                    client = stack.enter_context(
                        self.env["l10n_ru_kkm.client"]._open(
                            register,
                            vendor,
                            on_exchange=lambda exchange, current=current: exchanges.append(
                                (current[0], exchange)
                            ),
                            group_code=members[0].group_code,
                            token_store=tokens[-1],
                        )
                    )
                except Exception as error:
                    answers.update(dict.fromkeys(members, error))
                    continue
                pace_key = members[0]._l10n_ru_kkm_pace_key()
                # Read here: the threads below touch no record.
                asked = [(receipt, receipt.vendor_uuid, receipt.request_payload) for receipt in members]
                first = registers._l10n_ru_kkm_reserve_slots(pace_key, len(members), POLL_SPACING)
                plans.append((client, pace_key, asked, time.monotonic() + first, current))
            if plans:
                with ThreadPoolExecutor(max_workers=min(POLL_THREADS, len(plans))) as pool:
                    for result in pool.map(lambda plan: self._l10n_ru_kkm_ask_group(*plan), plans):
                        answers.update(result)
        for token in tokens:
            token.store()
        self._l10n_ru_kkm_log_exchanges(exchanges)
        return answers

    @api.model
    def _l10n_ru_kkm_ask_group(self, client, pace_key, asked, start, current):
        """One group's status requests, one per slot (in a thread: no ORM but the slot table)."""
        answers = {}
        for rank, (receipt, vendor_uuid, request) in enumerate(asked):
            try:
                self._l10n_ru_kkm_wait_until(start + rank * POLL_SPACING, pace_key)
                current[0] = receipt
                answers[receipt] = client.report(vendor_uuid, request)
            except Exception as error:
                answers[receipt] = error
        return answers

    def _l10n_ru_kkm_take_answers(self, answers):
        """Apply each receipt's answer; the registered ones' follow-ups run once, together."""
        registered = []
        for receipt in self:
            receipt.with_context(l10n_ru_kkm_registered=registered)._l10n_ru_kkm_take_answer(answers[receipt])
            if (
                receipt.state in ("sent", "unknown")
                and receipt.poll_count >= receipt.company_id.l10n_ru_kkm_max_polls
                and not receipt.needs_attention
            ):
                receipt._l10n_ru_kkm_write(
                    dict(pb.values(pb.problem("no_result", count=receipt.poll_count)), needs_attention=True)
                )
                receipt._l10n_ru_kkm_notify_failure()
        self.browse(registered)._l10n_ru_kkm_on_done()

    def _l10n_ru_kkm_lock(self):
        """Lock this receipt for this transaction, or False if a job holds it (or changed it
        since this transaction began: it is then taken next time)."""
        self.ensure_one()
        try:
            with mute_logger("odoo.sql_db"), self.env.cr.savepoint(flush=False):
                return bool(self.sudo().try_lock_for_update(allow_referencing=True))
        except psycopg2.errors.SerializationFailure:
            return False

    def _l10n_ru_kkm_pace_key(self):
        self.ensure_one()
        return f"{self.vendor}:{self.group_code or self._l10n_ru_kkm_cash_register().id}"

    def _l10n_ru_kkm_wait_for_slot(self):
        """Wait for this receipt's group's next status-request slot (one request)."""
        self.ensure_one()
        ahead = self.env["l10n_ru_kkm.register"]._l10n_ru_kkm_reserve_slots(
            self._l10n_ru_kkm_pace_key(), 1, POLL_SPACING
        )
        self._l10n_ru_kkm_wait_until(time.monotonic() + ahead, self._l10n_ru_kkm_pace_key())

    @api.model
    def _l10n_ru_kkm_wait_until(self, slot, pace_key):
        """Sleep until ``slot`` (monotonic); a worker too late for it takes a new one."""
        while True:
            wait = slot - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            elif wait >= -LATE_TOLERANCE or POLL_SPACING <= 0:
                return
            else:
                ahead = self.env["l10n_ru_kkm.register"]._l10n_ru_kkm_reserve_slots(pace_key, 1, POLL_SPACING)
                slot = time.monotonic() + ahead

    # -- recovery ------------------------------------------------------------------------

    @api.model
    def _l10n_ru_kkm_recover_interrupted(self):
        """Receipts to send whose request may have left while the worker that sent it stopped
        before recording the answer (crash, killed worker): their outcome is unknown, they are
        flagged and asked about first. A receipt a job holds is left to it."""
        self.env.flush_all()
        self.env.cr.execute(
            """
            SELECT DISTINCT receipt.id
              FROM l10n_ru_kkm_receipt receipt
              JOIN l10n_ru_kkm_receipt_attempt attempt
                ON attempt.receipt_id = receipt.id
               AND attempt.action = 'register'
               AND attempt.may_hold
               AND attempt.external_id = receipt.external_id
             WHERE receipt.state = 'to_send'
            """
        )
        interrupted = self.browse([row[0] for row in self.env.cr.fetchall()])
        for receipt in interrupted:
            if not receipt._l10n_ru_kkm_lock() or receipt.state != "to_send":
                continue
            receipt._l10n_ru_kkm_set_state(
                "unknown", needs_attention=True, **pb.values(pb.problem("interrupted"))
            )
            receipt._l10n_ru_kkm_enqueue(now=True)
        return interrupted

    @api.model
    def _l10n_ru_kkm_requeue_stuck(self):
        """Queue again the receipts to send whose attempt is long overdue (never lost)."""
        overdue = fields.Datetime.now() - STUCK_AFTER
        stuck = self.search(
            [
                ("state", "in", ("to_send", "unknown")),
                "|",
                ("next_attempt_at", "<=", overdue),
                "&",
                ("next_attempt_at", "=", False),
                ("write_date", "<=", overdue),
            ]
        ).filtered(lambda r: (r.request_payload or r.state == "to_send") and not r.needs_decision)
        # identity_exact: a receipt whose job is merely late keeps its single pending job.
        stuck._l10n_ru_kkm_enqueue()
        return stuck

    # -- callback ------------------------------------------------------------------------

    def _l10n_ru_kkm_callback_token(self):
        self.ensure_one()
        return hmac(self.env(su=True), "l10n_ru_kkm.callback", self.external_id)

    def _l10n_ru_kkm_callback_url(self):
        self.ensure_one()
        token = self._l10n_ru_kkm_callback_token()
        return f"{self.get_base_url()}/l10n_ru_kkm/callback/{self.external_id}/{token}"

    def _l10n_ru_kkm_on_callback(self, body):
        """Log the call and queue one status request (the body is not trusted).

        A receipt that waits for nothing is left alone: the call is neither logged nor acted on.
        The status request runs as the system, which the receipt's history then names.
        """
        self.ensure_one()
        if self.state not in ("sent", "unknown") or not self.vendor_uuid or self.needs_decision:
            return
        self.env["l10n_ru_kkm.receipt.attempt"]._log_independently(
            {"receipt_id": self.id, "action": "callback", "message": _callback_summary(body)}
        )
        self.with_user(api.SUPERUSER_ID).with_delay(
            channel=CHANNEL,
            identity_key=identity_exact,
            description=self.env._("Fetch the result of fiscal receipt %(name)s", name=self.display_name),
        )._l10n_ru_kkm_job_fetch_report()


def _callback_summary(body):
    """What the exchange log keeps of a callback: the document's status and error code, no more."""
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        return "unreadable body"
    if not isinstance(data, dict):
        return "unreadable body"
    error = data.get("error") if isinstance(data.get("error"), dict) else {}
    parts = [f"status={data.get('status')}"]
    if error.get("code") is not None:
        parts.append(f"error={error.get('code')}")
    return safe.text(" ".join(parts), 200)
