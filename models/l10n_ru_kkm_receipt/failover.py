"""Fail-over: a receipt moves to its register's backup only when it is certain the register never
received it (docs/architecture.rst, "Cash registers").

Certain means: the receipt is still to send, and every registration request under its id was
refused before it reached the service (connection refused, DNS, TLS handshake, an answer each
protocol defines as "not accepted"), for longer than the register allows. Never from ``sent``
or ``unknown``. The receipt leaves under a new id; the old one is never used again.
"""

from datetime import timedelta

from odoo import fields, models


class L10nRuKkmReceipt(models.Model):
    _inherit = "l10n_ru_kkm.receipt"

    def _l10n_ru_kkm_failover_due(self):
        """Whether this receipt must move to its register's backup now."""
        self.ensure_one()
        register = self._l10n_ru_kkm_cash_register()
        backup = register.backup_register_id
        # A refund mirroring a registered sale stays with the register that holds the sale.
        if not backup.active or self.state != "to_send" or self.origin_receipt_id:
            return False
        if self._l10n_ru_kkm_may_be_held():
            return False
        attempts = self.attempt_ids.filtered(
            lambda a: a.action == "register" and a.external_id == self.external_id
        )
        if not attempts:
            return False
        first = min(attempts.mapped("create_date"))
        return fields.Datetime.now() - first >= timedelta(minutes=register.failover_minutes)

    def _l10n_ru_kkm_fail_over(self):
        """Move to the backup register under a new id, with the request built for it."""
        self.ensure_one()
        old = self._l10n_ru_kkm_cash_register()
        backup = old.backup_register_id
        previous_id = self.external_id
        self._l10n_ru_kkm_write(
            {
                "register_id": backup.id,
                "failover_from_id": old.id,
                "vendor": backup.vendor,
                "group_code": backup.atol_group_code,
                "external_id": self._new_external_id(),
                "send_attempts": 0,
                "retries_exhausted": False,
            }
        )
        receipts = self._l10n_ru_kkm_prepare()
        self.message_post(
            body=self.env._(
                "Moved to the backup register %(backup)s: no request reached %(register)s for "
                "%(minutes)s minutes. Its ID there, %(old_id)s, is never used again.",
                backup=backup.name,
                register=old.name,
                minutes=old.failover_minutes,
                old_id=previous_id,
            )
        )
        receipts.filtered(lambda r: r.state == "to_send")._l10n_ru_kkm_enqueue()
        return receipts
