"""Reconciliation: every kind of disagreement between the books and the receipts is found once,
with its action; a clean period reports none; the service is asked again at night
(docs/architecture.rst, "Reconciliation")."""

from datetime import date, timedelta

from odoo.exceptions import UserError
from odoo.tests import tagged

from .common import KkmTestCommon
from .sandbox_common import KkmSandboxCommon, no_poll_spacing

TODAY = date.today()
# The test invoices are dated by their fixtures (2019 for AccountTestInvoicingCommon's).
START, END = date(2000, 1, 1), TODAY + timedelta(days=1)


@tagged("post_install", "-at_install")
class TestReconciliation(KkmTestCommon):
    def setUp(self):
        super().setUp()
        self.uuids = iter(f"uuid-r{n}" for n in range(100))

    def done_invoice(self, amount=1200.0, move_type="out_invoice"):
        move = self.post_invoice(amounts=(amount,), move_type=move_type)
        receipt = move.l10n_ru_kkm_receipt_ids
        self.mock.reset()
        uuid = next(self.uuids)
        self.atol.token_ok()
        self.atol.register_ok(uuid=uuid, operation=receipt.operation)
        self.atol.report_done(uuid=uuid)
        receipt._l10n_ru_kkm_send()
        receipt._l10n_ru_kkm_fetch_report()
        self.assertEqual(receipt.state, "done", receipt.error_message)
        return move, receipt

    def reconcile(self):
        return self.env["l10n_ru_kkm.discrepancy"]._l10n_ru_kkm_reconcile(self.company, START, END)

    def sql(self, query, *params):
        self.env.flush_all()
        self.env.cr.execute(query, params)
        self.env.invalidate_all()

    def assertFound(self, found, kind, move, difference=None):
        rows = found.filtered(lambda d: d.kind == kind)
        self.assertEqual(len(rows), 1, f"{kind}: {found.mapped(lambda d: (d.kind, d.move_id.name))}")
        self.assertEqual(rows.move_id, move)
        if difference is not None:
            self.assertAlmostEqual(rows.difference, difference, places=2)
        return rows

    def test_a_clean_period_reports_nothing(self):
        self.done_invoice()
        move, _receipt = self.done_invoice(1500.0)
        credit_note = move._reverse_moves()
        credit_note.action_post()
        refund = credit_note.l10n_ru_kkm_receipt_ids
        self.mock.reset()
        self.atol.token_ok()
        self.atol.register_ok(uuid="uuid-refund", operation="sell_refund")
        self.atol.report_done(uuid="uuid-refund")
        refund._l10n_ru_kkm_send()
        refund._l10n_ru_kkm_fetch_report()
        self.assertEqual(refund.state, "done")
        self.assertFalse(self.reconcile())
        totals = self.env["l10n_ru_kkm.reconciliation.total"].search([("company_id", "=", self.company.id)])
        self.assertEqual(set(totals.mapped("vat_code")), {"vat20"})
        self.assertEqual(sum(totals.mapped("ledger_gross")), 1200.0)  # 1200 + 1500 - 1500
        self.assertEqual(sum(totals.mapped("fiscal_gross")), 1200.0)
        self.assertEqual(sum(totals.mapped("ledger_vat")), 200.0)
        self.assertEqual(set(totals.mapped("gross_difference")) | set(totals.mapped("vat_difference")), {0.0})
        code, text = self.env["l10n_ru_kkm.cli"]._run(
            {"command": "reconcile", "date_from": str(START), "date_to": str(END), "company": None}
        )
        self.assertEqual(code, 0, text)

    def test_no_receipt(self):
        move = self.post_invoice()
        self.sql("DELETE FROM l10n_ru_kkm_receipt WHERE move_id = %s", move.id)
        found = self.reconcile()
        row = self.assertFound(found, "missing", move)
        self.assertEqual(len(found), 1)
        row.action_send_missing()
        self.assertEqual(len(move.l10n_ru_kkm_receipt_ids), 1)
        self.assertFalse(self.reconcile().filtered(lambda d: d.kind == "missing"))
        self.assertTrue(row.resolved)

    def test_a_receipt_not_registered_in_time(self):
        move = self.post_invoice()
        receipt = move.l10n_ru_kkm_receipt_ids
        self.sql(
            "UPDATE l10n_ru_kkm_receipt SET create_date = now() - interval '30 hours' WHERE id = %s",
            receipt.id,
        )
        row = self.assertFound(self.reconcile(), "late", move)
        self.assertEqual(row.receipt_id, receipt)

    def test_a_registered_total_that_differs(self):
        move, receipt = self.done_invoice()
        self.sql("UPDATE l10n_ru_kkm_receipt SET amount_total = 1190 WHERE id = %s", receipt.id)
        row = self.assertFound(self.reconcile(), "amount", move, difference=-10.0)
        action = row.action_correction()
        self.assertEqual(action["res_model"], "l10n_ru_kkm.correction.wizard")
        self.assertEqual(action["context"]["default_move_id"], move.id)

    def test_a_sale_registered_twice(self):
        move, receipt = self.done_invoice()
        receipt.sudo().copy({"external_id": "twice", "state": "done"})
        self.assertFound(self.reconcile(), "twice", move)

    def test_a_receipt_for_a_cancelled_document(self):
        move, _receipt = self.done_invoice()
        self.sql("UPDATE account_move SET state = 'cancel' WHERE id = %s", move.id)
        self.assertFound(self.reconcile(), "cancelled", move)

    def test_vat_per_rate_that_differs(self):
        move, receipt = self.done_invoice()
        self.sql(
            """UPDATE l10n_ru_kkm_receipt SET vat_amounts = '{"vat20": {"gross": "1200.00", "vat": "190.00"}}'
               WHERE id = %s""",
            receipt.id,
        )
        row = self.assertFound(self.reconcile(), "vat", move, difference=-10.0)
        self.assertEqual(row.detail, "vat20")

    def test_an_advance_not_offset(self):
        vat22 = self.vat20.copy({"name": "НДС 22%", "amount": 22, "l10n_ru_kkm_vat_code": "vat22"})
        self.company.write(
            {"l10n_ru_kkm_trigger": "paid", "l10n_ru_kkm_prepayment": True, "account_sale_tax_id": vat22.id}
        )
        payment = self.env["account.payment"].create(
            {
                "payment_type": "inbound",
                "partner_type": "customer",
                "partner_id": self.partner_a.id,
                "amount": 1200.0,
                "journal_id": self.company_data["default_journal_bank"].id,
            }
        )
        payment.action_post()
        self.env.flush_all()
        self.env.cr.precommit.run()
        advance = payment.move_id.l10n_ru_kkm_receipt_ids
        self.assertEqual(advance.payment_stage, "prepayment")
        self.register_done(advance, "uuid-advance")
        move = self.init_invoice(
            "out_invoice", partner=self.partner_a, amounts=[1200.0], taxes=vat22, invoice_date="2026-11-25"
        )
        move.action_post()
        receivable = payment.move_id.line_ids.filtered(
            lambda line: line.account_id.account_type == "asset_receivable"
        )
        move.js_assign_outstanding_line(receivable.id)
        self.env.flush_all()
        self.env.cr.precommit.run()
        sale = move.l10n_ru_kkm_receipt_ids
        self.mock.reset()
        self.register_done(sale, "uuid-offset")
        self.assertEqual((sale.amount_prepaid, sale.amount_deducted), (1200.0, 0.0))
        self.assertFalse(self.reconcile().filtered(lambda d: d.kind in ("advance", "amount")))
        self.sql("UPDATE l10n_ru_kkm_receipt SET amount_prepaid = 0 WHERE id = %s", sale.id)
        row = self.assertFound(self.reconcile(), "advance", payment.move_id)
        self.assertEqual(row.receipt_id, advance)
        self.assertIn(move.name, row.detail)

    def test_an_explanation_is_kept_in_later_runs(self):
        move, receipt = self.done_invoice()
        self.sql("UPDATE l10n_ru_kkm_receipt SET amount_total = 1190 WHERE id = %s", receipt.id)
        row = self.assertFound(self.reconcile(), "amount", move)
        with self.assertRaises(UserError):
            row.action_explain()  # a reason is needed
        row.explanation = "Agreed with the customer: 10 RUB off at the till."
        row.action_explain()
        again = self.assertFound(self.reconcile(), "amount", move)
        self.assertEqual(again, row)
        self.assertTrue(again.explained)
        self.assertEqual(
            self.env["l10n_ru_kkm.discrepancy"]._l10n_ru_kkm_summary(self.company, START, END)["count"], 0
        )
        code, _text = self.env["l10n_ru_kkm.cli"]._run(
            {"command": "reconcile", "date_from": str(START), "date_to": str(END), "company": None}
        )
        self.assertEqual(code, 0, "an explained discrepancy does not fail the command")

    def test_the_command_line_and_the_daily_report_say_what_disagrees(self):
        move = self.post_invoice()
        self.sql("DELETE FROM l10n_ru_kkm_receipt WHERE move_id = %s", move.id)
        code, text = self.env["l10n_ru_kkm.cli"]._run(
            {"command": "reconcile", "date_from": str(START), "date_to": str(END), "company": None}
        )
        self.assertEqual(code, 1)
        self.assertIn(move.name, text)
        html = self.env["l10n_ru_kkm.receipt"]._l10n_ru_kkm_render_report(self.company, START, END)
        self.assertIn("Discrepancies to look at: 1", html)
        self.assertIn(move.name, html)


@tagged("post_install", "-at_install")
class TestServiceCheck(KkmSandboxCommon):
    """The nightly check asks ATOL again about registered receipts."""

    def test_a_forgotten_document_and_a_changed_fiscal_sign_are_found(self):
        with self.trapped() as trap:
            moves = self.create_invoices(3)
            receipts = moves.l10n_ru_kkm_receipt_ids
            self.drive(trap, receipts)
        self.assertEqual(set(receipts.mapped("state")), {"done"})
        kept, forgotten, changed = receipts.sorted("id")
        self.sandbox.forget(forgotten.vendor_uuid)
        self.sandbox.alter(changed.vendor_uuid, fiscal_document_attribute=123)
        discrepancies = self.env["l10n_ru_kkm.discrepancy"]
        start, end = TODAY - timedelta(days=400), TODAY + timedelta(days=1)
        with no_poll_spacing():
            first = discrepancies._l10n_ru_kkm_verify(self.company, start, end, limit=1)
            self.assertFalse(first)
            self.assertTrue(kept.verified_at, "checked, and not asked again")
            found = discrepancies._l10n_ru_kkm_verify(self.company, start, end)
            self.assertFalse(discrepancies._l10n_ru_kkm_verify(self.company, start, end) - found)
        self.assertEqual(
            sorted((d.kind, d.receipt_id.id) for d in found),
            sorted([("vendor_unknown", forgotten.id), ("vendor_mismatch", changed.id)]),
        )
        self.assertIn("123", found.filtered(lambda d: d.kind == "vendor_mismatch").detail)
