"""Maps an invoice, a credit note or a payment to the neutral receipt data of ``vendors.receipt``.

One table, ``BUILDERS``, says which method builds each kind of receipt (operation, payment
stage): no behaviour depends on the order of overrides or imports (docs/architecture.rst,
"Where each concern lives"). The goods of an invoice are built here; the other stages are in
``stages.py``, the checks in ``checks.py``.
"""

import re
from dataclasses import replace
from decimal import Decimal

import pytz

from odoo import api, fields, models
from odoo.tools import float_repr

from ...vendors import allocation
from ...vendors import receipt as rd
from ..problems import ReceiptProblems, problem

DEFAULT_TZ = "Europe/Moscow"

# (operation, payment stage) -> the method that builds the receipt.
BUILDERS = {
    ("sell", "full"): "_build_goods",
    ("sell_refund", "full"): "_build_goods",
    ("sell_correction", "full"): "_build_goods",
    ("sell_refund_correction", "full"): "_build_goods",
    ("sell_refund", "early_discount"): "_build_goods",
    ("sell", "credit"): "_build_on_credit",
    ("sell_refund", "credit"): "_build_on_credit",
    ("sell", "credit_payment"): "_build_credit_payment",
    ("sell", "prepayment"): "_build_advance",
}


def _decimal(amount):
    return Decimal(str(amount)).quantize(rd.KOPECK)


def normalize_phone(phone):
    """A phone in the "+<digits>" form the services expect; Russian numbers get +7."""
    digits = re.sub(r"\D", "", phone or "")
    if not digits:
        return ""
    if len(digits) == 10:
        digits = "7" + digits
    elif len(digits) == 11 and digits[0] == "8":
        digits = "7" + digits[1:]
    return "+" + digits


class L10nRuKkmReceiptBuilder(models.AbstractModel):
    _name = "l10n_ru_kkm.receipt.builder"
    _description = "Fiscal receipt builder"

    @api.model
    def _build(self, receipt):
        """The neutral receipt for ``receipt``; raises ``ReceiptProblems`` naming every problem."""
        method = BUILDERS.get((receipt.operation, receipt.payment_stage))
        if not method:
            raise ValueError(f"no receipt of {receipt.operation} at stage {receipt.payment_stage}")
        return getattr(self, method)(receipt)

    @api.model
    def _build_goods(self, receipt):
        """The goods of an invoice or credit note, to the kopeck.

        A down-payment invoice is a prepayment of the order's goods (``stages.py``); the down
        payments a final invoice deducts are paid by that prepayment (payment type 2), not sold
        again; an invoice paid with an advance offsets it the same way.
        """
        move = receipt.move_id
        client = receipt._l10n_ru_kkm_client_class()
        problems = self._company_problems(receipt) + self._move_problems(move)
        sale_date = self._sale_date(move)
        product_lines = move.invoice_line_ids.filtered(lambda line: line.display_type == "product")
        self._fetch_line_data(product_lines)
        down_payments = self._down_payment_lines(product_lines)
        if down_payments and down_payments == product_lines:
            return self._build_down_payment(receipt, down_payments, problems)
        deducted = down_payments.filtered(lambda line: line.quantity < 0)
        lines = []
        for line in product_lines - deducted:
            vat, found = self._vat_code(line, sale_date)
            if found:
                problems.append(found)
            problems += self._line_problems(line, client)
            problems += self._permissive_problems(receipt, line, client, self._where(line))
            lines.append(self._source_line(line, vat))
        if problems:
            raise ReceiptProblems(self.env, problems)
        # Marked goods under the permissive mode: their codes are checked now (marking.py).
        checked = self._checked_codes(receipt, product_lines - deducted)
        prepaid = -sum((_decimal(line.price_total) for line in deducted), Decimal(0))
        total, adjustment = self._settled(receipt, prepaid)
        items = self._with_checks(self._allocate(move, lines, total, adjustment), checked)
        data = self._receipt(receipt, items, total)
        prepaid += self._advance_offset(receipt, data.total - prepaid)
        if prepaid:
            payments = [rd.Payment(rd.PAYMENT_ADVANCE, prepaid)]
            if data.total > prepaid:
                payments.append(rd.Payment(rd.PAYMENT_ELECTRONIC, data.total - prepaid))
            data = replace(data, payments=tuple(payments))
        return data

    @api.model
    def _allocate(self, move, lines, total, adjustment=Decimal(0)):
        try:
            return allocation.allocate(lines, total, adjustment)
        except allocation.AllocationError as error:
            raise ReceiptProblems(
                self.env, [problem("cannot_build", move=move.display_name, reason=str(error))]
            ) from error

    @api.model
    def _settled(self, receipt, prepaid):
        """(receipt total, adjustment spread over the goods) of a sale or refund.

        The total is the invoice's, plus what down payments paid before; when the customer took
        an early-payment discount, a receipt registered at payment says what was paid, and the
        refund of the discount (after a receipt at confirmation) says what was not.
        """
        move = receipt.move_id
        total = _decimal(move.amount_total) + prepaid
        adjustment = self._adjustment(move)
        if receipt.payment_stage == "early_discount":
            discount = move._l10n_ru_kkm_early_discount()
            return discount, adjustment + discount - total
        if (
            receipt.operation == "sell"
            and receipt.payment_stage == "full"
            and receipt.company_id.l10n_ru_kkm_trigger == "paid"
        ):
            discount = move._l10n_ru_kkm_early_discount()
            return total - discount, adjustment - discount
        return total, adjustment

    @api.model
    def _adjustment(self, move):
        """What makes the invoice total differ from its lines, by Odoo's own design: cash
        rounding (a rounding line, or rounding added to the biggest tax) and the VAT that an
        early-payment discount "always upon invoice" takes off. Spread over the goods."""
        rounding = early_discount = Decimal(0)
        sign = move.direction_sign
        for line in move.line_ids:
            if line.display_type == "rounding":
                rounding += _decimal(line.amount_currency * sign)
        if any(line.display_type == "epd" for line in move.line_ids):
            taxes = sum(
                _decimal(line.amount_currency * sign) for line in move.line_ids if line.display_type == "tax"
            )
            products = move.invoice_line_ids.filtered(lambda line: line.display_type == "product")
            line_taxes = sum(_decimal(line.price_total) - _decimal(line.price_subtotal) for line in products)
            early_discount = taxes - line_taxes
        return rounding + early_discount

    @api.model
    def _receipt(self, receipt, items, total):
        """The neutral receipt of ``receipt`` with these items, paid electronically."""
        move, company = receipt.move_id, receipt.company_id
        return rd.Receipt(
            operation=receipt.operation,
            external_id=receipt.external_id,
            timestamp=self._timestamp(move),
            company=self._company(company, receipt._l10n_ru_kkm_cash_register()),
            client=self._client(move.partner_id),
            items=tuple(items),
            payments=(rd.Payment(rd.PAYMENT_ELECTRONIC, total),),
            total=total,
            cashier=company.l10n_ru_kkm_cashier or "",
            cashier_inn=company.l10n_ru_kkm_cashier_inn or "",
            internet=receipt._l10n_ru_kkm_cash_register().internet,
            correction=self._correction(receipt),
        )

    # -- mapping ---------------------------------------------------------------------

    @api.model
    def _fetch_line_data(self, lines):
        # Only the columns a receipt reads, in one query per table: whole product and tax rows
        # (translations, dozens of columns) cost more than the rest of the build.
        lines.product_id.fetch(["product_tmpl_id"])
        lines.product_id.product_tmpl_id.fetch(
            [
                "type",
                "l10n_ru_kkm_payment_method",
                "l10n_ru_kkm_payment_object",
                "l10n_ru_kkm_marked",
                "l10n_ru_kkm_agent_type",
                "l10n_ru_kkm_supplier_id",
            ]
        )
        # Units and taxes change seldom: their codes are cached (uom.uom, account.tax).

    @api.model
    def _item_name(self, line):
        # The first line of the label, as the customer reads it on the invoice: the product's
        # name in the customer's language, or the accountant's own wording. Each client cuts
        # it to its own limit, after its own replacements.
        return self._first_line(line.name) or line.product_id.display_name or "-"

    @staticmethod
    def _first_line(text):
        return next((part.strip() for part in (text or "").splitlines() if part.strip()), "")

    @api.model
    def _source_line(self, line, vat):
        name = self._item_name(line)
        product = line.product_id.product_tmpl_id
        default_object = "service" if line.product_id.type == "service" else "commodity"
        measure, unit = (
            self.env["uom.uom"]._l10n_ru_kkm_unit_of(line.product_uom_id.id)
            if line.product_uom_id
            else (rd.MEASURE_PIECE, "")
        )
        return allocation.SourceLine(
            name=name,
            quantity=self._quantity(line.quantity),
            amount=_decimal(line.price_total),
            vat=vat,
            payment_method=product.l10n_ru_kkm_payment_method or "full_payment",
            payment_object=product.l10n_ru_kkm_payment_object or default_object,
            measure=measure,
            measurement_unit=unit,
            marked=product.l10n_ru_kkm_marked,
            mark_codes=line._l10n_ru_kkm_mark_code_list() if product.l10n_ru_kkm_marked else (),
            agent=self._agent(product),
        )

    @api.model
    def _agent(self, product):
        if not product.l10n_ru_kkm_agent_type:
            return None
        supplier = product.l10n_ru_kkm_supplier_id
        phone = normalize_phone(supplier.phone or getattr(supplier, "mobile", ""))
        return rd.Agent(
            type=product.l10n_ru_kkm_agent_type,
            supplier_name=(supplier.name or "")[:256],
            supplier_inn=self._supplier_inn(supplier),
            supplier_phones=(phone,) if phone else (),
        )

    @api.model
    def _supplier_inn(self, supplier):
        """The supplier's INN; "000000000000" for a supplier registered abroad (tag 1226)."""
        inn = re.sub(r"^RU", "", (supplier.vat or "").strip().upper())
        if rd.INN_PATTERN.match(inn):
            return inn
        if supplier.country_id and supplier.country_id.code != "RU":
            return rd.FOREIGN_SUPPLIER_INN
        return ""

    @api.model
    def _correction(self, receipt):
        if not receipt.correction_type:
            return None
        return rd.Correction(
            type=receipt.correction_type,
            base_date=receipt.correction_base_date,
            base_number=receipt.correction_base_number or "",
        )

    @api.model
    def _quantity(self, quantity):
        # The float as Odoo shows it (its precision), not its binary noise (0.30000000000000004).
        digits = self.env["decimal.precision"].precision_get("Product Unit")
        return Decimal(float_repr(quantity, digits)).normalize()

    @api.model
    def _company(self, company, register):
        """The seller: the company's INN and taxation system, the register's place and e-mail."""
        return rd.Company(
            inn=company.l10n_ru_kkm_inn,
            sno=company.l10n_ru_kkm_sno,
            payment_address=register.payment_address,
            email=register.email or company.email or "",
        )

    @api.model
    def _client(self, partner):
        # A business customer is named with its INN (tags 1227, 1228); a person is not.
        buyer = partner.commercial_partner_id
        inn = re.sub(r"^RU", "", (buyer.vat or "").strip().upper())
        is_business = buyer.is_company and rd.INN_PATTERN.match(inn)
        return rd.Client(
            email=partner.email or "",
            phone="" if partner.email else normalize_phone(partner.phone or getattr(partner, "mobile", "")),
            name=buyer.name[:256] if is_business else "",
            inn=inn if is_business else "",
        )

    @api.model
    def _timestamp(self, move):
        tz = pytz.timezone(move.invoice_user_id.tz or self.env.user.tz or DEFAULT_TZ)
        return pytz.utc.localize(fields.Datetime.now()).astimezone(tz).replace(tzinfo=None)
