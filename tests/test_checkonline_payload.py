"""The Checkonline client alone, its requests: the Complex body of a receipt, exact integers,
CP866 text, the configuration."""

import dataclasses
import json
from decimal import Decimal

import requests

from ..vendors import receipt as rd
from ..vendors.checkonline import (
    DEFAULT_TAX_IDS,
    PRODUCTION_URL,
    TEST_URL,
    CheckonlineClient,
    CheckonlineConfig,
    CheckonlineDataError,
)
from .checkonline_common import (
    CONFIG,
    ROOT,
    make_item,
    make_receipt,
)
from .common import KkmCase


class TestCheckonlinePayload(KkmCase):
    def build(self, receipt=None, **config):
        return CheckonlineClient(CheckonlineConfig(base_url=ROOT, **config)).build_payload(
            receipt or make_receipt()
        )

    def assert_refused(self, receipt, field, *fragments, **config):
        with self.assertRaises(CheckonlineDataError) as caught:
            self.build(receipt, **config)
        self.assertIsInstance(caught.exception, ValueError)
        self.assertIn(field, [problem[0] for problem in caught.exception.problems], str(caught.exception))
        for fragment in fragments:
            self.assertIn(fragment, str(caught.exception))
        return caught.exception

    def test_whole_sell_payload(self):
        payload = self.build()
        self.assertEqual(
            payload,
            {
                "Device": "auto",
                "Group": "GROUP0",
                "RequestId": "order-1",
                "DocumentType": 0,
                "Lines": [
                    {
                        "Qty": 1000,
                        "Price": 122000,
                        "PayAttribute": 4,
                        "LineAttribute": 1,
                        "TaxId": 11,
                        "Description": "Чайник",
                    }
                ],
                "NonCash": [122000, 0, 0],
                "TaxMode": 1,
                "PhoneOrEmail": "buyer@example.ru",
                "Place": "https://shop.example.ru",
                "Internet": True,
                "FullResponse": True,
            },
        )
        json.dumps(payload)  # storable as is in a Json field
        self.assertNotIn("Password", payload, "the cashier's password is added at send time only")

    def test_every_number_is_an_exact_integer(self):
        items = (
            make_item("Яблоки", price="19.99", quantity="2.5"),  # 49.975 -> 49.98
            make_item("Гвозди", price="0.07", quantity="0.001"),  # 0.00007 -> 0.00
            make_item("Доска", price="42949672.95", quantity="1"),
        )
        payload = self.build(make_receipt(items))
        lines = payload["Lines"]
        self.assertEqual(
            [(line["Qty"], line["Price"]) for line in lines], [(2500, 1999), (1, 7), (1000, 4294967295)]
        )
        self.assertEqual(payload["NonCash"], [4998 + 0 + 4294967295, 0, 0])

        def walk(value):
            if isinstance(value, dict):
                for item in value.values():
                    walk(item)
            elif isinstance(value, list):
                for item in value:
                    walk(item)
            else:
                self.assertNotIsInstance(value, (float, Decimal))

        walk(payload)

    def test_request_id_is_the_external_id_and_client_id_only_when_set(self):
        payload = self.build(make_receipt(external_id="a1b2c3"))
        self.assertEqual(payload["RequestId"], "a1b2c3")
        self.assertNotIn("ClientId", payload)
        payload = self.build(client_id="point-2", group="SHOP2", password=3)
        self.assertEqual(
            (payload["ClientId"], payload["Group"], payload["Device"]), ("point-2", "SHOP2", "auto")
        )

    def test_tax_id_of_every_vat_code(self):
        expected = {
            "vat20": 1,
            "vat10": 2,
            "vat0": 3,
            "none": 4,
            "vat120": 5,
            "vat110": 6,
            "vat5": 7,
            "vat7": 8,
            "vat105": 9,
            "vat107": 10,
            "vat22": 11,
            "vat122": 12,
        }
        self.assertEqual(set(expected), set(rd.VAT_CODES))
        for vat, tax_id in expected.items():
            with self.subTest(vat=vat):
                payload = self.build(make_receipt((make_item(vat=vat),)))
                self.assertEqual(payload["Lines"][0]["TaxId"], tax_id)
        self.assertEqual(DEFAULT_TAX_IDS, expected)

    def test_tax_ids_can_be_overridden_one_by_one(self):
        items = (make_item("A", vat="vat22"), make_item("B", vat="vat122"), make_item("C", vat="vat20"))
        payload = self.build(make_receipt(items), tax_ids={"vat22": 1, "vat122": 5})
        self.assertEqual([line["TaxId"] for line in payload["Lines"]], [1, 5, 1])

    def test_pay_attribute_and_line_attribute(self):
        methods = {
            "full_prepayment": 1,
            "prepayment": 2,
            "advance": 3,
            "full_payment": 4,
            "partial_payment": 5,
            "credit": 6,
            "credit_payment": 7,
        }
        self.assertEqual(set(methods), set(rd.PAYMENT_METHODS))
        for method, code in methods.items():
            with self.subTest(method=method):
                line = self.build(make_receipt((make_item(payment_method=method),)))["Lines"][0]
                self.assertEqual(line["PayAttribute"], code)
        objects = {
            "commodity": 1,
            "excise": 2,
            "job": 3,
            "service": 4,
            "payment": 10,
            "agent_commission": 11,
            "another": 13,
        }
        self.assertEqual(set(objects), set(rd.PAYMENT_OBJECTS))
        for payment_object, code in objects.items():
            with self.subTest(payment_object=payment_object):
                line = self.build(make_receipt((make_item(payment_object=payment_object),)))["Lines"][0]
                self.assertEqual(line["LineAttribute"], code)

    def test_credit_payment_must_be_alone(self):
        items = (
            make_item("A", payment_method="credit_payment"),
            make_item("B", payment_method="credit_payment"),
        )
        self.assert_refused(make_receipt(items), "Lines.PayAttribute", "only line")

    def test_tax_mode_bit_of_each_taxation_system(self):
        bits = {"osn": 1, "usn_income": 2, "usn_income_outcome": 4, "envd": 8, "esn": 16, "patent": 32}
        self.assertEqual(set(bits), set(rd.TAXATION_SYSTEMS))
        for sno, bit in bits.items():
            with self.subTest(sno=sno):
                company = rd.Company(inn="5544332219", sno=sno, payment_address="https://shop.example.ru")
                self.assertEqual(self.build(make_receipt(company=company))["TaxMode"], bit)

    def test_document_type_of_sell_and_refund(self):
        self.assertEqual(self.build(make_receipt(operation=rd.SELL))["DocumentType"], 0)
        self.assertEqual(self.build(make_receipt(operation=rd.SELL_REFUND))["DocumentType"], 2)
        self.assert_refused(
            make_receipt(operation=rd.SELL_CORRECTION), "DocumentType", "MakeCorrectionDocument"
        )

    def test_non_cash_is_this_receipt_total(self):
        items = (make_item("A", price="100.10", quantity="3"), make_item("B", price="0.33", quantity="0.5"))
        receipt = make_receipt(items)
        self.assertEqual(receipt.total, Decimal("300.47"))
        payload = self.build(receipt)
        self.assertEqual(payload["NonCash"], [30047, 0, 0])
        for name in ("Cash", "AdvancePayment", "Credit", "Consideration"):
            self.assertNotIn(name, payload)

    def test_payments_that_are_not_the_total_are_refused(self):
        # E.g. the order total sent with a partial invoice: never pass it through.
        receipt = make_receipt(payments=(rd.Payment(rd.PAYMENT_ELECTRONIC, Decimal("1500.00")),))
        self.assert_refused(receipt, "Payments", "1500.00", "1220.00")

    def test_other_payment_types_use_their_fields(self):
        payments = (
            rd.Payment(rd.PAYMENT_ELECTRONIC, Decimal("200.00")),
            rd.Payment(rd.PAYMENT_ADVANCE, Decimal("1000.00")),
            rd.Payment(rd.PAYMENT_CASH, Decimal("20.00")),
        )
        payload = self.build(make_receipt(payments=payments))
        self.assertEqual(payload["NonCash"], [20000, 0, 0])
        self.assertEqual((payload["AdvancePayment"], payload["Cash"]), (100000, 2000))
        self.assert_refused(make_receipt(payments=(rd.Payment(7, Decimal("1220.00")),)), "Payments[0]")

    def test_text_outside_cp866_is_refused_before_sending(self):
        for text, char in (("Чайник €", "€"), ("Пиво 🍺", "🍺")):
            with self.subTest(text=text):
                error = self.assert_refused(
                    make_receipt((make_item(text),)), "Lines[0].Description", text, char
                )
                self.assertEqual((error.field, error.value), ("Lines[0].Description", text))
        # CP866 has Cyrillic, ё, № and the no-break space.
        self.build(make_receipt((make_item("Ёлка №5\u00a0зелёная"),)))

    def test_typographic_quotes_and_dashes_become_printable(self):
        payload = self.build(make_receipt((make_item("«Чайник» — белый…"),)))
        self.assertEqual(payload["Lines"][0]["Description"], '"Чайник" - белый...')

    def test_contact_and_place_are_checked_too(self):
        self.assert_refused(
            make_receipt(client=rd.Client(email="ｂuyer@example.ru")), "PhoneOrEmail", "U+FF42"
        )
        self.assert_refused(make_receipt(client=rd.Client()), "PhoneOrEmail", "tag 1008")
        self.assertEqual(
            self.build(make_receipt(client=rd.Client(phone="+79001234567")))["PhoneOrEmail"], "+79001234567"
        )
        company = rd.Company(inn="5544332219", sno="osn", payment_address="https://магазин.рф/€")
        self.assert_refused(make_receipt(company=company), "Place", "€")

    def test_description_length_and_presence(self):
        self.assertEqual(
            self.build(make_receipt((make_item("Т" * 128),)))["Lines"][0]["Description"], "Т" * 128
        )
        # Longer names are cut to the limit after the typography is replaced ("…" is three characters).
        description = self.build(make_receipt((make_item("«Т»…" * 40),)))["Lines"][0]["Description"]
        self.assertEqual(description, ('"Т"...' * 22)[:125] + "...")
        self.assert_refused(make_receipt((make_item("  "),)), "Lines[0].Description", "empty")

    def test_amounts_that_are_not_exact_are_refused(self):
        bad_quantity = rd.Item(
            name="A", price=Decimal("10.00"), quantity=Decimal("1.0005"), sum=Decimal("10.01"), vat="none"
        )
        self.assert_refused(make_receipt((bad_quantity,)), "Lines[0].Qty", "more than 3 decimals")
        bad_price = rd.Item(name="A", price=Decimal("10.005"), quantity=Decimal("1"), sum=Decimal("10.01"))
        self.assert_refused(make_receipt((bad_price,)), "Lines[0].Price", "more than 2 decimals")
        float_price = rd.Item(name="A", price=10.5, quantity=Decimal("1"), sum=Decimal("10.50"))
        self.assert_refused(make_receipt((float_price,)), "Lines[0].Price", "never a float")
        wrong_sum = rd.Item(name="A", price=Decimal("19.99"), quantity=Decimal("2.5"), sum=Decimal("49.97"))
        self.assert_refused(make_receipt((wrong_sum,)), "Lines[0].Price", "49.98")

    def test_all_problems_are_named_at_once(self):
        items = (make_item("Чайник €", vat="vat18"),)
        error = self.assert_refused(make_receipt(items, client=rd.Client()), "Lines[0].Description")
        fields = [problem[0] for problem in error.problems]
        self.assertEqual(fields, ["Lines[0].Description", "Lines[0].TaxId", "PhoneOrEmail"])

    def test_zero_price_lines(self):
        # The allocator keeps gifts as items of price 0. ST32 does not forbid a zero price and
        # the sandbox takes it: they are sent.
        items = (make_item("Чайник"), make_item("Подарок", price="0.00"))
        self.assertEqual([line["Price"] for line in self.build(make_receipt(items))["Lines"]], [122000, 0])
        # A receipt of gifts only has a zero total: device error 142, which is cached.
        self.assert_refused(make_receipt((make_item("Подарок", price="0.00"),)), "Total", "142")

    def test_internet_flag(self):
        self.assertIs(self.build()["Internet"], True)
        self.assertNotIn("Internet", self.build(make_receipt(internet=False)))

    def test_empty_receipt_and_missing_id(self):
        self.assert_refused(make_receipt(external_id=""), "RequestId")
        empty = dataclasses.replace(make_receipt(), items=(), payments=(), total=Decimal("0.00"))
        self.assert_refused(empty, "Lines", "208")


class TestCheckonlineConfig(KkmCase):
    def test_hosts(self):
        self.assertEqual(CheckonlineConfig().command_url, f"{TEST_URL}/fr/api/v2/Complex")
        self.assertEqual(TEST_URL, "https://fce.chekonline.ru:4443")
        self.assertEqual(CheckonlineConfig(test_mode=False).root_url, PRODUCTION_URL)
        self.assertEqual(PRODUCTION_URL, "https://kkt4.chekonline.ru")
        self.assertEqual(
            CheckonlineConfig(base_url="http://127.0.0.1:8090/").command_url,
            "http://127.0.0.1:8090/fr/api/v2/Complex",
        )

    def test_nonsense_is_refused(self):
        for values in (
            {"password": 0},
            {"password": 32},
            {"password": "1"},
            {"group": ""},
            {"tax_ids": {"vat23": 13}},
            {"tax_ids": {"vat22": "11"}},
            {"cert_file": "/tmp/client.pem"},
            {"ofd_url_template": "https://ofd/{uuid}"},
        ):
            with self.subTest(values=values), self.assertRaises(ValueError):
                CheckonlineConfig(**values)

    def test_interface_of_the_atol_clients(self):
        client = CheckonlineClient(CONFIG, session=None, token_store=object(), on_exchange=None)
        self.assertTrue(client.is_synchronous)
        self.assertIsInstance(client.session, requests.Session)
        with self.assertRaises(NotImplementedError):
            client.report("order-1")
