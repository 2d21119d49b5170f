"""How a sent receipt learns its result: the poll cron (within ATOL's pace, locking before it
writes), a job queued by the service's callback, and the recovery of sends that were
interrupted or whose job was lost (docs/architecture.rst, "The receipt's life")."""

import json
import logging
import time
from datetime import timedelta

import psycopg2.errors

from odoo import api, fields, models
from odoo.modules import module as odoo_module
from odoo.tools import hmac

from odoo.addons.queue_job.job import identity_exact

from ...vendors import CLIENTS, safe
from ...vendors import outcome as oc
from ...vendors.errors import TransientError, UnreadableAnswer
from .. import problems as pb
from .sending import CHANNEL

_logger = logging.getLogger(__name__)

POLL_BATCH = 50
# ATOL accepts one status request per second per cash register of a group (protocol §6.3).
POLL_SPACING = 1.0
POLL_AGAIN_AFTER = timedelta(minutes=1)
FIRST_POLL_AFTER = timedelta(seconds=10)
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
            receipt._l10n_ru_kkm_guarded(receipt._l10n_ru_kkm_ask)

    def _l10n_ru_kkm_ask(self):
        self.ensure_one()
        try:
            with self._l10n_ru_kkm_client() as client:
                outcome = client.report(self.vendor_uuid, self.request_payload)
        except UnreadableAnswer as error:
            self._l10n_ru_kkm_write(
                dict(pb.values(pb.problem("unreadable", error=safe.text(error, 300))), needs_attention=True)
            )
            return
        except TransientError as error:
            _logger.info("Report of fiscal receipt %s postponed: %s", self.id, error)
            return
        if outcome.status == oc.FAILED and outcome.kind != oc.KIND_DEVICE:
            # The question failed (credentials, settings), not the registered receipt.
            self._l10n_ru_kkm_cannot_ask(outcome)
            return
        self._l10n_ru_kkm_apply(outcome)

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

    def _l10n_ru_kkm_schedule_poll(self, after=FIRST_POLL_AFTER):
        self.env.ref("l10n_ru_kkm.ir_cron_poll_receipts")._trigger(fields.Datetime.now() + after)

    @api.model
    def _l10n_ru_kkm_pending_domain(self):
        return [
            ("state", "in", ("sent", "unknown")),
            ("vendor_uuid", "!=", False),
            ("vendor", "not in", SYNCHRONOUS),
            ("needs_decision", "=", False),
        ]

    @api.model
    def _cron_l10n_ru_kkm_poll(self, batch_size=POLL_BATCH):
        """Ask the service about accepted receipts, the least recently asked first.

        Progress is committed after each receipt; one failing receipt never stops the batch.
        Receipts whose sending was interrupted, and receipts to send whose job was lost, are
        taken care of first.
        """
        self._l10n_ru_kkm_recover_interrupted()
        self._l10n_ru_kkm_requeue_stuck()
        receipts = self.search(
            self._l10n_ru_kkm_pending_domain(), order="last_poll_at asc nulls first, id", limit=batch_size
        )
        last_request = {}
        for done, receipt in enumerate(receipts, start=1):
            # A receipt a job is sending is skipped: the job will tell.
            if receipt._l10n_ru_kkm_lock():
                self._l10n_ru_kkm_respect_rate_limit(receipt, last_request)
                receipt._l10n_ru_kkm_poll_once()
            if not odoo_module.current_test:
                time_left = self.env["ir.cron"]._commit_progress(processed=1, remaining=len(receipts) - done)
                if time_left < 10:
                    break
        if self.search_count(self._l10n_ru_kkm_pending_domain(), limit=1):
            self._l10n_ru_kkm_schedule_poll(after=POLL_AGAIN_AFTER)

    def _l10n_ru_kkm_lock(self):
        """Lock this receipt for this transaction, or False if a job holds it (or changed it
        since this transaction began: it is then taken next time)."""
        self.ensure_one()
        try:
            with self.env.cr.savepoint(flush=False):
                return bool(self.sudo().try_lock_for_update(allow_referencing=True))
        except psycopg2.errors.SerializationFailure:
            return False

    @staticmethod
    def _l10n_ru_kkm_respect_rate_limit(receipt, last_request):
        group = (receipt.company_id.id, receipt.vendor)
        wait = POLL_SPACING - (time.monotonic() - last_request.get(group, float("-inf")))
        if wait > 0:
            time.sleep(wait)
        last_request[group] = time.monotonic()

    def _l10n_ru_kkm_poll_once(self):
        """One status request; counted even when it fails, and a failure leaves the receipt flagged."""
        self.ensure_one()
        self.sudo().write({"poll_count": self.poll_count + 1, "last_poll_at": fields.Datetime.now()})
        self._l10n_ru_kkm_guarded(self._l10n_ru_kkm_ask)
        still_pending = self.state in ("sent", "unknown")
        if (
            still_pending
            and self.poll_count >= self.company_id.l10n_ru_kkm_max_polls
            and not self.needs_attention
        ):
            self._l10n_ru_kkm_write(
                dict(pb.values(pb.problem("no_result", count=self.poll_count)), needs_attention=True)
            )
            self._l10n_ru_kkm_notify_failure()

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
