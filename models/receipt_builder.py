"""Maps an invoice or credit note to the neutral receipt data of ``vendors.receipt``."""

import re
from decimal import Decimal

import pytz

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import float_repr

from ..vendors import allocation
from ..vendors import receipt as rd

ITEM_NAME_MAX = 128
INN_PATTERN = re.compile(r"^(\d{10}|\d{12})$")
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
        """The neutral receipt for ``receipt``; raises UserError naming every problem."""
        move, company = receipt.move_id, receipt.company_id
        problems = self._company_problems(company) + self._move_problems(move)
        lines = []
        for line in move.invoice_line_ids.filtered(lambda line: line.display_type == "product"):
            vat, problem = self._vat_code(line)
            if problem:
                problems.append(problem)
            lines.append(self._source_line(line, vat))
        if problems:
            raise UserError("\n".join(problems))
        try:
            items = allocation.allocate(lines, _decimal(move.amount_total))
        except allocation.AllocationError as error:
            raise UserError(
                self.env._(
                    "Invoice %(move)s cannot be turned into a fiscal receipt: %(reason)s",
                    move=move.display_name,
                    reason=str(error),
                )
            ) from error
        total = _decimal(move.amount_total)
        return rd.Receipt(
            operation=receipt.operation,
            external_id=receipt.external_id,
            timestamp=self._timestamp(move),
            company=self._company(company),
            client=self._client(move.partner_id),
            items=tuple(items),
            payments=(rd.Payment(rd.PAYMENT_ELECTRONIC, total),),
            total=total,
            callback_url=receipt._l10n_ru_kkm_callback_url() if company.l10n_ru_kkm_callback else "",
        )

    # -- checks ----------------------------------------------------------------------

    @api.model
    def _company_problems(self, company):
        problems = []
        if not INN_PATTERN.match(company.l10n_ru_kkm_inn or ""):
            problems.append(
                self.env._(
                    "The seller INN of %(company)s must have 10 or 12 digits: set it in "
                    "Settings › Invoicing › Fiscalization (54-FZ).",
                    company=company.name,
                )
            )
        if not company.l10n_ru_kkm_payment_address:
            problems.append(
                self.env._(
                    "The place of settlement of %(company)s is missing: set the web site address in "
                    "Settings › Invoicing › Fiscalization (54-FZ).",
                    company=company.name,
                )
            )
        if not (company.l10n_ru_kkm_email or company.email):
            problems.append(
                self.env._(
                    "The seller e-mail of %(company)s is missing: set it in "
                    "Settings › Invoicing › Fiscalization (54-FZ).",
                    company=company.name,
                )
            )
        if not company.l10n_ru_kkm_atol_group_code:
            problems.append(
                self.env._(
                    "The ATOL group code of %(company)s is missing: copy it from the ATOL Online "
                    "account into Settings › Invoicing › Fiscalization (54-FZ).",
                    company=company.name,
                )
            )
        return problems

    @api.model
    def _move_problems(self, move):
        problems = []
        if move.currency_id != move.company_id.currency_id or move.currency_id.name != "RUB":
            problems.append(
                self.env._(
                    "Invoice %(move)s is in %(currency)s: fiscal receipts are registered in roubles "
                    "only. Issue the invoice in RUB.",
                    move=move.display_name,
                    currency=move.currency_id.name,
                )
            )
        partner = move.partner_id
        if not partner.email and not (partner.phone or getattr(partner, "mobile", False)):
            problems.append(
                self.env._(
                    "Customer %(partner)s has neither an e-mail nor a phone: the receipt must be sent "
                    "to one of them. Add an e-mail or a phone to the customer.",
                    partner=partner.display_name,
                )
            )
        if not move.invoice_line_ids.filtered(lambda line: line.display_type == "product"):
            problems.append(
                self.env._(
                    "Invoice %(move)s has no product lines to put on a receipt.", move=move.display_name
                )
            )
        return problems

    @api.model
    def _vat_code(self, line):
        taxes = line.tax_ids
        if not taxes:
            return "none", None
        codes = {tax.l10n_ru_kkm_vat_code for tax in taxes}
        if len(taxes) == 1 and all(codes):
            return codes.pop(), None
        return "none", self.env._(
            'Line "%(line)s" of %(move)s: set the fiscal VAT code on tax %(taxes)s '
            "(Accounting › Configuration › Taxes); a line may carry one VAT tax only.",
            line=line.name or line.product_id.display_name,
            move=line.move_id.display_name,
            taxes=", ".join(taxes.mapped("name")),
        )

    # -- mapping ---------------------------------------------------------------------

    @api.model
    def _source_line(self, line, vat):
        name = (line.product_id.display_name or line.name or "").strip() or "-"
        if len(name) > ITEM_NAME_MAX:
            name = name[: ITEM_NAME_MAX - 1] + "…"
        is_service = line.product_id.type == "service"
        return allocation.SourceLine(
            name=name,
            quantity=self._quantity(line.quantity),
            amount=_decimal(line.price_total),
            vat=vat,
            payment_object="service" if is_service else "commodity",
            measurement_unit=(line.product_uom_id.name or "")[:16],
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
        return rd.Client(
            email=partner.email or "",
            phone="" if partner.email else normalize_phone(partner.phone or getattr(partner, "mobile", "")),
        )

    @api.model
    def _timestamp(self, move):
        tz = pytz.timezone(move.invoice_user_id.tz or self.env.user.tz or DEFAULT_TZ)
        return pytz.utc.localize(fields.Datetime.now()).astimezone(tz).replace(tzinfo=None)
