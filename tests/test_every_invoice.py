"""Every invoice Odoo can produce ends registered, to the kopeck, through the sandbox (issue
"Every invoice Odoo can produce"): cash rounding, early-payment discounts, section and note
lines, more items than one receipt holds, long names; for ATOL v4, v5 and Checkonline."""

from datetime import date
from decimal import Decimal

from odoo import Command
from odoo.tests import tagged

from .common import make_checkonline_certificate
from .sandbox_common import SALE_DATE, KkmSandboxCommon, ledger_by_external_id

VENDORS = ("atol_v4", "atol_v5", "checkonline")
KOPECK = Decimal("0.01")


def money(value):
    return Decimal(str(value)).quantize(KOPECK)


class EveryInvoiceCommon(KkmSandboxCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.certificate = make_checkonline_certificate(cls, cls.company)
        cls.company.write({"l10n_ru_kkm_async": True})
        cls.vat10 = cls.env["account.tax"].create(
            {
                "name": "НДС 10% (incl.)",
                "amount": 10,
                "amount_type": "percent",
                "price_include_override": "tax_included",
                "type_tax_use": "sale",
                "company_id": cls.company.id,
                "l10n_ru_kkm_vat_code": "vat10",
            }
        )

    def use_vendor(self, vendor):
        if vendor != "checkonline":
            return super().use_vendor(vendor)
        super().use_vendor("atol_v4")
        # The sandbox speaks plain HTTP here: TLS is tested elsewhere (test_checkonline_flow).
        self.company.sudo().write(
            {
                "l10n_ru_kkm_vendor": "checkonline",
                "l10n_ru_kkm_service_url": self.sandbox.url,
                "l10n_ru_kkm_checkonline_certificate_id": self.certificate.id,
            }
        )
        return None

    def invoice(self, lines, post=True, **values):
        move = self.env["account.move"].create(
            {
                "move_type": "out_invoice",
                "partner_id": self.partner_a.id,
                "invoice_date": SALE_DATE,
                "invoice_line_ids": [Command.create(line) for line in lines],
                **values,
            }
        )
        if post:
            move.action_post()
        return move

    def line(self, price, quantity=1.0, tax=None, **values):
        return {
            "name": values.pop("name", "Товар"),
            "price_unit": price,
            "quantity": quantity,
            "tax_ids": [Command.set((tax or self.vat22).ids)],
            **values,
        }

    def settle(self, trap, moves):
        receipts = moves.l10n_ru_kkm_receipt_ids
        self.assertLessEqual(self.drive(trap, receipts), 60, "settled")
        receipts = moves.l10n_ru_kkm_receipt_ids
        self.assertEqual(
            set(receipts.mapped("state")),
            {"done"},
            receipts.filtered(lambda r: r.state != "done").mapped("error_message"),
        )
        return receipts

    def registered(self, receipts):
        """What the sandbox registered for ``receipts``: Σ sales − Σ refunds, and the documents."""
        ledger = ledger_by_external_id(self.sandbox)
        documents = [row for receipt in receipts for row in ledger.get(receipt.external_id, [])]
        self.assertEqual(len(documents), len(receipts), "one document per receipt, none twice")
        sign = {"sell": 1, "sell_refund": -1, "sell_correction": 1}
        return sum(sign[row["operation"]] * Decimal(row["total"]) for row in documents), documents

    def assert_no_duplicates(self):
        ledger = self.sandbox.ledger()
        self.assertEqual(ledger["duplicates_by_id"]["count"], 0)
        self.assertEqual(ledger["duplicates_by_content"]["count"], 0)


@tagged("post_install", "-at_install")
class TestEveryInvoice(EveryInvoiceCommon):
    def _rounding(self, strategy):
        return self.env["account.cash.rounding"].create(
            {
                "name": f"To the rouble ({strategy})",
                "rounding": 1.0,
                "strategy": strategy,
                "rounding_method": "HALF-UP",
                "profit_account_id": self.company_data["default_account_revenue"].id,
                "loss_account_id": self.company_data["default_account_expense"].id,
            }
        )

    def test_cash_rounding_of_both_kinds_is_spread_over_the_goods(self):
        for vendor in VENDORS:
            for strategy in ("add_invoice_line", "biggest_tax"):
                with self.subTest(vendor=vendor, strategy=strategy), self.trapped() as trap:
                    self.sandbox.reset()
                    self.use_vendor(vendor)
                    move = self.invoice(
                        [self.line(10.33, quantity=3), self.line(5.17, tax=self.vat10)],
                        invoice_cash_rounding_id=self._rounding(strategy).id,
                    )
                    self.assertEqual(move.amount_total, 36.0, "31.16 rounded to the rouble")
                    receipts = self.settle(trap, move)
                    total, _documents = self.registered(receipts)
                    self.assertEqual(total, money(move.amount_total))
                    if vendor != "checkonline":
                        items = receipts.request_payload["receipt"]["items"]
                        self.assertEqual(
                            {item["name"] for item in items}, {"Товар"}, "no made-up rounding item"
                        )
                        for item in items:
                            # Each item's VAT is its own sum's, at its own rate.
                            rate = Decimal(22 if item["vat"]["type"] == "vat22" else 10)
                            expected = (money(item["sum"]) * rate / (100 + rate)).quantize(KOPECK)
                            self.assertEqual(money(item["vat"]["sum"]), expected)

    def test_section_note_zero_quantity_no_product_and_weights(self):
        kilogram = self.env.ref("uom.product_uom_kgm")
        self.env.ref("uom.decimal_product_uom").sudo().digits = 3
        for vendor in VENDORS:
            with self.subTest(vendor=vendor), self.trapped() as trap:
                self.sandbox.reset()
                self.use_vendor(vendor)
                move = self.invoice(
                    [
                        {"display_type": "line_section", "name": "Фрукты"},
                        self.line(189.90, quantity=1.234, name="Яблоки", product_uom_id=kilogram.id),
                        {"display_type": "line_note", "name": "Собраны вчера"},
                        self.line(99.0, quantity=0, name="Не поставлено"),
                        self.line(250.0, name="Сборка заказа (без товара)"),
                        {"display_type": "line_section", "name": "Пусто"},
                    ]
                )
                receipts = self.settle(trap, move)
                total, _documents = self.registered(receipts)
                self.assertEqual(total, money(move.amount_total))
                if vendor != "checkonline":
                    names = [item["name"] for item in receipts.request_payload["receipt"]["items"]]
                    self.assertEqual(names, ["Яблоки", "Сборка заказа (без товара)"])
                    self.assertEqual(receipts.request_payload["receipt"]["items"][0]["quantity"], 1.234)

    def test_more_items_than_a_receipt_holds(self):
        for vendor, parts in (("atol_v4", 3), ("atol_v5", 3), ("checkonline", 1)):
            with self.subTest(vendor=vendor), self.trapped() as trap:
                self.sandbox.reset()
                self.use_vendor(vendor)
                move = self.invoice(
                    [self.line(100.0 + n, tax=self.vat10 if n % 3 else self.vat22) for n in range(250)]
                    + [self.line(-1000.0, name="Скидка")]
                )
                receipts = self.settle(trap, move)
                self.assertEqual(len(receipts), parts)
                self.assertEqual(sorted(receipts.mapped("part")), list(range(1, parts + 1)))
                total, _documents = self.registered(receipts)
                self.assertEqual(total, money(move.amount_total))
                self.assertEqual(move.l10n_ru_kkm_state, "done")
                self.assert_no_duplicates()

    def test_long_names_are_cut_after_every_replacement(self):
        name = "Книга «Кассовая дисциплина» — том 1… " * 6  # 222 characters, "…" counted once
        for vendor in VENDORS:
            with self.subTest(vendor=vendor), self.trapped() as trap:
                self.sandbox.reset()
                self.use_vendor(vendor)
                move = self.invoice([self.line(640.0, name=name)])
                receipt = self.settle(trap, move)
                payload = receipt.request_payload
                sent = (
                    payload["Lines"][0]["Description"]
                    if vendor == "checkonline"
                    else payload["receipt"]["items"][0]["name"]
                )
                self.assertEqual(len(sent), 128)
                self.assertTrue(sent.endswith("...") if vendor == "checkonline" else sent.endswith("…"))


@tagged("post_install", "-at_install")
class TestEarlyPaymentDiscounts(EveryInvoiceCommon):
    """Odoo's cash discount: the receipts say what the customer paid."""

    def _terms(self, mode):
        return self.env["account.payment.term"].create(
            {
                "name": f"2% 10 days ({mode})",
                "early_discount": True,
                "discount_percentage": 2,
                "discount_days": 10,
                "early_pay_discount_computation": mode,
                "line_ids": [Command.create({"value": "percent", "value_amount": 100, "nb_days": 30})],
            }
        )

    def _pay_early(self, move):
        payments = (
            self.env["account.payment.register"]
            .with_context(active_model="account.move", active_ids=move.ids)
            .create({"payment_date": SALE_DATE})
            ._create_payments()
        )
        self.assertEqual(move.payment_state, "paid")
        paid = money(payments.amount)
        self.assertLess(paid, money(move.amount_total), "the discount was taken")
        return paid

    def _cases(self):
        """(trap, invoice with a 2 % early-payment discount) per protocol and tax mode."""
        for vendor in VENDORS:
            for mode in ("mixed", "included"):
                with self.subTest(vendor=vendor, mode=mode), self.trapped() as trap:
                    self.sandbox.reset()
                    self.use_vendor(vendor)
                    move = self.invoice(
                        [self.line(1220.0), self.line(330.0, tax=self.vat10)],
                        invoice_payment_term_id=self._terms(mode).id,
                    )
                    yield trap, move

    def test_paid_with_the_discount_receipt_when_paid(self):
        self.company.l10n_ru_kkm_trigger = "paid"
        for trap, move in self._cases():
            self.assertFalse(move.l10n_ru_kkm_receipt_ids)
            paid = self._pay_early(move)
            receipts = self.settle(trap, move)
            total, _documents = self.registered(receipts)
            self.assertEqual(total, paid)

    def test_registered_at_confirmation_then_the_discount_refunded(self):
        for trap, move in self._cases():
            sale = self.settle(trap, move)
            self.assertEqual(money(sale.amount_total), money(move.amount_total))
            paid = self._pay_early(move)
            receipts = self.settle(trap, move)
            refund = receipts - sale
            self.assertEqual((refund.operation, refund.payment_stage), ("sell_refund", "early_discount"))
            total, documents = self.registered(receipts)
            self.assertEqual(total, paid, "the sale, less the discount refunded")
            self.assertEqual(sorted(row["operation"] for row in documents), ["sell", "sell_refund"])


@tagged("post_install", "-at_install")
class TestDownPayments(EveryInvoiceCommon):
    """Odoo Sales: a down-payment invoice is a prepayment of the order's goods; the final invoice
    registers the goods, paid partly by that prepayment (payment type 2)."""

    def _order(self):
        goods = self.env["product.product"].create(
            {"name": "Диван", "type": "consu", "invoice_policy": "order", "list_price": 30500.0}
        )
        service = self.env["product.product"].create(
            {"name": "Доставка", "type": "service", "invoice_policy": "order", "list_price": 1100.0}
        )
        # The accountant of these tests does not sell: the order is made by the sales team.
        order = (
            self.env["sale.order"]
            .sudo()
            .create(
                {
                    "partner_id": self.partner_a.id,
                    "order_line": [
                        Command.create(
                            {
                                "product_id": goods.id,
                                "product_uom_qty": 2,
                                "tax_ids": [Command.set(self.vat22.ids)],
                            }
                        ),
                        Command.create(
                            {
                                "product_id": service.id,
                                "product_uom_qty": 1,
                                "tax_ids": [Command.set(self.vat10.ids)],
                            }
                        ),
                    ],
                }
            )
        )
        order.action_confirm()
        return order

    def _invoice_order(self, order, **values):
        wizard = (
            self.env["sale.advance.payment.inv"]
            .sudo()
            .with_context(active_model="sale.order", active_ids=order.ids)
            .create(values)
        )
        before = order.invoice_ids
        wizard.create_invoices()
        move = order.invoice_ids - before
        move.invoice_date = SALE_DATE
        move.action_post()
        return move

    def test_down_payment_then_final_invoice(self):
        for vendor in VENDORS:
            with self.subTest(vendor=vendor), self.trapped() as trap:
                self.sandbox.reset()
                self.use_vendor(vendor)
                order = self._order()
                down = self._invoice_order(order, advance_payment_method="percentage", amount=30)
                prepayment = self.settle(trap, down)
                paid_first, _documents = self.registered(prepayment)
                self.assertEqual(paid_first, money(down.amount_total))
                final = self._invoice_order(order, advance_payment_method="delivered")
                self.assertTrue(final.invoice_line_ids.filtered(lambda line: line.quantity < 0))
                sale = self.settle(trap, final)
                registered, _documents = self.registered(sale)
                self.assertEqual(registered, money(order.amount_total), "the goods, once, at their price")
                payload = sale.request_payload
                if vendor == "checkonline":
                    self.assertEqual(payload["AdvancePayment"], int(money(down.amount_total) * 100))
                    self.assertEqual(payload["NonCash"][0], int(money(final.amount_total) * 100))
                    self.assertEqual(
                        {line["PayAttribute"] for line in prepayment.request_payload["Lines"]}, {2}
                    )
                else:
                    self.assertEqual(
                        payload["receipt"]["payments"],
                        [
                            {"type": 2, "sum": float(money(down.amount_total))},
                            {"type": 1, "sum": float(money(final.amount_total))},
                        ],
                    )
                    items = prepayment.request_payload["receipt"]["items"]
                    self.assertEqual({item["payment_method"] for item in items}, {"prepayment"})
                    self.assertEqual({item["vat"]["type"] for item in items}, {"vat122", "vat110"})
                    self.assertEqual({item["name"] for item in items}, {"Диван", "Доставка"})
                # What the customer paid, counted once: the down payment, then the rest.
                self.assertEqual(
                    money(down.amount_total) + money(final.amount_total), money(order.amount_total)
                )
                # Reconciliation agrees: each invoice registered for its own total.
                found = self.env["l10n_ru_kkm.discrepancy"]._l10n_ru_kkm_reconcile(
                    self.company, date(2000, 1, 1), date(2100, 1, 1)
                )
                self.assertFalse(found, [(d.kind, d.move_id.name, d.expected, d.registered) for d in found])


@tagged("post_install", "-at_install")
class TestSplitInvoices(EveryInvoiceCommon):
    """Invoices with more items than a receipt holds: several linked receipts, each registered
    exactly once, refunded, re-issued and corrected part by part."""

    def _big_invoice(self, count=230, post=True):
        return self.invoice(
            [
                self.line(50.0 + n, quantity=1 + n % 3, tax=self.vat10 if n % 4 else self.vat22)
                for n in range(count)
            ],
            post=post,
        )

    def test_every_part_registered_exactly_once_under_faults(self):
        self.use_vendor("atol_v5")
        self.company.l10n_ru_kkm_max_attempts = 70
        self.sandbox.set_faults(
            {
                "seed": 13,
                "http_5xx": {
                    "probability": 0.2,
                    "status": 503,
                    "body": "html",
                    "targets": ["register", "report"],
                },
                "drop": {"probability": 0.2, "targets": ["register", "report"]},
                "lost_answer": {"probability": 0.2, "targets": ["register"]},
                "malformed": {"probability": 0.2, "targets": ["register", "report"]},
            }
        )
        with self.trapped() as trap:
            moves = self.env["account.move"]
            for count in (101, 180, 250):
                moves |= self._big_invoice(count)
            receipts = self.settle(trap, moves)
        self.sandbox.clear_faults()
        self.assertEqual(len(receipts), 2 + 2 + 3)
        for move in moves:
            total, _documents = self.registered(move.l10n_ru_kkm_receipt_ids)
            self.assertEqual(total, money(move.amount_total))
        self.assert_no_duplicates()

    def test_refund_resell_and_correction_part_by_part(self):
        self.use_vendor("atol_v5")
        with self.trapped() as trap:
            move = self._big_invoice(230)
            sales = self.settle(trap, move)
            self.assertEqual(len(sales), 3)
            # A credit note of the whole invoice: its refund is split the same way.
            reversal = (
                self.env["account.move.reversal"]
                .with_context(active_model="account.move", active_ids=move.ids)
                .create({"journal_id": move.journal_id.id, "date": SALE_DATE})
            )
            reversal.refund_moves()
            credit_note = move.reversal_move_ids
            credit_note.action_post()
            refunds = self.settle(trap, credit_note)
            self.assertEqual(len(refunds), 3)
            refunded, _documents = self.registered(refunds)
            self.assertEqual(-refunded, money(move.amount_total))

            # Re-issue: each registered part is refunded by its mirror, then sold again.
            resell = (
                self.env["l10n_ru_kkm.receipt.resell.wizard"]
                .with_context(active_model="account.move", active_ids=move.ids)
                .create({})
            )
            self.assertEqual(resell.receipt_ids, sales)
            resell.action_resell()
            everything = self.settle(trap, move)
            mirrors = everything.filtered("origin_receipt_id")
            new_sales = everything - sales - mirrors
            self.assertEqual((len(mirrors), len(new_sales)), (3, 3))
            self.assertEqual(sorted(new_sales.mapped("part")), [1, 2, 3])
            for mirror in mirrors:
                self.assertEqual(mirror.part, mirror.origin_receipt_id.part)
                self.assertEqual(mirror.amount_total, mirror.origin_receipt_id.amount_total)
            net, _documents = self.registered(everything)
            self.assertEqual(net, money(move.amount_total), "sold, refunded, sold again: once")

            # A correction of the invoice (FFD 1.2 carries its items): split the same way.
            wizard = (
                self.env["l10n_ru_kkm.correction.wizard"]
                .with_context(active_model="account.move", active_id=move.id)
                .create({"correction_type": "self"})
            )
            wizard.action_register()
            corrections = self.settle(trap, move).filtered(lambda r: r.operation == "sell_correction")
            self.assertEqual(len(corrections), 3)
            self.assertEqual(sum(money(c.amount_total) for c in corrections), money(move.amount_total))
        # Same content on purpose (a re-issue sells the same goods again): no id twice.
        self.assertEqual(self.sandbox.ledger()["duplicates_by_id"]["count"], 0)
