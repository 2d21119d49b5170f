"""What accountants do with receipts: send now, check the status, resend a failed one."""

from odoo import api, fields, models
from odoo.exceptions import UserError

from .kkm_receipt_queue import CHANNEL


class L10nRuKkmReceipt(models.Model):
    _inherit = "l10n_ru_kkm.receipt"

    external_id_spent = fields.Boolean(
        readonly=True,
        copy=False,
        help="The service holds a failed document under this external ID: a resend needs a new one.",
    )

    def action_l10n_ru_kkm_send_now(self):
        """Queue an immediate attempt for receipts waiting for their next retry."""
        waiting = self.filtered(lambda r: r.state in ("to_send", "unknown"))
        for receipt in waiting:
            # No identity key: a pending retry may already exist; the row lock and the state
            # check make the extra job harmless (it finds the receipt sent and does nothing).
            receipt.sudo().with_delay(
                channel=CHANNEL,
                description=self.env._("Send fiscal receipt %(name)s", name=receipt.display_name),
            )._l10n_ru_kkm_job_send()
        return self._l10n_ru_kkm_notify(
            self.env._("%(count)s receipt(s) queued for sending.", count=len(waiting))
        )

    def action_l10n_ru_kkm_check_status(self):
        """Ask the service now (read-only at the vendor, so safe inside this request)."""
        self._l10n_ru_kkm_fetch_report()
        return self._l10n_ru_kkm_notify(
            self.env._(
                "Status updated: %(states)s.",
                states=", ".join(f"{r.display_name}: {r._l10n_ru_kkm_state_label()}" for r in self),
            )
        )

    def action_l10n_ru_kkm_resend(self):
        """Send failed receipts again, rebuilt from the invoice as it is now.

        The external ID is kept unless the service holds a failed document under it
        (design.md §4.5); the new request is frozen here and sent by a job after commit.
        """
        failed = self._l10n_ru_kkm_reset_for_resend()
        failed.filtered(lambda r: r.state == "to_send")._l10n_ru_kkm_enqueue()
        return self._l10n_ru_kkm_notify(
            self.env._("%(count)s receipt(s) queued for sending.", count=len(failed))
        )

    def _l10n_ru_kkm_reset_for_resend(self):
        """Back to ``to_send`` with a request rebuilt from the invoice; raises what still blocks."""
        failed = self.filtered(lambda r: r.state == "error")
        if not failed:
            raise UserError(self.env._("Only receipts in error can be resent."))
        for receipt in failed:
            values = {
                "send_attempts": 0,
                "retries_exhausted": False,
                "needs_attention": False,
                "poll_count": 0,
                "error_code": False,
            }
            if receipt.external_id_spent:
                values.update(external_id=self._new_external_id(), vendor_uuid=False, external_id_spent=False)
            receipt._l10n_ru_kkm_set_state("to_send", **values)
        failed._l10n_ru_kkm_prepare()
        still_failed = failed.filtered(lambda r: r.state == "error")
        if still_failed:
            raise UserError("\n".join(still_failed.mapped("error_message")))
        return failed

    def _l10n_ru_kkm_state_label(self):
        return dict(self._fields["state"]._description_selection(self.env))[self.state]

    @api.model
    def _l10n_ru_kkm_notify(self, message, kind="info"):
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "message": message,
                "type": kind,
                "sticky": False,
                # Show the new state of the record the button was clicked on.
                "next": {"type": "ir.actions.client", "tag": "soft_reload"},
            },
        }
