"""Which register takes a new receipt (docs/architecture.rst, "Cash registers")."""

from odoo import api, models, tools

# What routing reads: a change to one of these forgets the cached routing table.
ROUTING_FIELDS = {"active", "sequence", "company_id", "journal_ids", "team_ids", "categ_ids"}


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
        table = self._l10n_ru_kkm_routing_table(company.id)
        registers = self.sudo().browse([row[0] for row in table])
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
        team = move.team_id.id if "team_id" in move._fields else None
        categories = set(move.invoice_line_ids.product_id.categ_id.ids)
        for register_id, journals, _teams, _categories in table:
            if move.journal_id.id in journals:
                return self.sudo().browse(register_id), ""
        for register_id, _journals, teams, _categories in table:
            if team and team in teams:
                return self.sudo().browse(register_id), ""
        for register_id, _journals, _teams, covered in table:
            if categories & covered:
                return self.sudo().browse(register_id), ""
        return default, ""

    @api.model
    @tools.ormcache("company_id")
    def _l10n_ru_kkm_routing_table(self, company_id):
        """The company's active registers in sequence, each with its journals, teams and
        categories (with their subcategories): read once, not at every posting."""
        table = []
        for register in self.sudo().search([("company_id", "=", company_id)]):
            covered = self.env["product.category"]
            if register.categ_ids:
                covered = covered.search([("id", "child_of", register.categ_ids.ids)])
            table.append(
                (
                    register.id,
                    frozenset(register.journal_ids.ids),
                    frozenset(register.team_ids.ids),
                    frozenset(covered.ids),
                )
            )
        return tuple(table)

    @api.model_create_multi
    def create(self, vals_list):
        self.env.registry.clear_cache()
        return super().create(vals_list)

    def write(self, vals):
        if ROUTING_FIELDS & set(vals):
            self.env.registry.clear_cache()
        return super().write(vals)

    def unlink(self):
        self.env.registry.clear_cache()
        return super().unlink()
