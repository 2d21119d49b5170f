"""Advance payments: a customer payment received before its invoice, then its offset.

With the company option on, an inbound customer payment still unmatched when its transaction
commits is registered at once as an advance (tag 1214 = 3: the goods are not known yet; VAT
at the calculated rate of the default sales tax, by the payment's date). When an invoice is
paid with such a payment, its receipt offsets the advance (payment type 2, "предварительная
оплата") and only the rest is paid electronically (shared/docs/vendor-api.md §9.2).
"""

from dataclasses import replace
from decimal import Decimal

from odoo import api, models
from odoo.exceptions import UserError

from ..vendors import receipt as rd
from .receipt_checks import RATES_AFTER_CHANGE, RATES_BEFORE_CHANGE, VAT_RATE_CHANGE

# The calculated standard rate of an advance, by whether it was received from 1 January 2026.
CALCULATED_STANDARD_RATE = {False: "vat120", True: "vat122"}


class AccountPayment(models.Model):
    _inherit = "account.payment"

    def action_post(self):
        result = super().action_post()
        if self.env.context.get("active_model") in ("account.move", "account.move.line"):
            return result  # registered from invoices or journal items: it pays them
        advances = self.filtered(
            lambda p: (
                p.payment_type == "inbound"
                and p.partner_type == "customer"
                and p.company_id.l10n_ru_kkm_enabled
                and p.company_id.l10n_ru_kkm_prepayment
                # Offsets are known when the invoice is paid, not when it is confirmed.
                and p.company_id.l10n_ru_kkm_trigger == "paid"
            )
        )
        if advances:
            # Paying an invoice posts the payment, then matches it: only what is still unmatched
            # when the transaction ends is an advance. (A savepoint taken in between would run
            # this early: the payment would get an advance receipt that its invoice's receipt
            # then offsets, two coherent receipts instead of one.)
            payment_ids, env = advances.ids, self.env
            self.env.cr.precommit.add(
                lambda: env["account.payment"].browse(payment_ids)._l10n_ru_kkm_register_advance()
            )
        return result

    def _l10n_ru_kkm_register_advance(self):
        self.env.flush_all()
        values_list = []
        for payment in self.exists():
            move = payment.move_id
            receivable = move.line_ids.filtered(
                lambda line: line.account_id.account_type == "asset_receivable"
            )
            if (
                payment.state not in ("in_process", "paid")
                or not receivable
                or any(
                    line.reconciled or line.matched_credit_ids or line.matched_debit_ids
                    for line in receivable
                )
            ):
                continue
            if move.l10n_ru_kkm_receipt_ids:
                continue
            values_list.append(
                self.env["l10n_ru_kkm.receipt"]._l10n_ru_kkm_values(
                    move, "sell", payment_stage="prepayment", amount_total=payment.amount
                )
            )
        receipts = self.env["l10n_ru_kkm.receipt"]._l10n_ru_kkm_create_prepared(values_list)
        receipts._l10n_ru_kkm_dispatch()
        return receipts


class L10nRuKkmReceiptBuilder(models.AbstractModel):
    _inherit = "l10n_ru_kkm.receipt.builder"

    @api.model
    def _build(self, receipt):
        if receipt.payment_stage == "prepayment":
            return self._build_advance(receipt)
        data = super()._build(receipt)
        # Nothing paid yet (e.g. at confirmation), nothing to offset: the look-up costs a query.
        if (
            receipt.operation != "sell"
            or receipt.payment_stage != "full"
            or receipt.move_id.payment_state == "not_paid"
        ):
            return data
        prepaid = sum((p.sum for p in data.payments if p.type == rd.PAYMENT_ADVANCE), Decimal(0))
        advance = min(self._advance_offset(receipt.move_id), data.total - prepaid)
        if not advance:
            return data
        payments = [rd.Payment(rd.PAYMENT_ADVANCE, prepaid + advance)]
        if data.total > prepaid + advance:
            payments.append(rd.Payment(rd.PAYMENT_ELECTRONIC, data.total - prepaid - advance))
        return replace(data, payments=tuple(payments))

    @api.model
    def _advance_offset(self, move):
        """What paid this invoice out of advances registered as such (tag 1215)."""
        offset = Decimal(0)
        for partial in move._get_all_reconciled_invoice_partials():
            if partial.get("is_exchange"):
                continue
            advances = partial["aml"].move_id.l10n_ru_kkm_receipt_ids.filtered(
                lambda r: r.payment_stage == "prepayment" and r.state not in ("error", "cancelled")
            )
            if advances:
                offset += Decimal(str(partial["amount"])).quantize(rd.KOPECK)
        return offset

    @api.model
    def _build_advance(self, receipt):
        move, company = receipt.move_id, receipt.company_id
        if receipt.vendor == "checkonline":
            raise UserError(
                self.env._(
                    "Payment %(move)s is an advance, which this module registers through ATOL Online "
                    'only: turn off "Receipts for advance payments" in Settings › Invoicing › '
                    "Fiscalization (54-FZ).",
                    move=move.display_name,
                )
            )
        problems = self._company_problems(company) + self._move_problems(move)
        vat = self._advance_vat(company, move.date)
        if not vat:
            problems.append(
                self.env._(
                    "The default sales tax of %(company)s has no fiscal VAT code: advances are registered "
                    "at its calculated rate. Set the code on the tax (Accounting › Configuration › Taxes) "
                    "or choose a default sales tax in the accounting settings.",
                    company=company.name,
                )
            )
        if problems:
            raise UserError("\n".join(problems))
        total = Decimal(str(receipt.amount_total)).quantize(rd.KOPECK)
        name = self.with_context(lang=move.partner_id.lang or self.env.lang).env._("Advance payment")
        item = rd.Item(
            name=name,
            price=total,
            quantity=Decimal(1),
            sum=total,
            vat=vat,
            payment_method="advance",
            payment_object="payment",
        )
        return self._receipt(receipt, (item,), total)

    @api.model
    def _advance_vat(self, company, received):
        tax = company.account_sale_tax_id
        code = tax and self.env["account.tax"]._l10n_ru_kkm_vat_code_of(tax.id)
        if not code:
            return False
        if code in RATES_BEFORE_CHANGE | RATES_AFTER_CHANGE:
            return CALCULATED_STANDARD_RATE[received >= VAT_RATE_CHANGE]
        return rd.CALCULATED_VAT[code]
