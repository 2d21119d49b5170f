"""What must hold before a receipt may leave: settings, customer, currency, VAT, items.

Every problem names the invoice or line and says how to fix it (models/problems.py); the
receipt waits in error until it is fixed (nothing is sent, nothing is lost). What a service
cannot take is asked of its client class, never of its name.
"""

import re
from datetime import date

from odoo import api, models

from ...vendors import receipt as rd
from ..problems import problem

EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+$")
# 425-FZ: the standard VAT rate is 22 % from 1 January 2026. The rate follows the date of
# the sale itself, so a 2026 refund of a 2025 sale keeps 20 % (docs/architecture.rst, "Money").
VAT_RATE_CHANGE = date(2026, 1, 1)
RATES_BEFORE_CHANGE = {"vat20", "vat120"}
RATES_AFTER_CHANGE = {"vat22", "vat122"}


class L10nRuKkmReceiptBuilder(models.AbstractModel):
    _inherit = "l10n_ru_kkm.receipt.builder"

    @api.model
    def _company_problems(self, receipt):
        """The seller's settings: the company's, and those of the receipt's cash register."""
        company, register = receipt.company_id, receipt._l10n_ru_kkm_cash_register()
        if not register:
            return [problem("register_missing", company=company.name)]
        problems = []
        client = register._l10n_ru_kkm_client_class()
        if not rd.INN_PATTERN.match(company.l10n_ru_kkm_inn or ""):
            problems.append(problem("seller_inn", company=company.name))
        if not register.payment_address:
            problems.append(problem("place_missing", company=register.name))
        if not (register.email or company.email):
            problems.append(problem("seller_email_missing", company=register.name))
        if company.l10n_ru_kkm_cashier_inn and not re.match(r"^\d{12}$", company.l10n_ru_kkm_cashier_inn):
            problems.append(problem("cashier_inn", company=company.name))
        if client.needs_certificate and not register.sudo().checkonline_certificate_id:
            problems.append(problem("certificate_missing", company=register.name, service=client.label))
        if client.needs_group_code and not register.atol_group_code:
            problems.append(problem("group_code_missing", company=register.name))
        refused = client.unprintable(register.payment_address or "")
        if refused:
            problems.append(problem("place_unprintable", company=register.name, chars=" ".join(refused)))
        return problems

    @api.model
    def _move_problems(self, move):
        problems = []
        if move.currency_id != move.company_id.currency_id or move.currency_id.name != "RUB":
            problems.append(problem("currency", move=move.display_name, currency=move.currency_id.name))
        partner = move.partner_id
        if partner.email and (len(partner.email) > 64 or not EMAIL_PATTERN.match(partner.email)):
            problems.append(problem("email_invalid", email=partner.email, partner=partner.display_name))
        if not partner.email and not (partner.phone or getattr(partner, "mobile", False)):
            problems.append(problem("no_contact", partner=partner.display_name))
        if not move.invoice_line_ids.filtered(lambda line: line.display_type == "product"):
            problems.append(problem("no_product_lines", move=move.display_name))
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
        where = self._where(line)
        if len(taxes) != 1 or not all(codes):
            return "none", problem("vat_code", taxes=", ".join(taxes.mapped("name")), **where)
        code = codes.pop()
        if code in RATES_BEFORE_CHANGE and sale_date >= VAT_RATE_CHANGE:
            return code, problem("vat20_after_change", date=sale_date, **where)
        if code in RATES_AFTER_CHANGE and sale_date < VAT_RATE_CHANGE:
            return code, problem("vat22_before_change", date=sale_date, **where)
        return code, None

    @api.model
    def _where(self, line):
        """How a problem names a line: its label and its invoice."""
        return {"line": line.name or line.product_id.display_name, "move": line.move_id.display_name}

    @api.model
    def _line_problems(self, line, client):
        """Marking codes, agent data and printable text of a line, for the service of ``client``."""
        where = self._where(line)
        problems = self._mark_code_problems(line, client, where) + self._agent_problems(line, where)
        product = line.product_id.product_tmpl_id
        refused = client.unprintable(self._item_name(line))
        if refused:
            problems.append(problem("line_unprintable", chars=" ".join(refused), **where))
        codes = product.l10n_ru_kkm_marked and line._l10n_ru_kkm_mark_code_list()
        if (codes and not client.marking) or (product.l10n_ru_kkm_agent_type and not client.supports_agents):
            problems.append(problem("marking_or_agent_unsupported", service=client.label, **where))
        return problems

    @api.model
    def _mark_code_problems(self, line, client, where):
        problems = []
        product = line.product_id.product_tmpl_id
        codes = line._l10n_ru_kkm_mark_code_list() if product.l10n_ru_kkm_marked else ()
        if codes and len(codes) != line.quantity:
            problems.append(problem("mark_codes_count", count=len(codes), quantity=line.quantity, **where))
        too_long = [code for code in codes if len(code) > rd.MARK_CODE_MAX]
        if too_long:
            problems.append(
                problem("mark_code_too_long", code=too_long[0][:32], max=rd.MARK_CODE_MAX, **where)
            )
        if client.marking and any(not client.mark_code_accepted(code) for code in codes):
            problems.append(problem("mark_code_form", **where))
        return problems

    @api.model
    def _agent_problems(self, line, where):
        product = line.product_id.product_tmpl_id
        supplier = product.l10n_ru_kkm_supplier_id
        if product.l10n_ru_kkm_agent_type and not (supplier and self._supplier_inn(supplier)):
            return [problem("agent_supplier", product=product.display_name, **where)]
        return []
