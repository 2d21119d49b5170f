"""Talking to the cash register service: register, report, and mapping outcomes onto receipts."""

import logging

from odoo import models

from ..vendors import outcome as oc
from ..vendors import safe
from ..vendors.errors import TransientError, UnreadableAnswer
from .kkm_receipt import FISCAL_FIELDS, _storable_values

_logger = logging.getLogger(__name__)


class L10nRuKkmReceipt(models.Model):
    _inherit = "l10n_ru_kkm.receipt"

    def _l10n_ru_kkm_client(self, credentials=True, flight=None):
        """The client of this receipt's vendor, as a context (see res.company).

        ``flight`` (a ``Flight``) marks a registration in flight: the exchange that answers it
        completes that attempt row instead of adding one.
        """
        self.ensure_one()

        def on_exchange(exchange):
            self._l10n_ru_kkm_log_exchange(exchange, flight=flight)

        return self.company_id._l10n_ru_kkm_client(
            self.vendor,
            on_exchange=on_exchange,
            credentials=credentials,
            group_code=self.group_code,
        )

    def _l10n_ru_kkm_write(self, values):
        """Write values that may come from a vendor, made safe to store."""
        self.sudo().write(_storable_values(values))

    def _l10n_ru_kkm_send(self):
        """Register receipts whose request is frozen and committed (design.md §4).

        Only one worker sends a receipt at a time: a receipt locked by another is skipped.
        A retry and an uncertain outcome reuse the same request and external_id. Whatever
        happens, the receipt ends in a state that says it: no exception escapes for one receipt.
        """
        sendable = self.sudo().filtered(
            lambda r: r.state in ("to_send", "unknown") and r.request_payload and not r.needs_decision
        )
        for receipt in sendable.try_lock_for_update(allow_referencing=True):
            refusal = receipt._l10n_ru_kkm_send_refusal()
            if refusal:
                receipt._l10n_ru_kkm_set_state(
                    "error", error_kind="data", error_code=False, error_message=refusal
                )
                continue
            if receipt.state == "to_send" and receipt._l10n_ru_kkm_may_be_held():
                # An earlier worker stopped after its request may have left: ask before anything else.
                receipt._l10n_ru_kkm_set_state("unknown")
            # Committed before the request leaves, and kept whatever happens next (design.md §4.8).
            flight = Flight(receipt._l10n_ru_kkm_mark_in_flight())
            receipt._l10n_ru_kkm_guarded(lambda r=receipt, f=flight: r._l10n_ru_kkm_register(f))

    def _l10n_ru_kkm_send_refusal(self):
        """Why this receipt may not leave now (its document is no longer posted), or ""."""
        self.ensure_one()
        if self.move_id.state != "posted":
            return self.env._(
                "%(move)s is not posted: its receipt is not sent. Confirm it again to register its receipt.",
                move=self.move_id.display_name,
            )
        return ""

    def _l10n_ru_kkm_register(self, flight):
        """One registration request, whose ``flight`` was committed before it leaves."""
        self.ensure_one()
        try:
            with self._l10n_ru_kkm_client(flight=flight) as client:
                outcome = client.register(
                    self.operation, self.request_payload, callback_url=self._l10n_ru_kkm_send_callback_url()
                )
        except TransientError as error:
            if not error.uncertain:
                flight.attempts._l10n_ru_kkm_settle()
            self._l10n_ru_kkm_on_transient(error)
            return
        if outcome.status == oc.FAILED and not outcome.new_id_needed:
            flight.attempts._l10n_ru_kkm_settle()  # refused: nothing registered under this id
        self._l10n_ru_kkm_apply(outcome)

    def _l10n_ru_kkm_send_callback_url(self):
        """The callback URL, added at send time only: it carries the receipt's secret token."""
        if self.vendor == "checkonline" or not self.company_id.l10n_ru_kkm_callback:
            return ""
        return self._l10n_ru_kkm_callback_url()

    def _l10n_ru_kkm_mark_in_flight(self):
        """An attempt row committed before the request leaves: the service may hold it from now."""
        return self.env["l10n_ru_kkm.receipt.attempt"]._log_independently(
            {
                "receipt_id": self.id,
                "action": "register",
                "external_id": self.external_id,
                "may_hold": True,
                "message": self.env._("Registration request leaving"),
            }
        )

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
        """Whether the service certainly holds nothing under this receipt's id (design.md §4.8).

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
            # Whatever failed, the receipt must end in a state that says so (design.md §4.9).
            _logger.exception("Fiscal receipt %s: unexpected failure", self.id)
            self._l10n_ru_kkm_on_unexpected(error)

    def _l10n_ru_kkm_on_unexpected(self, error):
        """Flag the receipt and try again later; a request that may have left makes it unknown."""
        self.env.invalidate_all()
        message = self.env._(
            "An unexpected error stopped the handling of this receipt (%(error)s); it is tried again "
            "automatically. If it persists, tell your administrator.",
            error=safe.text(error, 300),
        )
        if self.state in ("to_send", "unknown"):
            uncertain = self.state == "unknown" or self._l10n_ru_kkm_may_be_held()
            self._l10n_ru_kkm_on_transient(TransientError(message, uncertain=uncertain))
            self._l10n_ru_kkm_write({"needs_attention": True})
        else:
            self._l10n_ru_kkm_write({"needs_attention": True, "error_message": message})

    def _l10n_ru_kkm_fetch_report(self):
        """Ask the service for the result of receipts it accepted."""
        # Synchronous services (Checkonline) have no status request: a re-send answers instead.
        pending = self.sudo().filtered(
            lambda r: r.state in ("sent", "unknown") and r.vendor_uuid and r.vendor != "checkonline"
        )
        for receipt in pending.try_lock_for_update(allow_referencing=True):
            receipt._l10n_ru_kkm_guarded(receipt._l10n_ru_kkm_ask)

    def _l10n_ru_kkm_ask(self):
        self.ensure_one()
        try:
            with self._l10n_ru_kkm_client() as client:
                outcome = client.report(self.vendor_uuid, self.request_payload)
        except UnreadableAnswer as error:
            self._l10n_ru_kkm_write({"needs_attention": True, "error_message": str(error)})
            return
        except TransientError as error:
            _logger.info("Report of fiscal receipt %s postponed: %s", self.id, error)
            return
        if outcome.status == oc.FAILED and outcome.kind != oc.KIND_DEVICE:
            # The question failed (credentials, settings), not the registered receipt.
            self._l10n_ru_kkm_cannot_ask(outcome)
            return
        self._l10n_ru_kkm_apply(outcome)

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
                vendor_uuid=outcome.vendor_id or self.vendor_uuid,
                error_code=outcome.error_code,
                error_message=outcome.error_text,
                error_kind="device",
                needs_attention=True,
                needs_decision=True,
                next_attempt_at=False,
            )
            self._l10n_ru_kkm_set_state("unknown", **values)
            self._l10n_ru_kkm_notify_failure()
        elif outcome.status == oc.FAILED:
            values.update(
                error_code=outcome.error_code,
                error_message=outcome.error_text,
                error_kind=outcome.kind,
                external_id_spent=outcome.new_id_needed,
            )
            self._l10n_ru_kkm_set_state("error", **values)
            self._l10n_ru_kkm_notify_failure()
        elif outcome.status == oc.WAIT and self.state == "unknown":
            self._l10n_ru_kkm_set_state("sent", **values)

    def _l10n_ru_kkm_cannot_ask(self, outcome):
        """Keep the receipt as it is, flag it, and tell the accountant once."""
        self.ensure_one()
        message = self.env._(
            "The service refused to give the result of this receipt: %(error)s (code %(code)s). "
            "Check the credentials and settings; the receipt itself is not affected.",
            error=outcome.error_text,
            code=outcome.error_code,
        )
        first_time = not self.needs_attention
        self._l10n_ru_kkm_write(
            {"needs_attention": True, "error_message": message, "error_code": outcome.error_code}
        )
        if first_time:
            self._l10n_ru_kkm_notify_failure()

    @staticmethod
    def _l10n_ru_kkm_success_values():
        return {
            "error_message": False,
            "error_code": False,
            "send_attempts": 0,
            "next_attempt_at": False,
            "retries_exhausted": False,
            "needs_attention": False,
            "needs_decision": False,
        }

    @staticmethod
    def _l10n_ru_kkm_fiscal_values(fiscal):
        return {name: getattr(fiscal, name) or False for name in FISCAL_FIELDS}

    def _l10n_ru_kkm_log_exchange(self, exchange, flight=None):
        """Write the attempt in its own transaction, so a rollback of the send keeps it."""
        values = {
            "receipt_id": self.id,
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
        attempts = self.env["l10n_ru_kkm.receipt.attempt"]
        if exchange.action == "register" and flight:
            values.update(external_id=self.external_id, may_hold=True)
            flight.record(values)
        else:
            attempts._log_independently(values)
        self.invalidate_recordset(["attempt_ids"])


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
