from odoo import fields
from odoo.tests import tagged

from .common import KkmTestCommon


@tagged("post_install", "-at_install")
class TestAdvancePayments(KkmTestCommon):
    """A payment received before its invoice, then offset by the invoice's receipt."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.vat22 = cls.vat20.copy({"name": "НДС 22% (incl.)", "amount": 22, "l10n_ru_kkm_vat_code": "vat22"})
        cls.company.write(
            {
                "l10n_ru_kkm_trigger": "paid",
                "l10n_ru_kkm_prepayment": True,
                "account_sale_tax_id": cls.vat22.id,
            }
        )

    def _receive(self, amount, date="2026-11-20"):
        """A customer payment posted on its own, its transaction then committed."""
        payment = self.env["account.payment"].create(
            {
                "payment_type": "inbound",
                "partner_type": "customer",
                "partner_id": self.partner_a.id,
                "amount": amount,
                "date": date,
                "journal_id": self.company_data["default_journal_bank"].id,
            }
        )
        payment.action_post()
        self._commit()
        return payment

    def _commit(self):
        self.env.flush_all()
        self.env.cr.precommit.run()

    def _invoice(self, amount):
        move = self.init_invoice(
            "out_invoice",
            partner=self.partner_a,
            amounts=[amount],
            taxes=self.vat22,
            invoice_date="2026-11-25",
        )
        move.action_post()
        return move

    def _pay_rest(self, move):
        self.env["account.payment.register"].with_context(
            active_model="account.move", active_ids=move.ids
        ).create({})._create_payments()
        self._commit()

    def test_a_payment_before_its_invoice_is_registered_as_an_advance(self):
        receipt = self._receive(300.0).move_id.l10n_ru_kkm_receipt_ids
        self.assertEqual(
            (receipt.operation, receipt.payment_stage, receipt.state), ("sell", "prepayment", "to_send")
        )
        body = receipt.request_payload["receipt"]
        self.assertEqual(len(body["items"]), 1)
        item = body["items"][0]
        self.assertEqual((item["payment_method"], item["payment_object"]), ("advance", "payment"))
        self.assertEqual((item["price"], item["quantity"], item["sum"]), (300.0, 1.0, 300.0))
        self.assertEqual(item["vat"], {"type": "vat122", "sum": 54.1})
        self.assertEqual(body["payments"], [{"type": 1, "sum": 300.0}])
        self.assertEqual(body["client"], {"email": "buyer@example.ru"})

    def test_an_advance_received_in_2025_has_the_calculated_rate_of_20_percent(self):
        receipt = self._receive(120.0, date="2025-12-20").move_id.l10n_ru_kkm_receipt_ids
        self.assertEqual(
            receipt.request_payload["receipt"]["items"][0]["vat"], {"type": "vat120", "sum": 20.0}
        )

    def test_paying_an_invoice_is_not_an_advance(self):
        move = self._invoice(1000.0)
        self._pay_rest(move)
        payments = self.env["account.payment"].search([("partner_id", "=", self.partner_a.id)])
        self.assertTrue(payments)
        self.assertFalse(payments.move_id.l10n_ru_kkm_receipt_ids, "a payment of an invoice is no advance")
        receipt = move.l10n_ru_kkm_receipt_ids
        self.assertEqual(receipt.request_payload["receipt"]["payments"], [{"type": 1, "sum": 1000.0}])

    def test_a_payment_matched_before_the_commit_is_not_an_advance(self):
        move = self._invoice(500.0)
        payment = self.env["account.payment"].create(
            {
                "payment_type": "inbound",
                "partner_type": "customer",
                "partner_id": self.partner_a.id,
                "amount": 500.0,
                "journal_id": self.company_data["default_journal_bank"].id,
            }
        )
        payment.action_post()
        receivable = payment.move_id.line_ids.filtered(
            lambda line: line.account_id.account_type == "asset_receivable"
        )
        move.js_assign_outstanding_line(receivable.id)
        self._commit()
        self.assertFalse(payment.move_id.l10n_ru_kkm_receipt_ids)
        self.assertEqual(
            move.l10n_ru_kkm_receipt_ids.request_payload["receipt"]["payments"], [{"type": 1, "sum": 500.0}]
        )

    def test_the_invoice_paid_with_an_advance_offsets_it(self):
        advance = self._receive(300.0)
        move = self._invoice(1000.0)
        receivable = advance.move_id.line_ids.filtered(
            lambda line: line.account_id.account_type == "asset_receivable"
        )
        move.js_assign_outstanding_line(receivable.id)
        self.assertFalse(move.l10n_ru_kkm_receipt_ids, "not paid yet")
        self._pay_rest(move)
        receipt = move.l10n_ru_kkm_receipt_ids
        body = receipt.request_payload["receipt"]
        self.assertEqual(body["payments"], [{"type": 2, "sum": 300.0}, {"type": 1, "sum": 700.0}])
        self.assertEqual({item["payment_method"] for item in body["items"]}, {"full_payment"})
        self.assertEqual(body["items"][0]["vat"]["type"], "vat22")

    def test_the_report_counts_advances_apart_from_sales(self):
        self.atol.token_ok()
        advance = self._receive(300.0)
        move = self._invoice(1000.0)
        receivable = advance.move_id.line_ids.filtered(
            lambda line: line.account_id.account_type == "asset_receivable"
        )
        move.js_assign_outstanding_line(receivable.id)
        self._pay_rest(move)
        for uuid, receipt in enumerate(
            advance.move_id.l10n_ru_kkm_receipt_ids | move.l10n_ru_kkm_receipt_ids
        ):
            self.atol.register_ok(uuid=f"uuid-{uuid}")
            self.atol.report_done(uuid=f"uuid-{uuid}")
            receipt._l10n_ru_kkm_send()
            receipt._l10n_ru_kkm_fetch_report()
            self.assertEqual(receipt.state, "done")
        today = fields.Date.context_today(move)
        data = self.env["l10n_ru_kkm.receipt"]._l10n_ru_kkm_report_data(self.company, today, today)
        self.assertEqual((data["sold"], data["advances"]), (1000.0, 300.0))

    def test_without_the_option_a_payment_has_no_receipt(self):
        self.company.l10n_ru_kkm_prepayment = False
        self.assertFalse(self._receive(300.0).move_id.l10n_ru_kkm_receipt_ids)

    def test_a_default_sales_tax_without_fiscal_code_is_a_clear_error(self):
        self.vat22.l10n_ru_kkm_vat_code = False
        receipt = self._receive(300.0).move_id.l10n_ru_kkm_receipt_ids
        self.assertEqual(receipt.state, "error")
        self.assertIn("default sales tax", receipt.error_message)
