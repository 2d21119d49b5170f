"""Receipts that settle something else than the whole price at once (tag 1214): a transfer on
credit and its payment, an advance and its offset, a down payment of an order's goods.

What a service cannot register is asked of its client class (``supports_credit``).
"""

from decimal import Decimal

from odoo import api, models

from ...vendors import allocation
from ...vendors import receipt as rd
from ..problems import ReceiptProblems, problem
from .builder import _decimal
from .checks import RATES_AFTER_CHANGE, RATES_BEFORE_CHANGE, VAT_RATE_CHANGE

# The calculated standard rate of an advance, by whether it was received from 1 January 2026.
CALCULATED_STANDARD_RATE = {False: "vat120", True: "vat122"}


class L10nRuKkmReceiptBuilder(models.AbstractModel):
    _inherit = "l10n_ru_kkm.receipt.builder"

    # -- credit sales (company option "Unpaid invoices on credit") ---------------------------

    @api.model
    def _check_credit(self, receipt):
        client = receipt._l10n_ru_kkm_client_class()
        if not client.supports_credit:
            raise ReceiptProblems(
                self.env,
                [problem("credit_unsupported", move=receipt.move_id.display_name, service=client.label)],
            )

    @api.model
    def _build_on_credit(self, receipt):
        """Goods handed over on credit: nothing paid yet (tag 1214 = 6, postpayment)."""
        self._check_credit(receipt)
        return rd.on_credit(self._build_goods(receipt))

    @api.model
    def _build_credit_payment(self, receipt):
        """The payment of goods handed over on credit (tag 1214 = 7), as ATOL's example 9.6:
        one item per item, named in the customer's language as the invoice lines are."""
        self._check_credit(receipt)
        builder = self.with_context(lang=receipt.move_id.partner_id.lang or self.env.lang)
        return rd.credit_payment(
            self._build_goods(receipt),
            lambda name: builder.env._("Payment of credit for %(item)s", item=name),
        )

    # -- advances (company option "Receipts for advance payments") ---------------------------

    @api.model
    def _build_advance(self, receipt):
        """A customer payment received before its invoice: an advance (tag 1214 = 3, the goods not
        known yet), at the calculated VAT rate of the default sales tax by the payment's date."""
        move, company = receipt.move_id, receipt.company_id
        client = receipt._l10n_ru_kkm_client_class()
        if not client.supports_credit:
            raise ReceiptProblems(
                self.env, [problem("advance_unsupported", move=move.display_name, service=client.label)]
            )
        problems = self._company_problems(receipt) + self._move_problems(move)
        vat = self._advance_vat(company, move.date)
        if not vat:
            problems.append(problem("advance_vat", company=company.name))
        if problems:
            raise ReceiptProblems(self.env, problems)
        total = _decimal(receipt.amount_total)
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

    @api.model
    def _advance_offset(self, receipt, cap):
        """What paid this sale out of advances registered as such (tag 1215), up to ``cap``."""
        move = receipt.move_id
        # Nothing paid yet (e.g. at confirmation), nothing to offset: the look-up costs a query.
        if receipt.operation != "sell" or receipt.payment_stage != "full" or move.payment_state == "not_paid":
            return Decimal(0)
        offset = Decimal(0)
        for partial in move._get_all_reconciled_invoice_partials():
            if partial.get("is_exchange"):
                continue
            advances = partial["aml"].move_id.l10n_ru_kkm_receipt_ids.filtered(
                lambda r: r.payment_stage == "prepayment" and r.state not in ("error", "cancelled")
            )
            if advances:
                offset += Decimal(str(partial["amount"])).quantize(rd.KOPECK)
        return min(offset, cap)

    # -- down payments (Odoo Sales) ------------------------------------------------------

    @api.model
    def _deducted_down_payments(self, move):
        """What ``move`` deducts for down payments received earlier (its negative down-payment
        lines), as a positive Decimal."""
        lines = self._down_payment_lines(
            move.invoice_line_ids.filtered(lambda line: line.display_type == "product")
        )
        return sum((-_decimal(line.price_total) for line in lines if line.quantity < 0), Decimal(0))

    @api.model
    def _down_payment_lines(self, lines):
        """The down-payment lines (Odoo Sales), when Sales is installed."""
        if "is_downpayment" not in lines._fields:
            return lines.browse()
        return lines.filtered("is_downpayment")

    @api.model
    def _build_down_payment(self, receipt, lines, problems):
        """A down-payment invoice (or its refund): a prepayment of the order's goods (tag 1214 =
        1 or 2), each good's share of each down-payment line, at the calculated VAT rate, as
        "payment" (tag 1212 = 10: "об авансе, задатке, предоплате", ATOL protocol v4 table 2)."""
        move = receipt.move_id
        orders = lines.sale_line_ids.order_id
        goods = orders.order_line.filtered(
            lambda line: not line.is_downpayment and not line.display_type and line.price_total > 0
        )
        full = _decimal(sum(orders.mapped("amount_total"))) <= _decimal(move.amount_total)
        method = "full_prepayment" if full else "prepayment"
        sale_date = self._sale_date(move)
        items = []
        for line in lines:
            vat, found = self._vat_code(line, sale_date)
            if found:
                problems.append(found)
            shares = goods.filtered(lambda good, taxes=line.tax_ids: good.tax_ids == taxes) or goods
            source = [
                allocation.SourceLine(
                    name=self._first_line(good.name) or good.product_id.display_name or "-",
                    quantity=Decimal(1),
                    amount=_decimal(good.price_total),
                    vat=rd.CALCULATED_VAT[vat],
                    payment_method=method,
                    payment_object="payment",
                )
                for good in shares
            ]
            amount = _decimal(line.price_total)
            if not source:
                source = [
                    allocation.SourceLine(self._item_name(line), Decimal(1), amount, rd.CALCULATED_VAT[vat])
                ]
            items += self._allocate(move, source, amount, amount - sum(s.amount for s in source))
        if problems:
            raise ReceiptProblems(self.env, problems)
        return self._receipt(receipt, items, sum((item.sum for item in items), Decimal(0)))
