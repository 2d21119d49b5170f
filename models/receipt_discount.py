"""Early-payment discounts (Odoo's cash discount): the receipts say what the customer paid.

A receipt registered when the invoice is paid already leaves the discount out (see the
builder's ``_settled``). A receipt registered at confirmation said the whole price: once the
invoice is paid with the discount, and that receipt is registered, a refund of the discount
follows (operation ``sell_refund``, the goods at the discount's share of their sums).
"""

from decimal import Decimal

from odoo import models

from .kkm_receipt import PAID_STATES


class AccountMove(models.Model):
    _inherit = "account.move"

    def _invoice_paid_hook(self):
        result = super()._invoice_paid_hook()
        self._l10n_ru_kkm_register_early_discount()
        return result

    def _l10n_ru_kkm_early_discount(self):
        """The early-payment discount the customer took when paying this invoice, or 0.

        Odoo books it on the payment, on the company's cash discount account; the invoice's
        payment term line says what was due with the discount.
        """
        self.ensure_one()
        account = self.company_id.account_journal_early_pay_discount_loss_account_id
        terms = self.line_ids.filtered(lambda line: line.display_type == "payment_term")
        if self.payment_state not in PAID_STATES or not account or not any(terms.mapped("discount_date")):
            return Decimal(0)
        taken = any(
            account in partial["aml"].move_id.line_ids.account_id
            for partial in self._get_all_reconciled_invoice_partials()
            if not partial.get("is_exchange")
        )
        if not taken:
            return Decimal(0)
        due = sum(abs(Decimal(str(amount))) for amount in terms.mapped("discount_amount_currency"))
        return max(Decimal(str(self.amount_total)) - due, Decimal(0)).quantize(Decimal("0.01"))

    def _l10n_ru_kkm_register_early_discount(self):
        """Refund the discount of invoices registered at confirmation, once paid with it."""
        receipts = self.env["l10n_ru_kkm.receipt"]
        values_list = []
        for move in self.filtered(
            lambda m: (
                m.move_type == "out_invoice"
                and m.payment_state in PAID_STATES
                and m.company_id.l10n_ru_kkm_trigger == "post"
            )
        ):
            existing = move.l10n_ru_kkm_receipt_ids.filtered(lambda r: r.state != "cancelled")
            sales = existing.filtered(lambda r: r.operation == "sell" and r.payment_stage == "full")
            if (
                not sales
                or any(r.state != "done" for r in sales)
                or existing.filtered(lambda r: r.payment_stage == "early_discount")
                or not move._l10n_ru_kkm_early_discount()
            ):
                continue
            values_list.append(
                receipts._l10n_ru_kkm_values(move, "sell_refund", payment_stage="early_discount")
            )
        created = receipts._l10n_ru_kkm_create_prepared(values_list)
        created._l10n_ru_kkm_dispatch()
        return created


class L10nRuKkmReceipt(models.Model):
    _inherit = "l10n_ru_kkm.receipt"

    def _l10n_ru_kkm_on_done(self):
        """A sale registered at confirmation is done: its discount may be refunded now."""
        result = super()._l10n_ru_kkm_on_done()
        sales = self.filtered(lambda r: r.operation == "sell" and r.payment_stage == "full")
        sales.move_id._l10n_ru_kkm_register_early_discount()
        return result
