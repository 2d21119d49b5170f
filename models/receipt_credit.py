"""Credit sales: goods handed over on credit at confirmation, their payment registered later.

With the company option on, an unpaid invoice's receipt is a transfer on credit (tag 1214 = 6,
postpayment); once the invoice is paid and that receipt is registered, a second receipt,
payment of credit (tag 1214 = 7), registers the money. A credit note of an unpaid credit sale
is refunded on credit too.
"""

from odoo import api, models
from odoo.exceptions import UserError

from ..vendors import receipt as rd

PAID_STATES = ("paid", "in_payment")


class L10nRuKkmReceipt(models.Model):
    _inherit = "l10n_ru_kkm.receipt"

    @api.model
    def _l10n_ru_kkm_payment_stage(self, move, operation):
        stage = super()._l10n_ru_kkm_payment_stage(move, operation)
        company = move.company_id
        if operation == "sell":
            on_credit = company.l10n_ru_kkm_credit and company.l10n_ru_kkm_trigger == "post"
            return "credit" if on_credit and move.payment_state not in PAID_STATES else stage
        # A refund of goods handed over on credit and never paid returns no money.
        sales = move.reversed_entry_id.l10n_ru_kkm_receipt_ids.filtered(lambda r: r.operation == "sell")
        credit = sales.filtered(
            lambda r: r.payment_stage == "credit" and r.state not in ("error", "cancelled")
        )
        if credit and not sales.filtered(lambda r: r.payment_stage == "credit_payment"):
            return "credit"
        return stage

    def _l10n_ru_kkm_on_done(self):
        """A transfer on credit is registered: its payment follows if the invoice is paid."""
        result = super()._l10n_ru_kkm_on_done()
        self.filtered(lambda r: r.move_id.payment_state in PAID_STATES)._l10n_ru_kkm_register_credit_payment()
        return result

    def _l10n_ru_kkm_register_credit_payment(self):
        """Create and start the payment-of-credit receipt of registered transfers on credit."""
        credits = self.filtered(
            lambda r: r.operation == "sell" and r.payment_stage == "credit" and r.state == "done"
        )
        values_list = []
        for move in credits.move_id:
            # A split transfer is paid once every part of it is registered.
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


class L10nRuKkmReceiptBuilder(models.AbstractModel):
    _inherit = "l10n_ru_kkm.receipt.builder"

    @api.model
    def _build(self, receipt):
        if receipt.payment_stage not in ("credit", "credit_payment"):
            return super()._build(receipt)
        if receipt.vendor == "checkonline":
            raise UserError(
                self.env._(
                    "Invoice %(move)s is sold on credit, which this module registers through ATOL Online "
                    'only: turn off "Unpaid invoices on credit" in Settings › Invoicing › Fiscalization '
                    "(54-FZ), then resend the receipt.",
                    move=receipt.move_id.display_name,
                )
            )
        data = super()._build(receipt)
        if receipt.payment_stage == "credit":
            return rd.on_credit(data)
        # Item names in the customer's language, as the invoice lines are.
        lang = receipt.move_id.partner_id.lang or self.env.lang
        builder = self.with_context(lang=lang)
        return rd.credit_payment(
            data, lambda name: builder.env._("Payment of credit for %(item)s", item=name)
        )


class AccountMove(models.Model):
    _inherit = "account.move"

    def _invoice_paid_hook(self):
        result = super()._invoice_paid_hook()
        self.l10n_ru_kkm_receipt_ids._l10n_ru_kkm_register_credit_payment()
        return result
