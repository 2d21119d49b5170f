"""Reconciliation: for a company and a period, every disagreement between the books and the
receipts, as rows an accountant can open, act on or explain (docs/architecture.rst,
"Reconciliation").

Each kind is one grouped SQL query over the period's documents (no per-invoice Python). A
discrepancy is one row per (kind, invoice, receipt): a later run finds it again (and keeps its
explanation), or marks it resolved.
"""

from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import UserError

from ..vendors import CLIENTS

KINDS = [
    ("missing", "No receipt"),
    ("late", "Not registered in time"),
    ("amount", "Registered total differs"),
    ("twice", "Registered twice"),
    ("cancelled", "Registered for a cancelled document"),
    ("vat", "VAT per rate differs"),
    ("advance", "Advance not offset"),
    ("vendor_unknown", "Unknown to the service"),
    ("vendor_mismatch", "Service holds other data"),
]
# Receipts that sell or refund goods (not a payment of credit, an advance or a discount refund).
GOODS_STAGES = ("full", "credit")
CENT = 0.005
# The checks of one run; the service's own (vendor_*) come from the nightly check.
RUN_KINDS = ("missing", "late", "amount", "twice", "cancelled", "vat", "advance")
NIGHTLY_DAYS = 31  # the nightly run looks back this far
VERIFY_BATCH = 200  # receipts checked with the service per night (about as many seconds per group)

# A prepayment states VAT at the calculated rate (20/120...) of the rate the books hold (20 %).
BASE_CODE = """CASE {0} WHEN 'vat122' THEN 'vat22' WHEN 'vat120' THEN 'vat20' WHEN 'vat110' THEN 'vat10'
                 WHEN 'vat105' THEN 'vat5' WHEN 'vat107' THEN 'vat7' ELSE {0} END"""

# Goods registered per document: sales and the refunds of credit notes, minus the refunds that
# cancel a sale for a re-issue, net of what earlier advances paid.
_REGISTERED = """
    SELECT r.move_id,
           sum(CASE WHEN r.origin_receipt_id IS NULL THEN 1 ELSE -1 END
               * (r.amount_total - coalesce(r.amount_deducted, 0))) AS registered
      FROM l10n_ru_kkm_receipt r
     WHERE r.state = 'done' AND r.payment_stage IN ('full', 'credit')
       AND (r.correction_type IS NULL)
     GROUP BY r.move_id
"""


class L10nRuKkmDiscrepancy(models.Model):
    _name = "l10n_ru_kkm.discrepancy"
    _description = "Fiscal reconciliation discrepancy"
    _inherit = ["mail.thread"]
    _order = "resolved, date desc, id desc"
    _check_company_auto = True

    company_id = fields.Many2one("res.company", required=True, readonly=True, index=True)
    kind = fields.Selection(selection=KINDS, required=True, readonly=True, index=True)
    move_id = fields.Many2one(
        "account.move", string="Document", readonly=True, index=True, check_company=True
    )
    receipt_id = fields.Many2one("l10n_ru_kkm.receipt", readonly=True, check_company=True)
    date = fields.Date(string="Document date", readonly=True)
    currency_id = fields.Many2one(related="company_id.currency_id")
    expected = fields.Monetary(string="In the books", readonly=True)
    registered = fields.Monetary(readonly=True)
    difference = fields.Monetary(readonly=True)
    detail = fields.Char(readonly=True)
    vat_code = fields.Char(string="Fiscal VAT code", readonly=True)
    first_found = fields.Datetime(readonly=True, default=fields.Datetime.now)
    last_found = fields.Datetime(readonly=True, default=fields.Datetime.now)
    resolved = fields.Boolean(readonly=True, help="A later run no longer found it.")
    explained = fields.Boolean(readonly=True, tracking=True)
    explanation = fields.Text(tracking=True, help="Why this is right as it is; kept and shown in later runs.")

    _one_per_subject = models.UniqueIndex(
        "(company_id, kind, coalesce(move_id, 0), coalesce(receipt_id, 0), coalesce(vat_code, ''))",
        "One discrepancy of a kind per document and receipt.",
    )

    # -- running -------------------------------------------------------------------------------

    @api.model
    def _l10n_ru_kkm_reconcile(self, company, date_from, date_to, late_hours=24):
        """Find every discrepancy of ``company``'s documents dated in [date_from, date_to]; returns
        the open ones (new, or found again)."""
        self.env.flush_all()
        params = {
            "company": company.id,
            "date_from": date_from,
            "date_to": date_to,
            "paid_only": company.l10n_ru_kkm_trigger == "paid",
            "late": fields.Datetime.now() - timedelta(hours=late_hours),
            "cent": CENT,
        }
        rows = []
        for kind in RUN_KINDS:
            rows += [(kind, *row) for row in getattr(self, f"_l10n_ru_kkm_find_{kind}")(params)]
        found = self._l10n_ru_kkm_record(company, rows)
        # What was open in the period and is not found any more is resolved.
        stale = self.sudo().search(
            [
                ("company_id", "=", company.id),
                ("kind", "in", RUN_KINDS),
                ("resolved", "=", False),
                ("date", ">=", date_from),
                ("date", "<=", date_to),
                ("id", "not in", found.ids),
            ]
        )
        stale.write({"resolved": True})
        return found

    def _l10n_ru_kkm_record(self, company, rows):
        """Create or refresh one discrepancy per (kind, document, receipt)."""
        model = self.sudo()
        now = fields.Datetime.now()
        existing = {
            (d.kind, d.move_id.id, d.receipt_id.id, d.vat_code): d
            for d in model.search([("company_id", "=", company.id)])
        }
        found = model.browse()
        values_list = []
        for kind, move_id, receipt_id, date, expected, registered, detail in rows:
            vat_code = (detail or False) if kind == "vat" else False
            values = {
                "date": date,
                "expected": expected or 0.0,
                "registered": registered or 0.0,
                "difference": (registered or 0.0) - (expected or 0.0),
                "detail": detail or False,
                "last_found": now,
                "resolved": False,
            }
            known = existing.get((kind, move_id or False, receipt_id or False, vat_code))
            if known:
                known.write(values)
                found |= known
            else:
                values_list.append(
                    dict(
                        values,
                        company_id=company.id,
                        kind=kind,
                        move_id=move_id,
                        receipt_id=receipt_id,
                        vat_code=vat_code,
                    )
                )
        return found | model.create(values_list)

    def _l10n_ru_kkm_query(self, query, params):
        self.env.cr.execute(query, params)
        return self.env.cr.fetchall()

    # -- the checks: rows of (document, receipt, date, in the books, registered, detail) ------

    def _l10n_ru_kkm_find_missing(self, params):
        return self._l10n_ru_kkm_query(
            """
            SELECT m.id, NULL, m.date, m.amount_total, 0, NULL
              FROM account_move m
             WHERE m.company_id = %(company)s AND m.move_type IN ('out_invoice', 'out_refund')
               AND m.state = 'posted' AND m.date BETWEEN %(date_from)s AND %(date_to)s
               AND (NOT %(paid_only)s OR m.payment_state IN ('paid', 'in_payment'))
               AND NOT EXISTS (SELECT 1 FROM l10n_ru_kkm_receipt r
                                WHERE r.move_id = m.id AND r.state != 'cancelled')
               -- a credit note of a sale never registered refunds nothing (the gate's rule)
               AND (m.reversed_entry_id IS NULL
                    OR EXISTS (SELECT 1 FROM l10n_ru_kkm_receipt o
                                WHERE o.move_id = m.reversed_entry_id AND o.operation = 'sell'
                                  AND o.state != 'cancelled'))
            """,
            params,
        )

    def _l10n_ru_kkm_find_late(self, params):
        return self._l10n_ru_kkm_query(
            """
            SELECT m.id, r.id, m.date, r.amount_total, 0, r.state
              FROM l10n_ru_kkm_receipt r
              JOIN account_move m ON m.id = r.move_id
             WHERE r.company_id = %(company)s AND m.date BETWEEN %(date_from)s AND %(date_to)s
               AND r.state IN ('to_send', 'sent', 'unknown', 'error') AND r.create_date < %(late)s
            """,
            params,
        )

    def _l10n_ru_kkm_find_amount(self, params):
        return self._l10n_ru_kkm_query(
            f"""
            SELECT m.id, NULL, m.date, m.amount_total, g.registered, NULL
              FROM account_move m
              JOIN ({_REGISTERED}) g ON g.move_id = m.id
             WHERE m.company_id = %(company)s AND m.move_type IN ('out_invoice', 'out_refund')
               AND m.state = 'posted' AND m.date BETWEEN %(date_from)s AND %(date_to)s
               AND abs(m.amount_total - g.registered) > %(cent)s
               -- an early-payment discount changes what is paid, not the invoice (README, limits)
               AND NOT EXISTS (SELECT 1 FROM account_move_line e
                                WHERE e.move_id = m.id AND e.display_type = 'epd')
               -- still being registered: that is "late", not a wrong amount
               AND NOT EXISTS (SELECT 1 FROM l10n_ru_kkm_receipt p
                                WHERE p.move_id = m.id AND p.state IN ('to_send', 'sent', 'unknown', 'error'))
            """,  # _REGISTERED is a constant of this module, not input
            params,
        )

    def _l10n_ru_kkm_find_twice(self, params):
        return self._l10n_ru_kkm_query(
            """
            SELECT m.id, max(r.id), m.date, max(r.amount_total), sum(r.amount_total),
                   count(*)::text || ' x part ' || r.part::text
              FROM l10n_ru_kkm_receipt r
              JOIN account_move m ON m.id = r.move_id
             WHERE r.company_id = %(company)s AND m.date BETWEEN %(date_from)s AND %(date_to)s
               AND r.state = 'done' AND r.payment_stage IN ('full', 'credit')
               AND r.origin_receipt_id IS NULL AND r.correction_type IS NULL
             GROUP BY m.id, m.date, r.operation, r.part
            HAVING count(*) > 1 + (
                   SELECT count(*) FROM l10n_ru_kkm_receipt x
                    WHERE x.move_id = m.id AND x.part = r.part AND x.state = 'done'
                      AND x.origin_receipt_id IS NOT NULL)
            """,
            params,
        )

    def _l10n_ru_kkm_find_cancelled(self, params):
        return self._l10n_ru_kkm_query(
            """
            SELECT m.id, r.id, m.date, 0, r.amount_total, m.state
              FROM l10n_ru_kkm_receipt r
              JOIN account_move m ON m.id = r.move_id
             WHERE r.company_id = %(company)s AND m.date BETWEEN %(date_from)s AND %(date_to)s
               AND m.state != 'posted' AND r.state = 'done' AND r.origin_receipt_id IS NULL
               AND r.payment_stage IN ('full', 'credit') AND r.correction_type IS NULL
               AND NOT EXISTS (SELECT 1 FROM l10n_ru_kkm_receipt x
                                WHERE x.origin_receipt_id = r.id AND x.state = 'done')
            """,
            params,
        )

    def _l10n_ru_kkm_find_vat(self, params):
        """VAT per fiscal rate: the document's tax lines against its registered receipts."""
        return self._l10n_ru_kkm_query(
            f"""
            WITH ledger AS (
                SELECT l.move_id, t.l10n_ru_kkm_vat_code AS code,
                       sum(CASE WHEN m.move_type = 'out_refund' THEN l.balance ELSE -l.balance END) AS vat
                  FROM account_move_line l
                  JOIN account_move m ON m.id = l.move_id
                  JOIN account_tax t ON t.id = l.tax_line_id
                 WHERE m.company_id = %(company)s AND m.state = 'posted'
                   AND m.move_type IN ('out_invoice', 'out_refund')
                   AND m.date BETWEEN %(date_from)s AND %(date_to)s
                 GROUP BY l.move_id, t.l10n_ru_kkm_vat_code
            ), fiscal AS (
                SELECT r.move_id, {BASE_CODE.format("e.key")} AS code,
                       sum(CASE WHEN r.origin_receipt_id IS NULL THEN 1 ELSE -1 END
                           * (e.value->>'vat')::numeric) AS vat,
                       sum(coalesce((e.value->>'items')::int, 1)) AS items
                  FROM l10n_ru_kkm_receipt r
                  JOIN account_move m ON m.id = r.move_id
                  CROSS JOIN LATERAL jsonb_each(r.vat_amounts) e
                 WHERE r.company_id = %(company)s AND r.state = 'done'
                   AND r.payment_stage IN ('full', 'credit') AND r.correction_type IS NULL
                   AND r.vat_amounts IS NOT NULL AND m.date BETWEEN %(date_from)s AND %(date_to)s
                   AND coalesce(r.amount_deducted, 0) = 0
                 GROUP BY r.move_id, {BASE_CODE.format("e.key")}
            ), moves AS (
                -- documents wholly registered with the figures frozen (19.0.1.5.0 on)
                SELECT r.move_id FROM l10n_ru_kkm_receipt r
                 WHERE r.company_id = %(company)s AND r.state = 'done'
                   AND r.payment_stage IN ('full', 'credit') AND r.correction_type IS NULL
                 GROUP BY r.move_id
                HAVING bool_and(r.vat_amounts IS NOT NULL AND coalesce(r.amount_deducted, 0) = 0)
            )
            SELECT m.id, NULL, m.date, coalesce(l.vat, 0), coalesce(f.vat, 0), coalesce(l.code, f.code)
              FROM moves mv
              JOIN account_move m ON m.id = mv.move_id AND m.state = 'posted'
              LEFT JOIN ledger l ON l.move_id = mv.move_id
              FULL JOIN fiscal f ON f.move_id = l.move_id AND f.code = l.code
             WHERE m.id = coalesce(l.move_id, f.move_id)
               AND coalesce(l.code, f.code) != 'none'
               -- the books round each line's VAT, the register each item's: half a kopeck each;
               -- a cash rounding line, spread over the goods on the receipt, carries its VAT there
               AND abs(coalesce(l.vat, 0) - coalesce(f.vat, 0)) > %(cent)s * (1 + coalesce(f.items, 0) + (
                   SELECT count(*) FROM account_move_line p
                    WHERE p.move_id = m.id AND p.display_type = 'product')) + (
                   SELECT coalesce(sum(abs(rl.balance)), 0) FROM account_move_line rl
                    WHERE rl.move_id = m.id AND rl.display_type = 'rounding')
               AND NOT EXISTS (SELECT 1 FROM account_move_line e
                                WHERE e.move_id = m.id AND e.display_type = 'epd')
               -- a cash rounding added to the biggest tax is VAT the goods do not carry
               AND NOT EXISTS (SELECT 1 FROM account_cash_rounding cr
                                WHERE cr.id = m.invoice_cash_rounding_id AND cr.strategy = 'biggest_tax')
            """,  # BASE_CODE is a constant of this module, not input
            params,
        )

    def _l10n_ru_kkm_find_advance(self, params):
        """Advances registered for a payment that paid invoices whose receipts offset none."""
        advances = (
            self.env["l10n_ru_kkm.receipt"]
            .sudo()
            .search(
                [
                    ("company_id", "=", params["company"]),
                    ("payment_stage", "=", "prepayment"),
                    ("state", "=", "done"),
                    ("move_id.date", ">=", params["date_from"]),
                    ("move_id.date", "<=", params["date_to"]),
                ]
            )
        )
        rows = []
        for advance in advances:  # advances are few: one per payment received before its invoice
            invoices = advance.move_id.origin_payment_id.reconciled_invoice_ids
            receipts = invoices.l10n_ru_kkm_receipt_ids.filtered(
                lambda r: r.state == "done" and r.payment_stage in GOODS_STAGES
            )
            offset = sum(r.amount_prepaid - r.amount_deducted for r in receipts)
            if invoices and receipts and offset < CENT:
                rows.append(
                    (
                        advance.move_id.id,
                        advance.id,
                        advance.move_id.date,
                        advance.amount_total,
                        0.0,
                        ", ".join(invoices.mapped("name")),
                    )
                )
        return rows

    @api.model
    def _cron_l10n_ru_kkm_reconcile(self):
        """Every night: the last month reconciled again, and a batch of its receipts checked
        with the service (the next night resumes where this one stopped)."""
        today = fields.Date.context_today(self)
        for company in self.env["res.company"].search([("l10n_ru_kkm_enabled", "=", True)]):
            start = today - timedelta(days=NIGHTLY_DAYS)
            self._l10n_ru_kkm_reconcile(company, start, today)
            self._l10n_ru_kkm_verify(company, start, today, limit=VERIFY_BATCH)

    @api.model
    def _l10n_ru_kkm_summary(self, company, date_from, date_to, top=5):
        """Open, unexplained discrepancies of a period: their count and the first ``top``."""
        domain = [
            ("company_id", "=", company.id),
            ("resolved", "=", False),
            ("explained", "=", False),
            ("date", ">=", date_from),
            ("date", "<=", date_to),
        ]
        model = self.sudo()
        labels = dict(self._fields["kind"]._description_selection(self.env))
        return {
            "count": model.search_count(domain),
            "top": [
                {
                    "kind": labels[d.kind],
                    "document": d.move_id.name or "",
                    "difference": d.difference,
                    "detail": d.detail or "",
                }
                for d in model.search(domain, limit=top, order="date, id")
            ],
        }

    # -- the service's own word (nightly, rate-limited, resumable) -----------------------------

    @api.model
    def _l10n_ru_kkm_verify(self, company, date_from, date_to, limit=200):
        """Ask the service again about registered receipts of the period not checked yet, at
        most ``limit`` per call (the next call resumes): a document the service no longer
        knows, or whose fiscal data differ from those stored, is a discrepancy. Services that
        answer only when registering (Checkonline) cannot be asked again (README, limits)."""
        receipts = self.env["l10n_ru_kkm.receipt"].sudo()
        askable = [code for code, client in CLIENTS.items() if not client.is_synchronous]
        todo = receipts.search(
            [
                ("company_id", "=", company.id),
                ("state", "=", "done"),
                ("vendor", "in", askable),
                ("vendor_uuid", "!=", False),
                ("verified_at", "=", False),
                ("move_id.date", ">=", date_from),
                ("move_id.date", "<=", date_to),
            ],
            limit=limit,
            order="id",
        )
        rows = []
        for receipt in todo:
            receipt._l10n_ru_kkm_wait_for_slot()  # ATOL's pace, shared with the poll cron
            row = receipt._l10n_ru_kkm_verify_one()
            if row:
                rows.append(row)
        return self._l10n_ru_kkm_record(company, rows)

    # -- what the accountant does ---    # -- what the accountant does -------------------------------------------------------------

    def action_explain(self):
        for discrepancy in self:
            if not (discrepancy.explanation or "").strip():
                raise UserError(
                    self.env._(
                        "Write why %(subject)s is right as it is, then mark it as explained.",
                        subject=discrepancy.display_name,
                    )
                )
        self.sudo().write({"explained": True})

    def action_open_document(self):
        self.ensure_one()
        target = self.receipt_id or self.move_id
        return {
            "type": "ir.actions.act_window",
            "res_model": target._name,
            "res_id": target.id,
            "views": [(False, "form")],
        }

    def action_send_missing(self):
        self.env["l10n_ru_kkm.receipt"]._l10n_ru_kkm_check_rights("l10n_ru_kkm.group_kkm_user")
        return self.move_id.action_l10n_ru_kkm_send()

    def action_resend(self):
        self.env["l10n_ru_kkm.receipt"]._l10n_ru_kkm_check_rights("l10n_ru_kkm.group_kkm_user")
        failed = self.receipt_id.filtered(lambda r: r.state == "error")
        if not failed:
            raise UserError(
                self.env._("Only a refused receipt can be resent; the others are still on their way.")
            )
        return failed.action_l10n_ru_kkm_resend()

    def action_correction(self):
        """The correction wizard, prefilled with the document and the sale date."""
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": "l10n_ru_kkm.correction.wizard",
            "view_mode": "form",
            "target": "new",
            "context": {
                "default_move_id": self.move_id.id,
                "default_base_date": fields.Date.to_string(self.move_id.invoice_date or self.date),
                "default_operation": "sell_correction" if self.difference < 0 else "sell_refund_correction",
            },
        }
