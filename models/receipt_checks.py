"""What must hold before a receipt may leave: settings, customer, currency, VAT, items.

Every problem names the invoice or line and says how to fix it; the receipt waits in error
until it is fixed (nothing is sent, nothing is lost).
"""

import re
from datetime import date

from odoo import api, models
from odoo.exceptions import UserError

from ..vendors import receipt as rd

EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+$")
MAX_ITEMS = 100
# 425-FZ: the standard VAT rate is 22 % from 1 January 2026. The rate follows the date of
# the sale itself, so a 2026 refund of a 2025 sale keeps 20 % (shared/docs/vendor-api.md §9.6).
VAT_RATE_CHANGE = date(2026, 1, 1)
RATES_BEFORE_CHANGE = {"vat20", "vat120"}
RATES_AFTER_CHANGE = {"vat22", "vat122"}


class L10nRuKkmReceiptBuilder(models.AbstractModel):
    _inherit = "l10n_ru_kkm.receipt.builder"

    @api.model
    def _company_problems(self, company):
        problems = []
        if not rd.INN_PATTERN.match(company.l10n_ru_kkm_inn or ""):
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
        if company.l10n_ru_kkm_vendor == "checkonline":
            if not company.sudo().l10n_ru_kkm_checkonline_certificate_id:
                problems.append(
                    self.env._(
                        "The Checkonline certificate of %(company)s is missing: an administrator must "
                        "choose it in Settings › Invoicing › Fiscalization (54-FZ).",
                        company=company.name,
                    )
                )
        elif not company.l10n_ru_kkm_atol_group_code:
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
        if partner.email and (len(partner.email) > 64 or not EMAIL_PATTERN.match(partner.email)):
            problems.append(
                self.env._(
                    'The e-mail "%(email)s" of customer %(partner)s cannot receive a receipt: '
                    "correct it (at most 64 characters, name@domain).",
                    email=partner.email,
                    partner=partner.display_name,
                )
            )
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
    def _sale_date(self, move):
        """The date of the sale a receipt reports: a refund's original invoice, if known."""
        origin = move.reversed_entry_id if move.move_type == "out_refund" else move
        return origin.invoice_date or move.invoice_date or move.date

    @api.model
    def _vat_code(self, line, sale_date):
        """The fiscal VAT code of a line and the problem with it, if any."""
        taxes = line.tax_ids
        if not taxes:
            return "none", None
        codes = {tax.l10n_ru_kkm_vat_code for tax in taxes}
        if len(taxes) != 1 or not all(codes):
            return "none", self.env._(
                'Line "%(line)s" of %(move)s: set the fiscal VAT code on tax %(taxes)s '
                "(Accounting › Configuration › Taxes); a line may carry one VAT tax only.",
                line=line.name or line.product_id.display_name,
                move=line.move_id.display_name,
                taxes=", ".join(taxes.mapped("name")),
            )
        code = codes.pop()
        if code in RATES_BEFORE_CHANGE and sale_date >= VAT_RATE_CHANGE:
            return code, self.env._(
                'Line "%(line)s" of %(move)s: VAT 20%% no longer applies to sales made from '
                "1 January 2026 (this sale: %(date)s). Use a 22%% tax.",
                line=line.name or line.product_id.display_name,
                move=line.move_id.display_name,
                date=sale_date,
            )
        if code in RATES_AFTER_CHANGE and sale_date < VAT_RATE_CHANGE:
            return code, self.env._(
                'Line "%(line)s" of %(move)s: VAT 22%% applies to sales made from 1 January 2026 '
                "only (this sale: %(date)s). Use the 20%% tax of the original sale.",
                line=line.name or line.product_id.display_name,
                move=line.move_id.display_name,
                date=sale_date,
            )
        return code, None

    @api.model
    def _check_items(self, move, items):
        if len(items) > MAX_ITEMS:
            raise UserError(
                self.env._(
                    "Invoice %(move)s would give %(count)s receipt items; a receipt holds at most "
                    "%(max)s. Split the invoice into several invoices.",
                    move=move.display_name,
                    count=len(items),
                    max=MAX_ITEMS,
                )
            )
