"""How a receipt is sent: queued once its request is committed, marked in flight before it
leaves, retried after the company's intervals with the same request, and every answer mapped
onto it (docs/architecture.rst, "Exactly once")."""

import logging
from datetime import timedelta

from odoo import api, fields, models

from odoo.addons.queue_job.job import identity_exact

from ...vendors import outcome as oc
from ...vendors import safe
from ...vendors.errors import TransientError, UnreadableAnswer
from .. import problems as pb
from .receipt import FISCAL_FIELDS

_logger = logging.getLogger(__name__)

CHANNEL = "root.l10n_ru_kkm"


class L10nRuKkmReceipt(models.Model):
    _inherit = "l10n_ru_kkm.receipt"

    def _l10n_ru_kkm_client(self, credentials=True, flight=None):
        """The client of this receipt's service, as a context (see l10n_ru_kkm.client).

        ``flight`` (a ``Flight``) marks a registration in flight: the exchange that answers it
        completes that attempt row instead of adding one.
        """
        self.ensure_one()

        def on_exchange(exchange):
            self._l10n_ru_kkm_log_exchange(exchange, flight=flight)

        return self.env["l10n_ru_kkm.client"]._open(
            self._l10n_ru_kkm_cash_register(),
            self.vendor,
            on_exchange=on_exchange,
            credentials=credentials,
            group_code=self.group_code,
        )

    # -- starting ----------------------------------------------------------------------

    def _l10n_ru_kkm_dispatch(self):
        """Start sending freshly prepared receipts, in the background or right after commit."""
        to_send = self.filtered(lambda r: r.state == "to_send")
        waiting = to_send.filtered(lambda r: not r.request_payload)
        waiting._l10n_ru_kkm_wait_for_check()
        to_send -= waiting
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

    def _l10n_ru_kkm_job_send(self):
        self._l10n_ru_kkm_send()
        return ", ".join(f"{r.display_name}: {r.state}" for r in self)

    # -- sending -----------------------------------------------------------------------

    def _l10n_ru_kkm_send(self):
        """Register receipts whose request is frozen and committed.

        Only one worker sends a receipt at a time: a receipt locked by another is skipped.
        A retry and an uncertain outcome reuse the same request and external_id. Whatever
        happens, the receipt ends in a state that says it: no exception escapes for one receipt.
        """
        waiting = self.sudo().filtered(lambda r: r.state == "to_send" and not r.request_payload)
        for receipt in waiting.try_lock_for_update(allow_referencing=True):
            receipt._l10n_ru_kkm_guarded(receipt._l10n_ru_kkm_check_again)
        sendable = (self.sudo() - waiting).filtered(
            lambda r: r.state in ("to_send", "unknown") and r.request_payload and not r.needs_decision
        )
        for receipt in sendable.try_lock_for_update(allow_referencing=True):
            refusal = receipt._l10n_ru_kkm_send_refusal()
            if refusal:
                receipt._l10n_ru_kkm_set_state(
                    "error", error_kind="data", error_code=False, **pb.values(refusal)
                )
                continue
            # Committed before the request leaves, and kept whatever happens next.
            attempt, held_before = receipt._l10n_ru_kkm_mark_in_flight(with_history=True)
            if receipt.state == "to_send" and held_before:
                # An earlier worker stopped after its request may have left: ask before anything else.
                receipt._l10n_ru_kkm_set_state("unknown")
            flight = Flight(attempt)
            receipt._l10n_ru_kkm_guarded(lambda r=receipt, f=flight: r._l10n_ru_kkm_register(f))

    # -- a receipt that waits for the marking check (the permissive mode) ---------------------

    def _l10n_ru_kkm_wait_for_check(self):
        """Check again after the company's next retry interval; the problem says why it waits."""
        for receipt in self:
            entry = (receipt.problems or [{}])[0]
            found = pb.Problem(entry.get("code", "mark_check_waiting"), entry.get("params") or {})
            receipt._l10n_ru_kkm_on_transient(TransientError(found.code, uncertain=False), found)

    def _l10n_ru_kkm_check_again(self):
        """Build the request of a receipt that waited for the marking check. One that is ready
        is sent by a job of its own, once this transaction has committed its request
        (docs/architecture.rst, "Exactly once", 1)."""
        receipts = self._l10n_ru_kkm_prepare()
        receipts.filtered(lambda r: r.state == "error")._l10n_ru_kkm_notify_failure()
        receipts._l10n_ru_kkm_dispatch()

    def _l10n_ru_kkm_send_refusal(self):
        """Why this receipt may not leave now (its document is no longer posted), or None."""
        self.ensure_one()
        if self.move_id.state != "posted":
            return pb.problem("not_posted", move=self.move_id.display_name)
        return None

    def _l10n_ru_kkm_register(self, flight):
        """One registration request, whose ``flight`` was committed before it leaves."""
        self.ensure_one()
        callback_url = ""
        if self._l10n_ru_kkm_client_class().supports_callbacks and self._l10n_ru_kkm_cash_register().callback:
            callback_url = self._l10n_ru_kkm_callback_url()  # added at send time: it carries a secret
        try:
            with self._l10n_ru_kkm_client(flight=flight) as client:
                outcome = client.register(self.operation, self.request_payload, callback_url=callback_url)
        except TransientError as error:
            if not error.uncertain:
                flight.attempts._l10n_ru_kkm_settle()
            self._l10n_ru_kkm_on_transient(error)
            return
        if outcome.status == oc.FAILED and not outcome.new_id_needed:
            flight.attempts._l10n_ru_kkm_settle()  # refused: nothing registered under this id
        self._l10n_ru_kkm_apply(outcome)

    # -- certainty (docs/architecture.rst, "Exactly once") ---------------------------------

    def _l10n_ru_kkm_mark_in_flight(self, with_history=False):
        """An attempt row committed before the request leaves: the service may hold it from now.

        ``with_history``: also whether an earlier registration under the same external id may
        have reached the service (read by the same statement).
        """
        self.ensure_one()
        attempt, held_before = self.env["l10n_ru_kkm.receipt.attempt"]._l10n_ru_kkm_in_flight(
            self, self._l10n_ru_kkm_cash_register(), self.env._("Registration request leaving")
        )
        return (attempt, held_before) if with_history else attempt

    def _l10n_ru_kkm_may_be_held(self):
        """Whether a registration under the current external id may have reached the service."""
        self.ensure_one()
        return bool(
            self.env["l10n_ru_kkm.receipt.attempt"]
            .sudo()
            .search_count(
                [
                    ("receipt_id", "=", self.id),
                    ("action", "=", "register"),
                    ("external_id", "=", self.external_id),
                    ("may_hold", "=", True),
                ],
                limit=1,
            )
        )

    def _l10n_ru_kkm_never_reached(self):
        """Whether the service certainly holds nothing under this receipt's id.

        ``error`` means the service registered nothing (it refused, or the document failed);
        a receipt to send is certain only when none of its requests may have left.
        """
        self.ensure_one()
        if self.state in ("error", "cancelled"):
            return True
        return self.state == "to_send" and not self._l10n_ru_kkm_may_be_held()

    def _l10n_ru_kkm_guarded(self, function):
        """Run ``function`` for this receipt; an unexpected failure leaves it flagged, not stuck."""
        self.ensure_one()
        try:
            with self.env.cr.savepoint():
                function()
        except Exception as error:
            # Whatever failed, the receipt must end in a state that says so.
            _logger.exception("Fiscal receipt %s: unexpected failure", self.id)
            self._l10n_ru_kkm_on_unexpected(error)

    def _l10n_ru_kkm_on_unexpected(self, error):
        """Flag the receipt and try again later; a request that may have left makes it unknown."""
        self.env.invalidate_all()
        found = pb.problem("unexpected", error=safe.text(error, 300))
        if self.state in ("to_send", "unknown"):
            uncertain = self.state == "unknown" or self._l10n_ru_kkm_may_be_held()
            self._l10n_ru_kkm_on_transient(TransientError(str(error), uncertain=uncertain), found)
            self._l10n_ru_kkm_write({"needs_attention": True})
        else:
            self._l10n_ru_kkm_write(dict(pb.values(found), needs_attention=True))

    # -- retries -----------------------------------------------------------------------

    def _l10n_ru_kkm_on_transient(self, error, found=None):
        """Keep the same request, try again after the company's next interval."""
        self.ensure_one()
        company = self.company_id
        attempts = self.send_attempts + 1
        if found is None:
            code = "unreadable" if isinstance(error, UnreadableAnswer) else "unreachable"
            found = pb.problem(code, error=safe.text(error, 300))
        values = {"error_code": False}
        if isinstance(error, UnreadableAnswer):
            values["needs_attention"] = True
        if attempts >= company.l10n_ru_kkm_max_attempts:
            delay = timedelta(hours=company.l10n_ru_kkm_resume_hours)
            values.update(send_attempts=0, retries_exhausted=True)
            if found.code == "unreachable":
                found = pb.problem("retries_exhausted", **found.params)
        else:
            minutes = company._l10n_ru_kkm_retry_minutes()
            delay = timedelta(minutes=minutes[min(attempts, len(minutes)) - 1])
            values.update(send_attempts=attempts)
        values.update(pb.values(found), next_attempt_at=fields.Datetime.now() + delay)
        # Once the request may have reached the vendor, its outcome stays unknown until asked.
        new_state = "unknown" if error.uncertain or self.state == "unknown" else "to_send"
        self._l10n_ru_kkm_set_state(new_state, **values)
        if new_state == "to_send" and self._l10n_ru_kkm_failover_due():
            self._l10n_ru_kkm_fail_over()
            return
        if values.get("retries_exhausted"):
            self._l10n_ru_kkm_notify_failure()
        self._l10n_ru_kkm_enqueue(eta=values["next_attempt_at"])

    # -- what the service said -----------------------------------------------------------

    def _l10n_ru_kkm_apply(self, outcome):
        """Map a vendor outcome onto the receipt."""
        self.ensure_one()
        values = {"response_payload": outcome.raw}
        if outcome.status == oc.ACCEPTED:
            values.update(vendor_uuid=outcome.vendor_id, **self._l10n_ru_kkm_success_values())
            self._l10n_ru_kkm_set_state("sent", **values)
            self._l10n_ru_kkm_schedule_poll()
        elif outcome.status == oc.DONE:
            values.update(vendor_uuid=outcome.vendor_id or self.vendor_uuid)
            values.update(self._l10n_ru_kkm_fiscal_values(outcome.fiscal))
            values.update(self._l10n_ru_kkm_success_values(), error_kind=False)
            self._l10n_ru_kkm_set_state("done", **values)
        elif outcome.status == oc.ATTENTION:
            values.update(
                pb.values(pb.problem("vendor_holds", text=outcome.error_text), text=outcome.error_text),
                vendor_uuid=outcome.vendor_id or self.vendor_uuid,
                error_code=outcome.error_code,
                error_kind="device",
                needs_attention=True,
                needs_decision=True,
                next_attempt_at=False,
            )
            self._l10n_ru_kkm_set_state("unknown", **values)
            self._l10n_ru_kkm_notify_failure()
        elif outcome.status == oc.FAILED:
            found = pb.problem(pb.REFUSALS[outcome.kind], code=outcome.error_code, text=outcome.error_text)
            values.update(
                pb.values(found, text=outcome.error_text),
                error_code=outcome.error_code,
                error_kind=outcome.kind,
                external_id_spent=outcome.new_id_needed,
            )
            self._l10n_ru_kkm_set_state("error", **values)
            self._l10n_ru_kkm_notify_failure()
        elif outcome.status == oc.WAIT and self.state == "unknown":
            self._l10n_ru_kkm_set_state("sent", **values)

    @staticmethod
    def _l10n_ru_kkm_success_values():
        return dict(
            pb.CLEARED,
            error_code=False,
            send_attempts=0,
            next_attempt_at=False,
            retries_exhausted=False,
            needs_attention=False,
            needs_decision=False,
        )

    @staticmethod
    def _l10n_ru_kkm_fiscal_values(fiscal):
        return {name: getattr(fiscal, name) or False for name in FISCAL_FIELDS}

    def _l10n_ru_kkm_log_exchange(self, exchange, flight=None):
        """Write the attempt in its own transaction, so a rollback of the send keeps it."""
        values = self._l10n_ru_kkm_exchange_values(exchange)
        if exchange.action == "register" and flight:
            values.update(external_id=self.external_id, may_hold=True)
            flight.record(values)
        else:
            self.env["l10n_ru_kkm.receipt.attempt"]._log_independently(values)
        self.invalidate_recordset(["attempt_ids"])

    def _l10n_ru_kkm_log_exchanges(self, exchanges):
        """Log (receipt, exchange) pairs of status requests in one INSERT of their own."""
        if exchanges:
            self.env["l10n_ru_kkm.receipt.attempt"]._log_independently(
                [receipt._l10n_ru_kkm_exchange_values(exchange) for receipt, exchange in exchanges]
            )
            self.invalidate_model(["attempt_ids"])

    def _l10n_ru_kkm_exchange_values(self, exchange):
        self.ensure_one()
        return {
            "receipt_id": self.id,
            "company_id": self.company_id.id,
            "register_id": self._l10n_ru_kkm_cash_register().id,
            "action": exchange.action,
            "url": exchange.url,
            "http_status": exchange.http_status or 0,
            "duration_ms": exchange.duration_ms,
            "error_code": exchange.error_code,
            "error_type": exchange.error_type,
            "message": exchange.message,
            "request_payload": exchange.request,
            "response_payload": exchange.response,
        }


class Flight:
    """A registration in flight: the attempt committed before the request left, completed by
    the exchange that answers it (a token renewal may add a second registration attempt)."""

    def __init__(self, attempt):
        self.attempts = attempt
        self.completed = False

    def record(self, values):
        if self.completed:
            self.attempts |= self.attempts._log_independently(values)
        else:
            self.attempts._write_independently(values)
            self.completed = True
