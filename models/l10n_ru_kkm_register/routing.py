"""Which register takes a new receipt (docs/architecture.rst, "Cash registers")."""

from odoo import api, models


class L10nRuKkmRegister(models.Model):
    _inherit = "l10n_ru_kkm.register"

    @api.model
    def _l10n_ru_kkm_route(self, move):
        """(register, note) of a new receipt of ``move``, frozen on it.

        A refund, a re-issue, a correction or a payment goes to the register that holds the
        original sale (a compatible one, with a note, when that one is archived); otherwise the
        first rule that matches, registers in sequence: sales journal, sales team (each website
        sells through its own), product category; then the company's default register.
        """
        company = move.company_id
        registers = self.sudo().search([("company_id", "=", company.id)])
        default = company.l10n_ru_kkm_register_id
        default = default if default.active else registers[:1] or company._l10n_ru_kkm_default_register()
        sales = (move.l10n_ru_kkm_receipt_ids | move.reversed_entry_id.l10n_ru_kkm_receipt_ids).filtered(
            lambda r: r.operation == "sell" and r.state == "done" and r.register_id
        )
        held = sales.sorted("id")[:1].register_id.sudo()
        if held:
            if held.active:
                return held, ""
            compatible = registers.filtered(lambda r: r.vendor == held.vendor)[:1] or default
            return compatible, self.env._(
                "The register of the original sale, %(old)s, is archived: sent to %(new)s.",
                old=held.name,
                new=compatible.name,
            )
        team = move.team_id if "team_id" in move._fields else None
        categories = move.invoice_line_ids.product_id.categ_id
        for register in registers:
            if move.journal_id in register.journal_ids:
                return register, ""
        for register in registers:
            if team and team in register.team_ids:
                return register, ""
        for register in registers.filtered("categ_ids"):
            covered = self.env["product.category"].search([("id", "child_of", register.categ_ids.ids)])
            if categories & covered:
                return register, ""
        return default, ""
