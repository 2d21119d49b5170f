"""Maps an invoice or credit note to the neutral receipt data of ``vendors.receipt``."""

import re
from dataclasses import replace
from decimal import Decimal

import pytz

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import float_repr

from ..vendors import allocation
from ..vendors import receipt as rd

DEFAULT_TZ = "Europe/Moscow"


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
        """The neutral receipt for ``receipt``; raises UserError naming every problem.

        The goods are the invoice's product lines; a down-payment invoice is a prepayment of the
        order's goods, and the down payments a final invoice deducts are paid by that
        prepayment (payment type 2), not sold again.
        """
        move, company = receipt.move_id, receipt.company_id
        problems = self._company_problems(company) + self._move_problems(move)
        sale_date = self._sale_date(move)
        product_lines = move.invoice_line_ids.filtered(lambda line: line.display_type == "product")
        self._fetch_line_data(product_lines)
        down_payments = self._down_payment_lines(product_lines)
        if down_payments and down_payments == product_lines and receipt.operation in ("sell", "sell_refund"):
            return self._build_down_payment(receipt, down_payments, problems)
        deducted = down_payments.filtered(lambda line: line.quantity < 0)
        lines = []
        for line in product_lines - deducted:
            vat, problem = self._vat_code(line, sale_date)
            if problem:
                problems.append(problem)
            problems += self._line_problems(line, receipt.vendor)
            lines.append(self._source_line(line, vat))
        if problems:
            raise UserError("\n".join(problems))
        prepaid = -sum((_decimal(line.price_total) for line in deducted), Decimal(0))
        total, adjustment = self._settled(receipt, prepaid)
        items = self._allocate(move, lines, total, adjustment)
        data = self._receipt(receipt, items, total)
        if prepaid:
            payments = [rd.Payment(rd.PAYMENT_ADVANCE, prepaid)]
            if total > prepaid:
                payments.append(rd.Payment(rd.PAYMENT_ELECTRONIC, total - prepaid))
            data = replace(data, payments=tuple(payments))
        return data

    @api.model
    def _allocate(self, move, lines, total, adjustment=Decimal(0)):
        try:
            return allocation.allocate(lines, total, adjustment)
        except allocation.AllocationError as error:
            raise UserError(
                self.env._(
                    "Invoice %(move)s cannot be turned into a fiscal receipt: %(reason)s",
                    move=move.display_name,
                    reason=str(error),
                )
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
    def _down_payment_lines(self, lines):
        """The down-payment lines (Odoo Sales), when Sales is installed."""
        if "is_downpayment" not in lines._fields:
            return lines.browse()
        return lines.filtered("is_downpayment")

    @api.model
    def _build_down_payment(self, receipt, lines, problems):
        """A down-payment invoice: a prepayment of the order's goods (tag 1214 = 1 or 2), each
        good's share of each down-payment line, at the calculated VAT rate, as "payment"
        (tag 1212 = 10: "об авансе, задатке, предоплате", ATOL protocol v4 table 2)."""
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
            vat, problem = self._vat_code(line, sale_date)
            if problem:
                problems.append(problem)
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
            raise UserError("\n".join(problems))
        return self._receipt(receipt, items, sum((item.sum for item in items), Decimal(0)))

    @api.model
    def _receipt(self, receipt, items, total):
        """The neutral receipt of ``receipt`` with these items, paid electronically."""
        move, company = receipt.move_id, receipt.company_id
        return rd.Receipt(
            operation=receipt.operation,
            external_id=receipt.external_id,
            timestamp=self._timestamp(move),
            company=self._company(company),
            client=self._client(move.partner_id),
            items=tuple(items),
            payments=(rd.Payment(rd.PAYMENT_ELECTRONIC, total),),
            total=total,
            cashier=company.l10n_ru_kkm_cashier or "",
            cashier_inn=company.l10n_ru_kkm_cashier_inn or "",
            internet=company.l10n_ru_kkm_internet,
            correction=self._correction(receipt),
        )

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
    def _company(self, company):
        return rd.Company(
            inn=company.l10n_ru_kkm_inn,
            sno=company.l10n_ru_kkm_sno,
            payment_address=company.l10n_ru_kkm_payment_address,
            email=company.l10n_ru_kkm_email or company.email or "",
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
