"""The demo tells the story at first login (issue "The accountant's day, polished"): Russian VAT
taxes in their tax groups with their fiscal codes, realistic products and customers, and one
document of each interesting kind."""

from odoo.tests import TransactionCase, tagged

from ..models.demo import ADVANCE_COMPANY_NAME


@tagged("post_install", "-at_install")
class TestDemo(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.shop = cls.env["l10n_ru_kkm.demo"]._populate()
        cls.env.cr.precommit.run()  # the advance is registered when its transaction commits
        cls.workshop = cls.env["res.company"].search([("name", "=", ADVANCE_COMPANY_NAME)])

    def _moves(self, company, **domain):
        return self.env["account.move"].search(
            [("company_id", "=", company.id), *((key, "=", value) for key, value in domain.items())]
        )

    def test_vat_taxes_in_their_groups_with_their_fiscal_codes(self):
        taxes = self.env["account.tax"].search(
            [("company_id", "=", self.shop.id), ("l10n_ru_kkm_vat_code", "!=", False)]
        )
        self.assertEqual(
            {(tax.tax_group_id.name, tax.l10n_ru_kkm_vat_code, tax.amount) for tax in taxes},
            {("НДС 22%", "vat22", 22), ("НДС 10%", "vat10", 10), ("Без НДС", "none", 0)},
        )
        self.assertEqual(self.shop.account_sale_tax_id.l10n_ru_kkm_vat_code, "vat22")
        self.assertEqual((self.shop.currency_id.name, self.workshop.currency_id.name), ("RUB", "RUB"))

    def test_products_of_every_kind_and_customers_who_can_receive_a_receipt(self):
        products = self.env["product.product"].search([("company_id", "=", self.shop.id)])
        self.assertTrue(products.filtered(lambda p: p.type == "service"))
        self.assertTrue(products.filtered(lambda p: p.type == "consu" and not p.l10n_ru_kkm_marked))
        self.assertTrue(products.filtered("l10n_ru_kkm_marked"))
        agent = products.filtered("l10n_ru_kkm_agent_type")
        self.assertTrue(agent.l10n_ru_kkm_supplier_id.vat)
        customers = self._moves(self.shop).partner_id | self._moves(self.workshop).partner_id
        for customer in customers:
            self.assertTrue(customer.email or customer.phone, customer.name)

    def test_one_document_of_each_kind(self):
        discount = self._moves(self.shop, move_type="out_invoice", state="draft")
        self.assertTrue(any(discount.invoice_line_ids.mapped("discount")))
        self.assertTrue(any(discount.invoice_line_ids.mapped("l10n_ru_kkm_mark_codes")))
        credit_sale = self._moves(self.shop, move_type="out_invoice", state="posted")
        self.assertEqual(credit_sale.l10n_ru_kkm_receipt_ids.payment_stage, "credit")
        self.assertEqual(credit_sale.l10n_ru_kkm_receipt_ids.state, "to_send")
        credit_note = self._moves(self.shop, move_type="out_refund")
        self.assertEqual((credit_note.state, credit_note.reversed_entry_id), ("draft", credit_sale))
        advance = self.env["l10n_ru_kkm.receipt"].search([("company_id", "=", self.workshop.id)])
        self.assertEqual(
            (advance.payment_stage, advance.amount_total, advance.state), ("prepayment", 10000.0, "to_send")
        )
        self.assertTrue(self._moves(self.workshop, move_type="out_invoice", state="draft"))
        for receipt in credit_sale.l10n_ru_kkm_receipt_ids | advance:
            self.assertTrue(receipt.request_payload, receipt.error_message)
