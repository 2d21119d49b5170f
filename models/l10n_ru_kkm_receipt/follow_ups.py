"""What a registration sets off, in one place: the new sale of a re-issue, the payment of a sale
on credit, the refund of an early-payment discount. And the re-issue (resell) itself.

A re-issue refunds a registered sale whose data was wrong by a receipt that mirrors it (same
items and payments, the original's fiscal sign as additional attribute, tag 1192); only when
that refund is done is a new sale built from the invoice as it is now. The chain is kept on
the receipts.
"""

from odoo import models
from odoo.exceptions import UserError

from .receipt import PAID_STATES


class L10nRuKkmReceipt(models.Model):
    _inherit = "l10n_ru_kkm.receipt"

    def _l10n_ru_kkm_on_done(self):
        """Receipts just registered: start what waited for them, in this order."""
        self._l10n_ru_kkm_note_registered()
        for receipt in self.filtered(lambda r: r.response_payload):  # tag 2106 of marked goods
            payload = receipt.response_payload.get("payload")
            self.env["l10n_ru_kkm.mark.check"]._l10n_ru_kkm_store_receipt_results(receipt.move_id, payload)
        self._l10n_ru_kkm_continue_reissue()
        self.filtered(lambda r: r.move_id.payment_state in PAID_STATES)._l10n_ru_kkm_register_credit_payment()
        sales = self.filtered(lambda r: r.operation == "sell" and r.payment_stage == "full")
        sales.move_id._l10n_ru_kkm_register_early_discount()
        self._l10n_ru_kkm_email_copies()

    # -- re-issue ------------------------------------------------------------------------

    def _l10n_ru_kkm_check_resellable(self):
        for receipt in self:
            if receipt.operation != "sell" or receipt.state != "done":
                raise UserError(
                    self.env._(
                        "Only a registered sale receipt can be re-issued; %(name)s is %(state)s.",
                        name=receipt.display_name,
                        state=receipt._l10n_ru_kkm_state_label(),
                    )
                )
            if receipt.refund_receipt_ids.filtered(lambda r: r.state not in ("error", "cancelled")):
                raise UserError(
                    self.env._(
                        "%(name)s is already being re-issued: follow its refund receipt.",
                        name=receipt.display_name,
                    )
                )

    def _l10n_ru_kkm_resell(self):
        """Create and queue the refund of each registered sale; the new sale follows it."""
        self._l10n_ru_kkm_check_resellable()
        # The refund repeats the registered sale: same service, group and amount.
        refunds = self._l10n_ru_kkm_create_prepared(
            [
                self._l10n_ru_kkm_values(
                    receipt.move_id,
                    "sell_refund",
                    register=receipt._l10n_ru_kkm_cash_register(),
                    vendor=receipt.vendor,
                    group_code=receipt.group_code,
                    origin_receipt_id=receipt.id,
                    amount_total=receipt.amount_total,
                )
                for receipt in self
            ]
        )
        refunds._l10n_ru_kkm_enqueue()
        return refunds

    def _l10n_ru_kkm_continue_reissue(self):
        """A re-issue's refund is done: the invoice is sold again, as it is now (the same part
        of a split invoice). A chain the gate stops here is resumed by "Send receipt"."""
        for refund in self.filtered(lambda r: r.origin_receipt_id and not r.resell_receipt_id):
            values = self._l10n_ru_kkm_values(
                refund.move_id, "sell", part=refund.part, part_count=refund.part_count
            )
            new_sale = self._l10n_ru_kkm_create_prepared([values])
            refund.sudo().resell_receipt_id = new_sale
            new_sale._l10n_ru_kkm_dispatch()

    # -- sales on credit -----------------------------------------------------------------

    def _l10n_ru_kkm_register_credit_payment(self):
        """Create and start the payment-of-credit receipt of registered transfers on credit.

        With the company option on, an unpaid invoice's receipt is a transfer on credit (tag
        1214 = 6); once the invoice is paid and every part of that transfer is registered, a
        second receipt, payment of credit (tag 1214 = 7), registers the money.
        """
        credits = self.filtered(
            lambda r: r.operation == "sell" and r.payment_stage == "credit" and r.state == "done"
        )
        values_list = []
        for move in credits.move_id:
            transfer = move.l10n_ru_kkm_receipt_ids.filtered(
                lambda r: r.payment_stage == "credit" and r.operation == "sell" and r.state != "cancelled"
            )
            if any(r.state != "done" for r in transfer):
                continue
            # The payment hook may run twice (in payment, then paid): one receipt only.
            if move.l10n_ru_kkm_receipt_ids.filtered(
                lambda r: r.payment_stage == "credit_payment" and r.state != "cancelled"
            ):
                continue
            values_list.append(self._l10n_ru_kkm_values(move, "sell", payment_stage="credit_payment"))
        payments = self._l10n_ru_kkm_create_prepared(values_list)
        payments._l10n_ru_kkm_dispatch()
        return payments
