"""When receipts are sent: the job queue, retries with increasing waits, status polling,
and telling the accountant when something needs them (design.md §8)."""

import json
import logging
import time
from datetime import timedelta

import psycopg2.errors
from markupsafe import Markup

from odoo import api, fields, models
from odoo.modules import module as odoo_module
from odoo.tools import hmac

from odoo.addons.queue_job.job import identity_exact

from ..vendors import safe
from ..vendors.errors import UnreadableAnswer

_logger = logging.getLogger(__name__)

CHANNEL = "root.l10n_ru_kkm"
POLL_BATCH = 50
# ATOL accepts one status request per second per cash register of a group (protocol §6.3).
POLL_SPACING = 1.0
POLL_AGAIN_AFTER = timedelta(minutes=1)
FIRST_POLL_AFTER = timedelta(seconds=10)
FAILED_ACTIVITY = "l10n_ru_kkm.mail_activity_receipt_failed"
# A receipt waiting this long past its due time has lost its job (e.g. an after-commit send
# that crashed, a cancelled job): the poll cron queues it again.
STUCK_AFTER = timedelta(minutes=15)


class L10nRuKkmReceipt(models.Model):
    _inherit = "l10n_ru_kkm.receipt"

    # -- starting --------------------------------------------------------------------

    def _l10n_ru_kkm_dispatch(self):
        """Start sending freshly prepared receipts, in the background or right after commit."""
        to_send = self.filtered(lambda r: r.state == "to_send")
        background = to_send.filtered(lambda r: r.company_id.l10n_ru_kkm_async)
        background._l10n_ru_kkm_enqueue()
        (to_send - background)._l10n_ru_kkm_send_after_commit()

    def _l10n_ru_kkm_enqueue(self, eta=None, now=False):
        """One pending send job per receipt; the job runs once this transaction is committed.

        A receipt that already has a pending job keeps it; ``now`` brings it forward.
        """
        for receipt in self:
            job = receipt.with_delay(
                channel=CHANNEL,
                eta=eta,
                identity_key=identity_exact,
                description=self.env._("Send fiscal receipt %(name)s", name=receipt.display_name),
            )._l10n_ru_kkm_job_send()
            if now and isinstance(job, models.BaseModel) and job.eta:
                job.sudo().eta = False

    def _l10n_ru_kkm_send_after_commit(self):
        """Synchronous mode: send once the transaction that froze the requests is committed."""
        receipt_ids = self.ids
        if not receipt_ids:
            return
        registry, context = self.env.registry, self.env.context

        @self.env.cr.postcommit.add
        def send():
            # The invoice is already posted: a failure here must never surface as a failed
            # posting; the receipt keeps its state and its retries are queued.
            try:
                with registry.cursor() as cr:
                    env = api.Environment(cr, api.SUPERUSER_ID, context)
                    env["l10n_ru_kkm.receipt"].browse(receipt_ids).exists()._l10n_ru_kkm_send()
                with registry.cursor() as cr:
                    env = api.Environment(cr, api.SUPERUSER_ID, context)
                    receipts = env["l10n_ru_kkm.receipt"].browse(receipt_ids).exists()
                    receipts.filtered(lambda r: r.state == "sent")._l10n_ru_kkm_fetch_report()
            except Exception:
                _logger.exception("Sending fiscal receipts %s failed", receipt_ids)

    # -- jobs ------------------------------------------------------------------------

    def _l10n_ru_kkm_job_send(self):
        self._l10n_ru_kkm_send()
        return ", ".join(f"{r.display_name}: {r.state}" for r in self)

    def _l10n_ru_kkm_job_fetch_report(self):
        self._l10n_ru_kkm_fetch_report()
        return ", ".join(f"{r.display_name}: {r.state}" for r in self)

    # -- retries ---------------------------------------------------------------------

    def _l10n_ru_kkm_on_transient(self, error):
        """Keep the same request, try again after the company's next interval."""
        self.ensure_one()
        company = self.company_id
        attempts = self.send_attempts + 1
        values = {"error_message": str(error), "error_code": False}
        if isinstance(error, UnreadableAnswer):
            values["needs_attention"] = True
        if attempts >= company.l10n_ru_kkm_max_attempts:
            delay = timedelta(hours=company.l10n_ru_kkm_resume_hours)
            values.update(send_attempts=0, retries_exhausted=True)
        else:
            minutes = company._l10n_ru_kkm_retry_minutes()
            delay = timedelta(minutes=minutes[min(attempts, len(minutes)) - 1])
            values.update(send_attempts=attempts)
        values["next_attempt_at"] = fields.Datetime.now() + delay
        # Once the request may have reached the vendor, its outcome stays unknown until asked.
        new_state = "unknown" if error.uncertain or self.state == "unknown" else "to_send"
        self._l10n_ru_kkm_set_state(new_state, **values)
        if values.get("retries_exhausted"):
            self._l10n_ru_kkm_notify_failure()
        self._l10n_ru_kkm_enqueue(eta=values["next_attempt_at"])

    # -- status polling --------------------------------------------------------------

    def _l10n_ru_kkm_schedule_poll(self, after=FIRST_POLL_AFTER):
        self.env.ref("l10n_ru_kkm.ir_cron_poll_receipts")._trigger(fields.Datetime.now() + after)

    @api.model
    def _l10n_ru_kkm_pending_domain(self):
        return [
            ("state", "in", ("sent", "unknown")),
            ("vendor_uuid", "!=", False),
            ("vendor", "!=", "checkonline"),
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
            # A receipt a job is sending is skipped: the job will tell (design.md §4.2).
            if receipt._l10n_ru_kkm_lock():
                self._l10n_ru_kkm_respect_rate_limit(receipt, last_request)
                receipt._l10n_ru_kkm_poll_once()
            if not odoo_module.current_test:
                time_left = self.env["ir.cron"]._commit_progress(processed=1, remaining=len(receipts) - done)
                if time_left < 10:
                    break
        if self.search_count(self._l10n_ru_kkm_pending_domain(), limit=1):
            self._l10n_ru_kkm_schedule_poll(after=POLL_AGAIN_AFTER)

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
        ).filtered(lambda r: r.request_payload and not r.needs_decision)
        # identity_exact: a receipt whose job is merely late keeps its single pending job.
        stuck._l10n_ru_kkm_enqueue()
        return stuck

    @staticmethod
    def _l10n_ru_kkm_respect_rate_limit(receipt, last_request):
        group = (receipt.company_id.id, receipt.vendor)
        wait = POLL_SPACING - (time.monotonic() - last_request.get(group, float("-inf")))
        if wait > 0:
            time.sleep(wait)
        last_request[group] = time.monotonic()

    @api.model
    def _l10n_ru_kkm_recover_interrupted(self):
        """Receipts to send whose request may have left while the worker that sent it stopped
        before recording the answer (crash, killed worker): their outcome is unknown, they are
        flagged and asked about first (design.md §4.8). A receipt a job holds is left to it."""
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
                "unknown",
                needs_attention=True,
                error_message=self.env._(
                    "Sending was interrupted after the request may have reached the service: the "
                    "service is asked again under the same ID before anything else."
                ),
            )
            receipt._l10n_ru_kkm_enqueue(now=True)
        return interrupted

    def _l10n_ru_kkm_lock(self):
        """Lock this receipt for this transaction, or False if a job holds it (or changed it
        since this transaction began: it is then taken next time)."""
        self.ensure_one()
        try:
            with self.env.cr.savepoint(flush=False):
                return bool(self.sudo().try_lock_for_update(allow_referencing=True))
        except psycopg2.errors.SerializationFailure:
            return False

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
            self.sudo().needs_attention = True
            self._l10n_ru_kkm_notify_failure()

    # -- telling the accountant ------------------------------------------------------

    def _l10n_ru_kkm_problem_text(self):
        self.ensure_one()
        if self.needs_decision:
            return self.env._(
                "%(reason)s The service may have registered this receipt: a fiscal administrator must check "
                "the service's account (or the OFD's). If nothing is registered there, use Send under a new "
                "ID on the receipt; if it is, register a correction instead.",
                reason=self.error_message or "",
            )
        if self.state == "error" or (self.needs_attention and self.error_message):
            return self.error_message or self.env._("The service refused the receipt.")
        if self.retries_exhausted:
            return self.env._(
                "The service could not be reached after several attempts (%(error)s); "
                "sending resumes automatically.",
                error=self.error_message or "",
            )
        return self.env._(
            "The service accepted the receipt but has not given its result after %(count)s status requests.",
            count=self.poll_count,
        )

    def _l10n_ru_kkm_notify_failure(self):
        """A note in the invoice's chatter (no e-mail to followers) and one activity per invoice."""
        for receipt in self:
            move = receipt.move_id.sudo()
            text = receipt._l10n_ru_kkm_problem_text()
            move._message_log(
                body=Markup("<p>%s</p><p>%s</p>")
                % (self.env._("Fiscal receipt %(name)s needs attention.", name=receipt.display_name), text)
            )
            activity_type = self.env.ref(FAILED_ACTIVITY)
            if move.activity_ids.filtered(lambda a, t=activity_type: a.activity_type_id == t):
                continue
            move.activity_schedule(
                FAILED_ACTIVITY,
                note=text,
                user_id=(move.invoice_user_id or move.create_uid).id,
            )

    # -- callback --------------------------------------------------------------------

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
