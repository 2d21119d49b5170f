import base64
from decimal import Decimal

from odoo import Command, fields
from odoo.tests import tagged

from .common import KkmTestCommon


@tagged("post_install", "-at_install")
class TestBuilder(KkmTestCommon):
    """Invoices Odoo can produce, turned into receipts that are right to the kopeck."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.vat22 = cls.vat20.copy({"name": "НДС 22% (incl.)", "amount": 22, "l10n_ru_kkm_vat_code": "vat22"})

    def _invoice(self, lines, move_type="out_invoice", invoice_date="2025-06-01", partner=None, **values):
        move = self.env["account.move"].create(
            {
                "move_type": move_type,
                "partner_id": (partner or self.partner_a).id,
                "invoice_date": invoice_date,
                "invoice_line_ids": [Command.create(line) for line in lines],
                **values,
            }
        )
        move.action_post()
        return move

    def _line(self, price, quantity=1.0, **values):
        return {
            "name": "Товар",
            "price_unit": price,
            "quantity": quantity,
            "tax_ids": [Command.set(self.vat20.ids)],
            **values,
        }

    def _items(self, move):
        receipt = move.l10n_ru_kkm_receipt_ids
        self.assertEqual(receipt.state, "to_send", receipt.error_message)
        return receipt.request_payload["receipt"]["items"], receipt.request_payload["receipt"]

    def _assert_balanced(self, move):
        items, body = self._items(move)
        for item in items:
            expected = (Decimal(str(item["price"])) * Decimal(str(item["quantity"]))).quantize(
                Decimal("0.01")
            )
            self.assertEqual(Decimal(str(item["sum"])), expected, item)
        total = sum(Decimal(str(item["sum"])) for item in items)
        self.assertEqual(total, Decimal(str(body["total"])))
        self.assertEqual(sum(Decimal(str(p["sum"])) for p in body["payments"]), total)
        self.assertEqual(total, Decimal(str(move.amount_total)).quantize(Decimal("0.01")))
        return items

    def test_ten_percent_discount_on_1000_01(self):
        move = self._invoice([self._line(1000.01, discount=10)])
        items = self._assert_balanced(move)
        self.assertEqual([(i["price"], i["quantity"], i["sum"]) for i in items], [(900.01, 1.0, 900.01)])

    def test_a_third_of_a_unit_at_three_roubles(self):
        # Quantities with thousandths, as shops selling by weight configure Odoo.
        self.env.ref("uom.decimal_product_uom").sudo().digits = 3
        move = self._invoice([self._line(3.00, quantity=0.333)])
        items = self._assert_balanced(move)
        self.assertEqual([(i["price"], i["quantity"], i["sum"]) for i in items], [(3.0, 0.333, 1.0)])

    def test_negative_discount_line_is_spread_over_the_goods(self):
        move = self._invoice(
            [self._line(600.00), self._line(400.00, quantity=2), self._line(-100.00, name="Скидка")]
        )
        items = self._assert_balanced(move)
        self.assertTrue(all(item["sum"] > 0 for item in items))
        self.assertEqual(sum(Decimal(str(i["sum"])) for i in items), Decimal("1300.00"))

    def test_zero_price_gift_line_stays_on_the_receipt(self):
        move = self._invoice([self._line(500.00), self._line(0.0, name="Подарок")])
        items = self._assert_balanced(move)
        self.assertEqual(items[1]["sum"], 0.0)

    def test_two_hundred_and_one_lines_become_three_linked_receipts(self):
        # ATOL takes at most 100 items a receipt: three parts of 67 items, each balanced.
        move = self._invoice([self._line(10.00 + n) for n in range(201)])
        receipts = move.l10n_ru_kkm_receipt_ids.sorted("part")
        self.assertEqual(receipts.mapped("state"), ["to_send"] * 3, receipts.mapped("error_message"))
        self.assertEqual((receipts.mapped("part"), set(receipts.mapped("part_count"))), ([1, 2, 3], {3}))
        self.assertEqual(len(set(receipts.mapped("external_id"))), 3, "one external id each")
        self.assertTrue(receipts[1].name.endswith("part 2/3"), receipts[1].name)
        totals = []
        for receipt in receipts:
            body = receipt.request_payload["receipt"]
            self.assertEqual(receipt.request_payload["external_id"], receipt.external_id)
            self.assertEqual(len(body["items"]), 67)
            total = sum(Decimal(str(item["sum"])) for item in body["items"])
            self.assertEqual(total, Decimal(str(body["total"])))
            self.assertEqual(sum(Decimal(str(p["sum"])) for p in body["payments"]), total)
            self.assertEqual(Decimal(str(receipt.amount_total)).quantize(Decimal("0.01")), total)
            totals.append(total)
        self.assertEqual(sum(totals), Decimal(str(move.amount_total)).quantize(Decimal("0.01")))
        self.assertEqual(move.l10n_ru_kkm_state, "to_send")

    def test_a_hundred_lines_fit_on_one_receipt(self):
        move = self._invoice([self._line(10.00 + n, quantity=2) for n in range(100)])
        self.assertEqual(len(self._assert_balanced(move)), 100)

    def test_two_hundred_character_product_name_is_shortened_to_the_limit(self):
        product = self.env["product.product"].create({"name": "Очень длинное название " * 9})
        self.assertGreater(len(product.display_name), 200)
        line = self._line(100.0, product_id=product.id)
        del line["name"]  # the label Odoo writes: the product's name
        move = self._invoice([line])
        name = self._items(move)[0][0]["name"]
        self.assertEqual(len(name), 128)
        self.assertTrue(name.endswith("…"))

    def test_item_name_is_the_first_line_of_the_invoice_label(self):
        product = self.env["product.product"].create(
            {"name": "Консультация", "description_sale": "Описание для покупателя"}
        )
        line = self._line(100.0, product_id=product.id)
        del line["name"]
        own_words = self._line(50.0, product_id=product.id, name="\n  Консультация, ноябрь 2026\nподробности")
        items = self._items(self._invoice([line, own_words]))[0]
        self.assertEqual([item["name"] for item in items], ["Консультация", "Консультация, ноябрь 2026"])

    def test_refund_in_2026_of_a_2025_sale_keeps_twenty_percent(self):
        invoice = self._invoice([self._line(1200.0)], invoice_date="2025-12-20")
        refund = self._invoice(
            [self._line(1200.0)],
            move_type="out_refund",
            invoice_date="2026-01-15",
            reversed_entry_id=invoice.id,
        )
        item = self._items(refund)[0][0]
        self.assertEqual(item["vat"], {"type": "vat20", "sum": 200.0})

    def test_twenty_percent_on_a_2026_sale_is_refused(self):
        move = self._invoice([self._line(1200.0)], invoice_date="2026-02-01")
        receipt = move.l10n_ru_kkm_receipt_ids
        self.assertEqual(receipt.state, "error")
        self.assertIn("no longer applies", receipt.error_message)
        self.assertIn("22%", receipt.error_message)

    def test_twenty_two_percent_on_a_2026_sale(self):
        move = self._invoice(
            [self._line(1220.0, tax_ids=[Command.set(self.vat22.ids)])], invoice_date="2026-02-01"
        )
        item = self._items(move)[0][0]
        self.assertEqual(item["vat"], {"type": "vat22", "sum": 220.0})

    def test_product_settings_and_unit_reach_the_ffd_1_2_request(self):
        self.company.l10n_ru_kkm_vendor = "atol_v5"
        product = self.env["product.product"].create(
            {
                "name": "Коньяк",
                "uom_id": self.env.ref("uom.product_uom_kgm").id,
                "l10n_ru_kkm_payment_object": "excise",
                "l10n_ru_kkm_payment_method": "full_prepayment",
            }
        )
        kg = self.env.ref("uom.product_uom_kgm")
        move = self._invoice([self._line(150.0, quantity=1.5, product_id=product.id, product_uom_id=kg.id)])
        items, body = self._items(move)
        self.assertEqual(items[0]["measure"], 11)
        self.assertEqual(items[0]["payment_object"], 2)
        self.assertEqual(items[0]["payment_method"], "full_prepayment")
        self.assertNotIn("measurement_unit", items[0])
        self.assertIs(body["internet"], True)

    def test_a_changed_tax_or_unit_code_reaches_the_next_receipt(self):
        # Both codes are cached for the posting's speed; a change must not leave them stale.
        self.company.l10n_ru_kkm_vendor = "atol_v5"
        kg = self.env.ref("uom.product_uom_kgm")
        first = self._items(self._invoice([self._line(100.0, product_uom_id=kg.id)]))[0][0]
        self.assertEqual((first["vat"]["type"], first["measure"]), ("vat20", 11))
        self.vat20.l10n_ru_kkm_vat_code = "vat10"
        second = self._items(self._invoice([self._line(100.0, product_uom_id=kg.id)]))[0][0]
        self.assertEqual((second["vat"]["type"], second["measure"]), ("vat10", 11))
        kg.l10n_ru_kkm_measure = "10"
        third = self._items(self._invoice([self._line(100.0, product_uom_id=kg.id)]))[0][0]
        self.assertEqual((third["vat"]["type"], third["measure"]), ("vat10", 10))

    def test_marked_goods_are_reported_as_such_in_ffd_1_2(self):
        self.company.l10n_ru_kkm_vendor = "atol_v5"
        marked = self.env["product.product"].create({"name": "Кроссовки", "l10n_ru_kkm_marked": True})
        plain = self.env["product.product"].create({"name": "Шнурки"})
        move = self._invoice(
            [self._line(5000.0, product_id=marked.id), self._line(100.0, product_id=plain.id)]
        )
        items = self._items(move)[0]
        self.assertEqual([item["payment_object"] for item in items], [32, 1])

    def test_business_customer_is_named_with_its_inn(self):
        business = self.env["res.partner"].create(
            {"name": "ООО «Покупатель»", "is_company": True, "vat": "7707083893", "email": "b@example.ru"}
        )
        move = self._invoice([self._line(100.0)], partner=business)
        client = self._items(move)[1]["client"]
        self.assertEqual(client, {"email": "b@example.ru", "name": "ООО «Покупатель»", "inn": "7707083893"})

    def test_invalid_customer_email_is_a_clear_error(self):
        self.partner_a.email = "not-an-address"
        move = self._invoice([self._line(100.0)])
        self.assertIn("cannot receive a receipt", move.l10n_ru_kkm_receipt_ids.error_message)

    def test_fixing_the_data_is_enough_to_send(self):
        self.partner_a.write({"email": False, "phone": False})
        move = self._invoice([self._line(100.0)])
        receipt = move.l10n_ru_kkm_receipt_ids
        self.assertEqual(receipt.state, "error")
        self.partner_a.email = "fixed@example.ru"
        receipt._l10n_ru_kkm_set_state("to_send")
        receipt._l10n_ru_kkm_prepare()
        self.assertEqual(receipt.state, "to_send")
        self.assertEqual(receipt.request_payload["receipt"]["client"], {"email": "fixed@example.ru"})
        self.assertEqual(fields.Date.to_string(move.invoice_date), "2025-06-01")

    # -- marking codes, agents, cashier, VAT totals ----------------------------------

    SCANNED = ("010460620309818721ABCDEFGHIJKLM<GS>93Zq1x", "010460620309818721NOPQRSTUVWXYZ<GS>93Yw2v")

    def _marked_invoice(self, quantity=2.0, codes=SCANNED):
        marked = self.env["product.product"].create({"name": "Кроссовки", "l10n_ru_kkm_marked": True})
        line = self._line(1000.01, quantity=quantity, product_id=marked.id)
        return self._invoice([dict(line, l10n_ru_kkm_mark_codes="\n".join(codes) + "\n")])

    def test_marking_codes_make_one_item_per_unit_in_ffd_1_2(self):
        self.company.l10n_ru_kkm_vendor = "atol_v5"
        items = self._assert_balanced(self._marked_invoice())
        self.assertEqual(
            [(item["quantity"], item["sum"]) for item in items], [(1.0, 1000.01), (1.0, 1000.01)]
        )
        for item, scanned in zip(items, self.SCANNED, strict=True):
            code = base64.b64decode(item["mark_code"]["gs1m"]).decode()
            self.assertEqual(code, scanned.replace("<GS>", "\x1d"))
            self.assertEqual((item["payment_object"], item["measure"]), (33, 0))
            self.assertEqual(item["mark_processing_mode"], "0")

    def test_marking_codes_reach_ffd_1_05_as_gtin_and_serial(self):
        items = self._assert_balanced(self._marked_invoice())
        self.assertEqual(
            [item["nomenclature_code"] for item in items],
            ["010460620309818721ABCDEFGHIJKLM", "010460620309818721NOPQRSTUVWXYZ"],
        )

    def test_a_code_missing_for_a_unit_is_a_clear_error(self):
        receipt = self._marked_invoice(quantity=3.0).l10n_ru_kkm_receipt_ids
        self.assertEqual(receipt.state, "error")
        self.assertIn("has 2 marking codes for a quantity of 3.0", receipt.error_message)
        self.assertFalse(receipt.request_payload)

    def _agent_product(self, supplier_values):
        supplier = self.env["res.partner"].create({"name": "ООО «Принципал»", **supplier_values})
        return self.env["product.product"].create(
            {
                "name": "Путёвка",
                "l10n_ru_kkm_agent_type": "commission_agent",
                "l10n_ru_kkm_supplier_id": supplier.id,
            }
        )

    def test_goods_sold_as_agent_name_their_supplier(self):
        product = self._agent_product({"vat": "7707083893", "phone": "8 (925) 123-45-67"})
        items = self._assert_balanced(self._invoice([self._line(500.0, product_id=product.id)]))
        self.assertEqual(items[0]["agent_info"], {"type": "commission_agent"})
        self.assertEqual(
            items[0]["supplier_info"],
            {"name": "ООО «Принципал»", "inn": "7707083893", "phones": ["+79251234567"]},
        )

    def test_a_supplier_abroad_has_the_inn_of_zeros(self):
        product = self._agent_product({"country_id": self.env.ref("base.de").id})
        items = self._items(self._invoice([self._line(500.0, product_id=product.id)]))[0]
        self.assertEqual(items[0]["supplier_info"]["inn"], "000000000000")

    def test_a_russian_supplier_without_inn_is_a_clear_error(self):
        product = self._agent_product({})
        receipt = self._invoice([self._line(500.0, product_id=product.id)]).l10n_ru_kkm_receipt_ids
        self.assertEqual(receipt.state, "error")
        self.assertIn("is sold as agent", receipt.error_message)
        self.assertIn("INN (Tax ID) on the supplier", receipt.error_message)

    def test_checkonline_refuses_agent_data_with_a_clear_error(self):
        self.company.l10n_ru_kkm_vendor = "checkonline"
        product = self._agent_product({"vat": "7707083893"})
        receipt = self._invoice([self._line(500.0, product_id=product.id)]).l10n_ru_kkm_receipt_ids
        self.assertEqual(receipt.state, "error")
        self.assertIn("agent data, which Checkonline cannot take", receipt.error_message)

    def test_checkonline_text_its_register_cannot_print_is_a_clear_error(self):
        self.company.write(
            {"l10n_ru_kkm_vendor": "checkonline", "l10n_ru_kkm_payment_address": "https://кафе.рф/☕"}
        )
        receipt = self._invoice([self._line(100.0, name="Кофе «Арабика» ☕")]).l10n_ru_kkm_receipt_ids
        self.assertEqual(receipt.state, "error")
        self.assertIn('Line "Кофе «Арабика» ☕"', receipt.error_message)
        # Typographic quotes are replaced by printable ones; only the cup is refused.
        self.assertRegex(receipt.error_message, r"cannot print ☕ \(its fiscal storage")
        self.assertRegex(receipt.error_message, r"place of settlement of .* contains ☕,")

    def test_cashier_and_cashier_inn_are_printed(self):
        self.company.write(
            {
                "l10n_ru_kkm_vendor": "atol_v5",
                "l10n_ru_kkm_cashier": "Иванова А. А.",
                "l10n_ru_kkm_cashier_inn": "500100732259",
            }
        )
        body = self._items(self._invoice([self._line(100.0)]))[1]
        self.assertEqual((body["cashier"], body["cashier_inn"]), ("Иванова А. А.", "500100732259"))

    def test_a_cashier_inn_of_eleven_digits_is_a_clear_error(self):
        self.company.l10n_ru_kkm_cashier_inn = "50010073225"
        receipt = self._invoice([self._line(100.0)]).l10n_ru_kkm_receipt_ids
        self.assertIn("cashier INN", receipt.error_message)

    def test_receipt_vat_totals_add_up_the_items(self):
        move = self._invoice(
            [self._line(100.0), self._line(33.33, quantity=3), self._line(10.0, tax_ids=[Command.clear()])],
            invoice_date="2025-06-01",
        )
        items, body = self._items(move)
        expected = sum(Decimal(str(item["vat"]["sum"])) for item in items if item["vat"]["type"] == "vat20")
        self.assertEqual(body["vats"], [{"type": "vat20", "sum": float(expected)}])
        self.assertEqual(expected, Decimal("16.67") + Decimal("16.67"))
