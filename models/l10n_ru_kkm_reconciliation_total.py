"""Ledger against receipts, per company, day and fiscal VAT rate: the goods and the VAT the books
hold and those the registered receipts say, with the difference (Odoo's pivot and graph views;
docs/architecture.rst, "Reconciliation")."""

from odoo import fields, models, tools
from odoo.tools import SQL

from .l10n_ru_kkm_discrepancy import BASE_CODE

# The goods of each registered receipt count without what the document itself deducted.
VIEW = (
    """
                WITH books AS (
                    SELECT m.company_id, m.date, coalesce(t.l10n_ru_kkm_vat_code, 'none') AS code,
                           sum(CASE WHEN m.move_type = 'out_refund' THEN -1 ELSE 1 END * l.price_total) AS gross,
                           0::numeric AS vat
                      FROM account_move_line l
                      JOIN account_move m ON m.id = l.move_id
                      LEFT JOIN account_move_line_account_tax_rel rel ON rel.account_move_line_id = l.id
                      LEFT JOIN account_tax t ON t.id = rel.account_tax_id
                     WHERE m.state = 'posted' AND m.move_type IN ('out_invoice', 'out_refund')
                       AND l.display_type = 'product'
                     GROUP BY m.company_id, m.date, coalesce(t.l10n_ru_kkm_vat_code, 'none')
                    UNION ALL
                    SELECT m.company_id, m.date, t.l10n_ru_kkm_vat_code, 0, sum(-l.balance)
                      FROM account_move_line l
                      JOIN account_move m ON m.id = l.move_id
                      JOIN account_tax t ON t.id = l.tax_line_id
                     WHERE m.state = 'posted' AND m.move_type IN ('out_invoice', 'out_refund')
                     GROUP BY m.company_id, m.date, t.l10n_ru_kkm_vat_code
                ), receipts AS (
                    -- the goods of each registered receipt, without what earlier advances paid
                    SELECT r.company_id, m.date, """
    + BASE_CODE.format("e.key")
    + """ AS code,
                           sum(CASE WHEN r.operation = 'sell_refund' THEN -1 ELSE 1 END
                               * (e.value->>'gross')::numeric
                               * (1 - coalesce(r.amount_deducted, 0) / nullif(r.amount_total, 0))) AS gross,
                           sum(CASE WHEN r.operation = 'sell_refund' THEN -1 ELSE 1 END
                               * (e.value->>'vat')::numeric
                               * (1 - coalesce(r.amount_deducted, 0) / nullif(r.amount_total, 0))) AS vat
                      FROM l10n_ru_kkm_receipt r
                      JOIN account_move m ON m.id = r.move_id
                      CROSS JOIN LATERAL jsonb_each(r.vat_amounts) e
                     WHERE r.state = 'done' AND r.payment_stage IN ('full', 'credit')
                       AND r.correction_type IS NULL
                     GROUP BY r.company_id, m.date, """
    + BASE_CODE.format("e.key")
    + """
                ), joined AS (
                    SELECT company_id, date, code, sum(gross) AS ledger_gross, sum(vat) AS ledger_vat,
                           0::numeric AS fiscal_gross, 0::numeric AS fiscal_vat
                      FROM books GROUP BY company_id, date, code
                    UNION ALL
                    SELECT company_id, date, code, 0, 0, gross, vat FROM receipts
                )
                SELECT row_number() OVER (ORDER BY company_id, date, code) AS id,
                       company_id, date, code AS vat_code,
                       round(sum(ledger_gross), 2) AS ledger_gross, round(sum(ledger_vat), 2) AS ledger_vat,
                       round(sum(fiscal_gross), 2) AS fiscal_gross, round(sum(fiscal_vat), 2) AS fiscal_vat,
                       round(sum(fiscal_gross) - sum(ledger_gross), 2) AS gross_difference,
                       round(sum(fiscal_vat) - sum(ledger_vat), 2) AS vat_difference
                  FROM joined
                 GROUP BY company_id, date, code
"""
)


class L10nRuKkmReconciliationTotal(models.Model):
    _name = "l10n_ru_kkm.reconciliation.total"
    _description = "Fiscal reconciliation: books against receipts"
    _auto = False
    _order = "date desc, vat_code"

    company_id = fields.Many2one("res.company", readonly=True)
    currency_id = fields.Many2one(related="company_id.currency_id")
    date = fields.Date(readonly=True)
    vat_code = fields.Char(string="Fiscal VAT code", readonly=True)
    ledger_gross = fields.Monetary(string="Books: goods", readonly=True)
    ledger_vat = fields.Monetary(string="Books: VAT", readonly=True)
    fiscal_gross = fields.Monetary(string="Receipts: goods", readonly=True)
    fiscal_vat = fields.Monetary(string="Receipts: VAT", readonly=True)
    gross_difference = fields.Monetary(string="Goods difference", readonly=True)
    vat_difference = fields.Monetary(string="VAT difference", readonly=True)

    def init(self):
        tools.drop_view_if_exists(self.env.cr, self._table)
        self.env.cr.execute(SQL("CREATE VIEW %s AS (%s)", SQL.identifier(self._table), SQL(VIEW)))
