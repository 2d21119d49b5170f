"""What must hold before a receipt may leave: settings, customer, currency, VAT, items.

Every problem names the invoice or line and says how to fix it; the receipt waits in error
until it is fixed (nothing is sent, nothing is lost).
"""

import re
from datetime import date

from odoo import api, models

from ..vendors import checkonline
from ..vendors import receipt as rd
from ..vendors.atol import V4_RAW_MARK_CODE, v4_nomenclature_code

EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+$")
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
        if company.l10n_ru_kkm_cashier_inn and not re.match(r"^\d{12}$", company.l10n_ru_kkm_cashier_inn):
            problems.append(
                self.env._(
                    "The cashier INN of %(company)s must have 12 digits: correct it or leave it empty in "
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
            refused = checkonline.unprintable(company.l10n_ru_kkm_payment_address)
            if refused:
                problems.append(
                    self.env._(
                        "The place of settlement of %(company)s contains %(chars)s, which the cash register "
                        "cannot print: write the web site address in Latin or Cyrillic letters (e.g. its "
                        "punycode form) in Settings › Invoicing › Fiscalization (54-FZ).",
                        company=company.name,
                        chars=" ".join(refused),
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
        codes = {self.env["account.tax"]._l10n_ru_kkm_vat_code_of(tax.id) for tax in taxes}
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
    def _line_problems(self, line, vendor):
        """Marking codes and agent data of a line."""
        label = line.name or line.product_id.display_name
        problems = self._mark_code_problems(line, label, vendor) + self._agent_problems(line, label)
        product = line.product_id.product_tmpl_id
        if vendor == "checkonline":
            # Checked here rather than by the vendor layer, to say it in the user's language.
            refused = checkonline.unprintable(self._item_name(line))
            if refused:
                problems.append(
                    self.env._(
                        'Line "%(line)s" of %(move)s: the cash register cannot print %(chars)s (its fiscal '
                        "storage keeps Cyrillic and Latin text only). Remove these characters from the "
                        "line's label.",
                        line=label,
                        move=line.move_id.display_name,
                        chars=" ".join(refused),
                    )
                )
        codes = product.l10n_ru_kkm_marked and line._l10n_ru_kkm_mark_code_list()
        if vendor == "checkonline" and (codes or product.l10n_ru_kkm_agent_type):
            problems.append(
                self.env._(
                    'Line "%(line)s" of %(move)s carries marking codes or agent data, which this module '
                    "cannot send to Checkonline yet: register such invoices through ATOL Online, or remove "
                    "the codes and the agent setting of the product.",
                    line=label,
                    move=line.move_id.display_name,
                )
            )
        return problems

    @api.model
    def _mark_code_problems(self, line, label, vendor):
        problems = []
        product = line.product_id.product_tmpl_id
        codes = line._l10n_ru_kkm_mark_code_list() if product.l10n_ru_kkm_marked else ()
        if codes and len(codes) != line.quantity:
            problems.append(
                self.env._(
                    'Line "%(line)s" of %(move)s has %(count)s marking codes for a quantity of %(quantity)s: '
                    "enter one code per unit sold, one per line.",
                    line=label,
                    move=line.move_id.display_name,
                    count=len(codes),
                    quantity=line.quantity,
                )
            )
        too_long = [code for code in codes if len(code) > rd.MARK_CODE_MAX]
        if too_long:
            problems.append(
                self.env._(
                    'Line "%(line)s" of %(move)s: marking code "%(code)s…" is longer than %(max)s characters; '
                    "scan it again.",
                    line=label,
                    move=line.move_id.display_name,
                    code=too_long[0][:32],
                    max=rd.MARK_CODE_MAX,
                )
            )
        if vendor == "atol_v4" and any(not V4_RAW_MARK_CODE.match(v4_nomenclature_code(c)) for c in codes):
            problems.append(
                self.env._(
                    'Line "%(line)s" of %(move)s: a marking code does not start with its GTIN and serial '
                    "(01…21…), the only form ATOL's FFD 1.05 protocol accepts. Scan the full code, or "
                    "register through protocol v5 (FFD 1.2).",
                    line=label,
                    move=line.move_id.display_name,
                )
            )
        return problems

    @api.model
    def _agent_problems(self, line, label):
        problems = []
        product = line.product_id.product_tmpl_id
        supplier = product.l10n_ru_kkm_supplier_id
        if product.l10n_ru_kkm_agent_type and not (supplier and self._supplier_inn(supplier)):
            problems.append(
                self.env._(
                    'Line "%(line)s" of %(move)s: product %(product)s is sold as agent, so the receipt must '
                    "name its supplier with the supplier's INN (10 or 12 digits). Set the supplier on the "
                    "product and the INN (Tax ID) on the supplier.",
                    line=label,
                    move=line.move_id.display_name,
                    product=product.display_name,
                )
            )
        return problems
