"""Talking to the cash register service: register, report, and mapping outcomes onto receipts."""

import logging

from odoo import models

from ..vendors import outcome as oc
from ..vendors.errors import TransientError
from .kkm_receipt import FISCAL_FIELDS

_logger = logging.getLogger(__name__)


class L10nRuKkmReceipt(models.Model):
    _inherit = "l10n_ru_kkm.receipt"

    def _l10n_ru_kkm_client(self, credentials=True):
        """The client of this receipt's vendor, as a context (see res.company)."""
        self.ensure_one()
        return self.company_id._l10n_ru_kkm_client(
            self.vendor,
            on_exchange=self._l10n_ru_kkm_log_exchange,
            credentials=credentials,
            group_code=self.group_code,
        )

    def _l10n_ru_kkm_send(self):
        """Register receipts whose request is frozen and committed (design.md §4).

        Only one worker sends a receipt at a time: a receipt locked by another is skipped.
        A retry and an uncertain outcome reuse the same request and external_id.
        """
        sendable = self.sudo().filtered(lambda r: r.state in ("to_send", "unknown") and r.request_payload)
        for receipt in sendable.try_lock_for_update(allow_referencing=True):
            try:
                with receipt._l10n_ru_kkm_client() as client:
                    outcome = client.register(receipt.operation, receipt.request_payload)
            except TransientError as error:
                receipt._l10n_ru_kkm_on_transient(error)
                continue
            receipt._l10n_ru_kkm_apply(outcome)

    def _l10n_ru_kkm_fetch_report(self):
        """Ask the service for the result of receipts it accepted."""
        # Synchronous services (Checkonline) have no status request: a re-send answers instead.
        pending = self.sudo().filtered(
            lambda r: r.state in ("sent", "unknown") and r.vendor_uuid and r.vendor != "checkonline"
        )
        for receipt in pending.try_lock_for_update(allow_referencing=True):
            try:
                with receipt._l10n_ru_kkm_client() as client:
                    outcome = client.report(receipt.vendor_uuid)
            except TransientError as error:
                _logger.info("Report of fiscal receipt %s postponed: %s", receipt.id, error)
                continue
            if outcome.status == oc.FAILED and outcome.kind != oc.KIND_DEVICE:
                # The question failed (credentials, settings), not the registered receipt.
                receipt._l10n_ru_kkm_cannot_ask(outcome)
                continue
            receipt._l10n_ru_kkm_apply(outcome)

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
            values.update(self._l10n_ru_kkm_success_values(), error_kind=False, needs_attention=False)
            self._l10n_ru_kkm_set_state("done", **values)
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
        self.sudo().write(
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
        }

    @staticmethod
    def _l10n_ru_kkm_fiscal_values(fiscal):
        return {name: getattr(fiscal, name) or False for name in FISCAL_FIELDS}

    def _l10n_ru_kkm_log_exchange(self, exchange):
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
        self.env["l10n_ru_kkm.receipt.attempt"]._log_independently(values)
        self.invalidate_recordset(["attempt_ids"])
