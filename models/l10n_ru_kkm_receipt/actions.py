"""What accountants do with receipts: send now, check the status, resend a failed one, and --
fiscal administrators -- send under a new ID once they checked the service's account. Every
action checks its group in Python, whoever calls it."""

from odoo import api, models
from odoo.exceptions import UserError

from .. import problems as pb
from .creation import MANAGER, USER


class L10nRuKkmReceipt(models.Model):
    _inherit = "l10n_ru_kkm.receipt"

    def action_l10n_ru_kkm_send_now(self):
        """Queue an immediate attempt for receipts waiting for their next retry."""
        self._l10n_ru_kkm_check_rights(USER)
        waiting = self.filtered(lambda r: r.state in ("to_send", "unknown") and not r.needs_decision)
        for receipt in waiting:
            refusal = receipt._l10n_ru_kkm_send_refusal()
            if refusal:
                raise UserError(pb.render(self.env, [refusal.as_json()]))
        # A receipt keeps its single pending job, brought forward.
        waiting.sudo()._l10n_ru_kkm_enqueue(now=True)
        return self._l10n_ru_kkm_notify(
            self.env._("%(count)s receipt(s) queued for sending.", count=len(waiting))
        )

    def action_l10n_ru_kkm_check_status(self):
        """Ask the service now (read-only at the vendor, so safe inside this request)."""
        self._l10n_ru_kkm_check_rights(USER)
        self._l10n_ru_kkm_fetch_report()
        return self._l10n_ru_kkm_notify(
            self.env._(
                "Status updated: %(states)s.",
                states=", ".join(f"{r.display_name}: {r._l10n_ru_kkm_state_label()}" for r in self),
            )
        )

    def action_l10n_ru_kkm_resend(self):
        """Send failed receipts again, rebuilt from the invoice as it is now.

        The external ID is kept unless the service holds a failed document under it; the new
        request is frozen here and sent by a job after commit.
        """
        self._l10n_ru_kkm_check_rights(USER)
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
            refusal = self._l10n_ru_kkm_refusal(
                receipt.move_id, receipt.payment_stage, mirror=bool(receipt.origin_receipt_id)
            )
            if refusal:
                raise UserError(refusal)
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
        failed = failed._l10n_ru_kkm_prepare()
        still_failed = failed.filtered(lambda r: r.state == "error")
        if still_failed:
            raise UserError("\n".join(still_failed.mapped("error_message")))
        return failed

    def _l10n_ru_kkm_send_under_new_id(self):
        """A fiscal administrator checked the service's account and found nothing registered under
        this receipt's ID: it is sent again under a new one."""
        self._l10n_ru_kkm_check_rights(MANAGER)
        for receipt in self:
            if receipt.state != "unknown" or not receipt.needs_decision:
                raise UserError(
                    self.env._(
                        "Only a receipt waiting for a decision can be sent under a new ID; %(name)s is %(state)s.",
                        name=receipt.display_name,
                        state=receipt._l10n_ru_kkm_state_label(),
                    )
                )
            refusal = receipt._l10n_ru_kkm_send_refusal()
            if refusal:
                raise UserError(pb.render(self.env, [refusal.as_json()]))
            # Users only read receipts: the note is written for them, in their name.
            receipt.sudo().message_post(
                body=self.env._(
                    "%(user)s confirmed that the service holds no registered receipt under ID %(old)s; "
                    "the receipt is sent under a new ID.",
                    user=self.env.user.name,
                    old=receipt.external_id,
                ),
                author_id=self.env.user.partner_id.id,
            )
            receipt._l10n_ru_kkm_set_state(
                "to_send",
                external_id=self._new_external_id(),
                vendor_uuid=False,
                needs_decision=False,
                needs_attention=False,
                send_attempts=0,
                retries_exhausted=False,
                poll_count=0,
                error_code=False,
                error_kind=False,
                **pb.CLEARED,
            )
        ready = self._l10n_ru_kkm_prepare().filtered(lambda r: r.state == "to_send")
        ready._l10n_ru_kkm_enqueue()
        return ready

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
