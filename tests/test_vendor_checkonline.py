"""The Checkonline client alone: no Odoo.

Payload mapping and answer handling are checked with ``responses``; the exchanges that matter
for exactly-once (cache, lost answers, timeouts, FCE errors, mutual TLS) run against the
project's sandbox over HTTPS with a client certificate made at test time.
"""

import dataclasses
import datetime as dt
import json
import os
import socket
import ssl
import tempfile
import threading
import time
import unittest
from decimal import ROUND_HALF_UP, Decimal
from unittest.mock import patch

import requests
import responses
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from urllib3.util.ssl_ import create_urllib3_context

from ..sandbox.server import Sandbox
from ..vendors import checkonline
from ..vendors import outcome as oc
from ..vendors import receipt as rd
from ..vendors.checkonline import (
    DEFAULT_TAX_IDS,
    OFD_URL_TEMPLATES,
    PRODUCTION_URL,
    TEST_URL,
    CheckonlineCertificateError,
    CheckonlineClient,
    CheckonlineConfig,
    CheckonlineDataError,
    certificate_files,
)
from ..vendors.errors import TransientError
from .pki import Pki

ROOT = "https://checkonline.test"
URL = f"{ROOT}/fr/api/v2/Complex"
CONFIG = CheckonlineConfig(base_url=ROOT)


def make_item(name="Чайник", price="1220.00", quantity="1", vat="vat22", **changes):
    price, quantity = Decimal(price), Decimal(quantity)
    total = (price * quantity).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return rd.Item(name=name, price=price, quantity=quantity, sum=total, vat=vat, **changes)


def make_receipt(items=None, operation=rd.SELL, external_id="order-1", payments=None, **changes):
    items = tuple(items or (make_item(),))
    total = sum((item.sum for item in items), Decimal("0.00"))
    values = {
        "operation": operation,
        "external_id": external_id,
        "timestamp": dt.datetime(2026, 11, 28, 9, 5, 7),
        "company": rd.Company(inn="5544332219", sno="osn", payment_address="https://shop.example.ru"),
        "client": rd.Client(email="buyer@example.ru"),
        "items": items,
        "payments": tuple(payments or (rd.Payment(rd.PAYMENT_ELECTRONIC, total),)),
        "total": total,
    }
    values.update(changes)
    return rd.Receipt(**values)


def success_body(request_id="order-1", total=122000, document_type=0, **changes):
    body = {
        "Path": "/fr/api/v2/Complex",
        "RequestId": request_id,
        "ClientId": "",
        "Device": {"Name": "00000000381007197638", "Address": "10.1.0.40:4444"},
        "DeviceRegistrationNumber": "0001234567890123",
        "DeviceSerialNumber": "00000000381007197638",
        "FNSerialNumber": "9999078900005731",
        "DocumentType": document_type,
        "Date": {"Date": {"Day": 28, "Month": 11, "Year": 26}, "Time": {"Hour": 9, "Minute": 5, "Second": 7}},
        "FiscalDocNumber": 1322,
        "FiscalSign": 1170736072,
        "DocNumber": 7,
        "TurnNumber": 56,
        "GrandTotal": total,
        "Change": 0,
        "QR": f"t=20261128T0905&s={total // 100}.{total % 100:02d}&fn=9999078900005731&i=1322&fp=1170736072&n=1",
        "Response": {"Error": 0, "ErrorMessages": ["ERR_NO_ERROR"]},
    }
    body.update(changes)
    return body


def device_error_body(code, messages=("detail",), request_id="order-1"):
    return {
        "Path": "/fr/api/v2/Complex",
        "RequestId": request_id,
        "FiscalDocNumber": 0,
        "QR": "",
        "Response": {"Error": code, "ErrorMessages": list(messages)},
    }


def fce_body(code, fatal, description="Ошибка сервера FCE"):
    body = {"FCEError": code, "ErrorDescription": description, "Device": {"Name": "", "Address": ""}}
    if fatal is not None:
        body["Fatal"] = fatal
    return body


# -- payload ------------------------------------------------------------------------------


class TestCheckonlinePayload(unittest.TestCase):
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
        payload = self.build(client_id="point-2", group="SHOP2", password=3, device="00000000381007197638")
        self.assertEqual(
            (payload["ClientId"], payload["Group"], payload["Device"]),
            ("point-2", "SHOP2", "00000000381007197638"),
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

    def test_tax_mode_from_the_configuration(self):
        self.assertEqual(self.build(tax_mode=2)["TaxMode"], 2)
        self.assertNotIn("TaxMode", self.build(tax_mode=0))  # one system registered on the device
        with self.assertRaises(ValueError):
            CheckonlineConfig(tax_mode=3)

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
        # the sandbox takes it, so they are sent by default; "drop" and "refuse" are options.
        items = (make_item("Чайник"), make_item("Подарок", price="0.00"))
        self.assertEqual([line["Price"] for line in self.build(make_receipt(items))["Lines"]], [122000, 0])
        dropped = self.build(make_receipt(items), zero_price_lines="drop")["Lines"]
        self.assertEqual([line["Description"] for line in dropped], ["Чайник"])
        self.assert_refused(make_receipt(items), "Lines[1].Price", "Подарок", zero_price_lines="refuse")
        # A receipt of gifts only has a zero total: device error 142, which is cached.
        self.assert_refused(make_receipt((make_item("Подарок", price="0.00"),)), "Total", "142")

    def test_internet_flag(self):
        self.assertIs(self.build()["Internet"], True)
        self.assertNotIn("Internet", self.build(make_receipt(internet=False)))
        self.assertNotIn("Internet", self.build(send_internet=False))

    def test_empty_receipt_and_missing_id(self):
        self.assert_refused(make_receipt(external_id=""), "RequestId")
        empty = dataclasses.replace(make_receipt(), items=(), payments=(), total=Decimal("0.00"))
        self.assert_refused(empty, "Lines", "208")


class TestCheckonlineConfig(unittest.TestCase):
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
            {"device": ""},
            {"tax_ids": {"vat23": 13}},
            {"tax_ids": {"vat22": "11"}},
            {"cert_file": "/tmp/client.pem"},
            {"zero_price_lines": "maybe"},
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


class TestCertificateFiles(unittest.TestCase):
    def _encrypted_key(self):
        key = ec.generate_private_key(ec.SECP256R1())
        return key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"secret"),
        )

    def _check_files(self, cert, key_path):
        with open(key_path, "rb") as handle:
            plain = handle.read()
        self.assertNotIn(b"ENCRYPTED", plain)
        serialization.load_pem_private_key(plain, password=None)
        with open(cert, "rb") as handle:
            self.assertEqual(handle.read(), b"-----BEGIN CERTIFICATE-----\n")

    def test_the_key_lives_in_memory_only(self):
        encrypted = self._encrypted_key()
        with self.assertRaises(ValueError):
            with certificate_files(b"CERT", encrypted):
                pass  # an encrypted key without its password would make OpenSSL prompt
        before = set(os.listdir(tempfile.gettempdir()))
        with certificate_files("-----BEGIN CERTIFICATE-----\n", encrypted, key_password="secret") as (
            cert,
            key_path,
        ):
            # Anonymous memory: a worker killed now leaves nothing on any disk.
            self.assertTrue(key_path.startswith("/proc/self/fd/"), key_path)
            self.assertEqual(set(os.listdir(tempfile.gettempdir())), before)
            self._check_files(cert, key_path)
        self.assertFalse(os.path.exists(key_path))

    def test_without_memory_files_they_are_private_and_removed(self):
        encrypted = self._encrypted_key()
        with patch.object(checkonline, "_memory_files_supported", lambda: False):
            with certificate_files("-----BEGIN CERTIFICATE-----\n", encrypted, key_password="secret") as (
                cert,
                key_path,
            ):
                self.assertEqual(os.stat(key_path).st_mode & 0o777, 0o600)
                self.assertEqual(os.stat(os.path.dirname(key_path)).st_mode & 0o777, 0o700)
                self._check_files(cert, key_path)
        self.assertFalse(os.path.exists(os.path.dirname(key_path)))


# -- answers (HTTP faked) -------------------------------------------------------------------


class TestCheckonlineAnswers(unittest.TestCase):
    def setUp(self):
        super().setUp()
        self.mock = responses.RequestsMock(assert_all_requests_are_fired=False)
        self.mock.start()
        self.addCleanup(self.mock.stop)
        self.exchanges = []
        self.client = CheckonlineClient(CONFIG, on_exchange=self.exchanges.append)
        self.payload = self.client.build_payload(make_receipt())

    def answer(self, body=None, status=200, **kwargs):
        if body is not None and not isinstance(body, (str, Exception)):
            kwargs["json"] = body
        elif body is not None:
            kwargs["body"] = body
        self.mock.add(responses.POST, URL, status=status, **kwargs)

    def register(self, operation="sell"):
        return self.client.register(operation, self.payload)

    def transient(self, uncertain):
        with self.assertRaises(TransientError) as caught:
            self.register()
        self.assertIs(caught.exception.uncertain, uncertain, str(caught.exception))
        return caught.exception

    def test_success_is_done_with_fiscal_data(self):
        client = CheckonlineClient(
            CheckonlineConfig(base_url=ROOT, ofd_url_template=OFD_URL_TEMPLATES["1-ofd"]),
            on_exchange=self.exchanges.append,
        )
        self.answer(success_body())
        result = client.register("sell", self.payload)
        self.assertEqual((result.status, result.vendor_id, result.http_status), (oc.DONE, "order-1", 200))
        self.assertEqual(
            result.fiscal,
            oc.FiscalData(
                fn_number="9999078900005731",
                fiscal_document_number=1322,
                fiscal_document_attribute="1170736072",
                shift_number=56,
                fiscal_receipt_number=7,
                receipt_datetime="28.11.2026 09:05:07",
                ecr_registration_number="0001234567890123",
                total="1220.00",
                ofd_receipt_url="https://consumer.1-ofd.ru/v1?fn=9999078900005731&fp=1170736072&i=1322"
                "&t=20261128T0905&s=1220.00&n=1",
            ),
        )
        sent = json.loads(self.mock.calls[0].request.body)
        self.assertEqual(sent, dict(self.payload, Password=1), "the password is added at send time")
        self.assertEqual(
            self.mock.calls[0].request.headers["Content-Type"], "application/json; charset=utf-8"
        )
        exchange = self.exchanges[0]
        self.assertEqual((exchange.action, exchange.url, exchange.http_status), ("register", URL, 200))
        self.assertEqual(exchange.request["Password"], "***")
        self.assertEqual(exchange.request["RequestId"], "order-1")
        self.assertNotIn("Password", self.payload)  # the frozen request itself is left alone

    def test_no_link_without_a_template(self):
        self.answer(success_body())
        self.assertEqual(self.register().fiscal.ofd_receipt_url, "")

    def test_full_response_of_protocol_3_2_0(self):
        # ST32 §2.4/§2.3: the 3.2.0 answer may carry the data in the CloseDocument answer only,
        # with the shift, FN and RN as fiscal document tags, and "Reponse" misspelt.
        close = {
            "Error": 0,
            "FiscalDocNumber": 1322,
            "DocNumber": 7,
            "Date": {
                "Date": {"Day": 1, "Month": 4, "Year": 17},
                "Time": {"Hour": 17, "Minute": 50, "Second": 0},
            },
            "GrandTotal": 122000,
            "FiscalSign": 1170736072,
            "DocumentType": 2,
            "FiscalDocument": {
                "TagID": 3,
                "TagType": "stlv",
                "Value": [
                    {"TagID": 1041, "TagType": "string", "Value": "9999078900005731"},
                    {"TagID": 1037, "TagType": "string", "Value": "2505480089053736 "},
                    {"TagID": 1038, "TagType": "uint32", "Value": 56},
                ],
            },
        }
        body = {
            "Path": "/fr/api/v2/Complex",
            "RequestId": "order-1",
            "Reponse": {"Error": 0},
            "Responses": [
                {"Path": "/fr/api/v2/AddLineToDocument", "Response": {"Error": 0}},
                {"Path": "/fr/api/v2/CloseDocument", "Response": close},
            ],
        }
        self.answer(body)
        self.payload = self.client.build_payload(make_receipt(operation=rd.SELL_REFUND))
        fiscal = self.register("sell_refund").fiscal
        self.assertEqual(
            (
                fiscal.fn_number,
                fiscal.ecr_registration_number,
                fiscal.shift_number,
                fiscal.fiscal_receipt_number,
            ),
            ("9999078900005731", "2505480089053736", 56, 7),
        )
        self.assertEqual(fiscal.receipt_datetime, "01.04.2017 17:50:00")
        # No QR in the answer: the client builds it (FNS "Проверка чека" string), n=2 for a refund.
        client = CheckonlineClient(CheckonlineConfig(base_url=ROOT, ofd_url_template="{qr}"))
        self.answer(body)
        fiscal = client.register("sell_refund", self.payload).fiscal
        self.assertEqual(
            fiscal.ofd_receipt_url, "t=20170401T1750&s=1220.00&fn=9999078900005731&i=1322&fp=1170736072&n=2"
        )

    def test_answer_for_another_receipt_under_the_same_id_is_not_taken(self):
        self.answer(success_body(total=999))
        result = self.register()
        # A receipt is registered under this id, but not this one: a person must look.
        self.assertEqual((result.status, result.error_code), (oc.ATTENTION, "total_mismatch"))
        self.assertIn("9.99", result.error_text)

    def test_cached_validation_error_needs_a_new_id(self):
        self.answer(
            device_error_body(
                51,
                ["Command *protocol.AddLineToDocument error: ERR_BAD_PARM", "MSGCODE: 48, [PayAttribute]: 0"],
            )
        )
        result = self.register()
        self.assertEqual(
            (result.status, result.kind, result.error_code, result.new_id_needed),
            (oc.FAILED, oc.KIND_VALIDATION, "51", True),
        )
        self.assertIn("[PayAttribute]: 0", result.error_text)
        self.assertEqual((self.exchanges[0].error_code, self.exchanges[0].error_type), ("51", "device"))

    def test_misspelt_response_of_the_3_2_0_examples(self):
        self.answer({"Path": "/fr/api/v2/Complex", "RequestId": "order-1", "Reponse": {"Error": 69}})
        result = self.register()
        self.assertEqual((result.error_code, result.new_id_needed), ("69", True))

    def test_device_errors_by_kind(self):
        cases = [
            (79, oc.KIND_AUTH, False),
            (239, oc.KIND_AUTH, False),
            (238, oc.KIND_CONFIG, False),
            (55, oc.KIND_CONFIG, True),
            (243, oc.KIND_CONFIG, True),
            (142, oc.KIND_VALIDATION, True),
            (208, oc.KIND_VALIDATION, True),
        ]
        for code, kind, new_id in cases:
            with self.subTest(code=code):
                self.mock.reset()
                self.answer(device_error_body(code))
                result = self.register()
                self.assertEqual(
                    (result.status, result.kind, result.new_id_needed), (oc.FAILED, kind, new_id)
                )

    def test_device_errors_that_are_not_cached_are_transient(self):
        for code in (17, 22, 61, 255):
            with self.subTest(code=code):
                self.mock.reset()
                self.answer(device_error_body(code))
                error = self.transient(uncertain=False)
                self.assertEqual(error.http_status, 200)
                self.assertIn(str(code), str(error))

    def test_an_error_from_the_cache_always_needs_a_new_id(self):
        self.answer(device_error_body(17), headers={"X-From-FCE-Cache": "true"})
        result = self.register()
        self.assertEqual((result.status, result.new_id_needed), (oc.FAILED, True))
        self.assertIn("cache", self.exchanges[0].message)

    def test_fce_errors(self):
        fatal = [
            # An undefined state (the device may have printed) must be checked by a person.
            (6, True, oc.ATTENTION, "", False),
            (16, True, oc.ATTENTION, "", False),
            (2, True, oc.FAILED, oc.KIND_VALIDATION, False),
            (19, True, oc.FAILED, oc.KIND_CONFIG, False),
            (7, None, oc.FAILED, oc.KIND_CONFIG, False),  # no "Fatal": by the code
        ]
        for code, flag, status, kind, new_id in fatal:
            with self.subTest(code=code):
                self.mock.reset()
                self.answer(fce_body(code, flag, "описание"), status=500)
                result = self.register()
                self.assertEqual(
                    (result.status, result.error_code, result.kind, result.new_id_needed, result.http_status),
                    (status, f"FCE-{code}", kind, new_id, 500),
                )
                self.assertIn("описание", result.error_text)
        self.assertEqual((self.exchanges[0].error_code, self.exchanges[0].error_type), ("FCE-6", "fce"))

    def test_fce_errors_that_are_not_fatal_are_transient(self):
        for code, flag, uncertain in (
            (5, False, False),
            (18, False, False),
            (24, False, True),
            (24, None, True),
        ):
            with self.subTest(code=code, flag=flag):
                self.mock.reset()
                self.answer(fce_body(code, flag), status=500)
                error = self.transient(uncertain=uncertain)
                self.assertEqual(error.http_status, 500)

    def test_http_answers_that_are_not_checkonline_answers(self):
        self.answer("<html>502 Bad Gateway</html>", status=502)
        self.assertEqual(self.transient(uncertain=True).http_status, 502)
        self.mock.reset()
        self.answer({"error": "rate"}, status=429)
        self.transient(uncertain=False)
        self.mock.reset()
        self.answer("<html>403 Forbidden</html>", status=403)
        self.assertEqual(self.register().kind, oc.KIND_AUTH)
        self.mock.reset()
        self.answer({"error": "no such endpoint"}, status=404)
        result = self.register()
        self.assertEqual(
            (result.kind, result.error_code, result.new_id_needed), (oc.KIND_CONFIG, "HTTP-404", False)
        )

    def test_unreadable_answers_are_uncertain(self):
        for body in ('{"Path": "/fr/api/v2/Comp', {"Path": "/fr/api/v2/Complex"}, ["x"]):
            with self.subTest(body=body):
                self.mock.reset()
                self.answer(body)
                self.transient(uncertain=True)

    def test_transport_errors(self):
        cases = [
            (requests.exceptions.ConnectionError("[Errno 111] Connection refused"), TransientError, False),
            (requests.exceptions.ConnectTimeout("connect timeout"), TransientError, False),
            (requests.exceptions.ReadTimeout("read timeout"), TransientError, True),
            (
                requests.exceptions.ConnectionError("('Connection aborted.', RemoteDisconnected())"),
                TransientError,
                True,
            ),
            (
                requests.exceptions.SSLError("EOF occurred in violation of protocol (_ssl.c:2427)"),
                TransientError,
                True,
            ),
            (
                requests.exceptions.SSLError(
                    "[SSL: TLSV13_ALERT_CERTIFICATE_REQUIRED] tlsv13 alert certificate required"
                ),
                CheckonlineCertificateError,
                False,
            ),
        ]
        for error, kind, uncertain in cases:
            with self.subTest(error=str(error)):
                self.mock.reset()
                self.exchanges.clear()
                self.answer(error)
                caught = self.transient(uncertain=uncertain)
                self.assertIs(type(caught), kind)
                self.assertEqual(len(self.exchanges), 1)
                self.assertIsNone(self.exchanges[0].http_status)

    def test_operation_must_match_the_payload(self):
        with self.assertRaises(CheckonlineDataError):
            self.register("sell_refund")
        self.assertEqual(len(self.mock.calls), 0)

    def test_check_connection(self):
        self.mock.add(responses.GET, URL, json=[{"Name": "Device", "Kind": "string", "Direction": "in"}])
        result = self.client.check_connection()
        self.assertEqual((result.status, result.raw["fields"][0]["Name"]), (oc.DONE, "Device"))
        self.assertEqual(self.exchanges[-1].action, "check")
        self.mock.reset()
        # A real FCE may refuse a body-less GET: still an answer of Checkonline behind the TLS.
        self.mock.add(responses.GET, URL, json=fce_body(3, True), status=500)
        self.assertEqual(self.client.check_connection().status, oc.DONE)
        self.mock.reset()
        self.mock.add(responses.GET, URL, body="<html>Not found</html>", status=404)
        result = self.client.check_connection()
        self.assertEqual((result.status, result.kind), (oc.FAILED, oc.KIND_CONFIG))


# -- the sandbox over mutual TLS --------------------------------------------------------------


class _Tls12Adapter(requests.adapters.HTTPAdapter):
    """TLS 1.2 only: the server refuses a certificate during the handshake, before any request
    byte is sent, so the failure is deterministic (with TLS 1.3 it may surface as an EOF)."""

    def init_poolmanager(self, *args, **kwargs):
        context = create_urllib3_context()
        context.maximum_version = ssl.TLSVersion.TLSv1_2
        kwargs["ssl_context"] = context
        return super().init_poolmanager(*args, **kwargs)


def _tls12_session():
    session = requests.Session()
    session.mount("https://", _Tls12Adapter())
    return session


class TestCheckonlineSandbox(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.folder = tempfile.TemporaryDirectory()
        cls.pki = Pki(cls.folder.name)
        cls.sb = Sandbox(
            seed=7,
            done_delay=0,
            quiet=True,
            tls_cert=cls.pki.server_cert,
            tls_key=cls.pki.server_key,
            tls_client_ca=cls.pki.ca,
        ).start()

    @classmethod
    def tearDownClass(cls):
        cls.sb.stop()
        cls.folder.cleanup()
        super().tearDownClass()

    def setUp(self):
        super().setUp()
        self.sb.reset()
        self.sb.configure(checkonline_delay=0, fail_share=0)
        self.exchanges = []
        self.client = self.make_client()

    def make_client(self, session=None, **changes):
        values = {
            "base_url": self.sb.url,
            "cert_file": self.pki.client[0],
            "key_file": self.pki.client[1],
            "verify": self.pki.ca,
            "read_timeout": 10.0,
            "ofd_url_template": OFD_URL_TEMPLATES["ofd.ru"],
        }
        values.update(changes)
        session = session or requests.Session()
        self.addCleanup(session.close)
        return CheckonlineClient(
            CheckonlineConfig(**values), session=session, on_exchange=self.exchanges.append
        )

    def sell(self, client=None, receipt=None):
        client = client or self.client
        return client.register(rd.SELL, client.build_payload(receipt or make_receipt()))

    def ledger(self):
        return self.sb.ledger()

    def wait_cached(self, request_id, timeout=5.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(key[-1] == request_id for key in list(self.sb.checkonline.cache)):
                return
            time.sleep(0.01)
        self.fail(f"the sandbox never cached {request_id}")

    def test_sell_is_done_with_the_fiscal_data_of_the_register(self):
        items = (
            make_item("Чайник", vat="vat22"),
            make_item("Доставка", price="300.00", vat="vat22", payment_object="service"),
        )
        result = self.sell(receipt=make_receipt(items))
        self.assertEqual((result.status, result.vendor_id, result.http_status), (oc.DONE, "order-1", 200))
        ledger = self.ledger()
        self.assertEqual(ledger["count"], 1)
        document = ledger["documents"][0]
        self.assertEqual(
            (document["vendor"], document["operation"], document["request_id"], document["total"]),
            ("checkonline", "sell", "order-1", "1520.00"),
        )
        fiscal, expected = result.fiscal, document["fiscal"]
        self.assertEqual(fiscal.fn_number, expected["fn_number"])
        self.assertEqual(fiscal.fiscal_document_number, expected["fiscal_document_number"])
        self.assertEqual(fiscal.fiscal_document_attribute, str(expected["fiscal_document_attribute"]))
        self.assertEqual(fiscal.shift_number, expected["shift_number"])
        self.assertEqual(fiscal.fiscal_receipt_number, expected["fiscal_receipt_number"])
        self.assertEqual(fiscal.total, "1520.00")
        self.assertRegex(fiscal.receipt_datetime, r"^\d\d\.\d\d\.20\d\d \d\d:\d\d:\d\d$")
        self.assertRegex(fiscal.ecr_registration_number, r"^\d{16}$")
        self.assertEqual(
            fiscal.ofd_receipt_url,
            f"https://check.ofd.ru/rec/{fiscal.fn_number}/{fiscal.fiscal_document_number}/"
            f"{fiscal.fiscal_document_attribute}",
        )
        sent = self.sb.documents("checkonline")[0]["request"]
        self.assertEqual([line["TaxId"] for line in sent["Lines"]], [11, 11])
        self.assertEqual(sent["NonCash"], [152000, 0, 0])
        # The attempt log: one exchange, password masked, no trace of the client key.
        self.assertEqual([exchange.action for exchange in self.exchanges], ["register"])
        self.assertEqual(self.exchanges[0].request["Password"], "***")
        with open(self.pki.client[1]) as handle:
            key_body = handle.read().splitlines()[1]
        self.assertNotIn(key_body, repr(self.exchanges))
        self.assertNotIn("client.key", repr(self.exchanges))

    def test_refund_is_done(self):
        client = self.client
        payload = client.build_payload(make_receipt(operation=rd.SELL_REFUND, external_id="refund-1"))
        result = client.register(rd.SELL_REFUND, payload)
        self.assertEqual(result.status, oc.DONE)
        self.assertEqual(self.ledger()["documents"][0]["operation"], "sell_refund")
        self.assertEqual(result.raw["DocumentType"], 2)
        self.assertTrue(result.raw["QR"].endswith("&n=2"), result.raw["QR"])

    def test_lost_answer_then_the_same_request_id_returns_the_cached_receipt(self):
        self.sb.set_faults({"lost_answer": {"next": 1, "targets": ["complex"]}})
        payload = self.client.build_payload(make_receipt())
        with self.assertRaises(TransientError) as caught:
            self.client.register(rd.SELL, payload)
        self.assertTrue(caught.exception.uncertain)
        self.assertEqual(self.ledger()["count"], 1)  # registered, although nobody heard it
        again = self.client.register(rd.SELL, payload)
        self.assertEqual(again.status, oc.DONE)
        ledger = self.ledger()
        self.assertEqual(ledger["count"], 1)
        self.assertEqual(ledger["documents"][0]["submitted"], 2)
        self.assertEqual(ledger["duplicates_by_content"]["count"], 0)
        self.assertEqual(
            again.fiscal.fiscal_document_number, ledger["documents"][0]["fiscal"]["fiscal_document_number"]
        )
        self.assertIn("cache", self.exchanges[-1].message)

    def test_timeout_then_the_same_request_id_returns_the_cached_receipt(self):
        self.sb.set_faults({"latency": {"next": 1, "seconds": 0.6, "targets": ["complex"]}})
        client = self.make_client(read_timeout=0.2)
        payload = client.build_payload(make_receipt(external_id="slow-1"))
        with self.assertRaises(TransientError) as caught:
            client.register(rd.SELL, payload)
        self.assertTrue(caught.exception.uncertain)
        self.wait_cached("slow-1")
        self.assertEqual(client.register(rd.SELL, payload).status, oc.DONE)
        self.assertEqual(self.ledger()["count"], 1)

    def test_same_request_id_while_the_first_is_processed(self):
        self.sb.configure(checkonline_delay=0.5)
        payload = self.client.build_payload(make_receipt(external_id="busy-1"))
        results = []
        first = threading.Thread(target=lambda: results.append(self.make_client().register(rd.SELL, payload)))
        first.start()
        deadline = time.monotonic() + 5
        while not self.sb.checkonline.in_flight and time.monotonic() < deadline:
            time.sleep(0.005)
        with self.assertRaises(TransientError) as caught:
            self.client.register(rd.SELL, payload)
        first.join()
        self.assertTrue(caught.exception.uncertain)  # FCE 24: the first one may register it
        self.assertIn("24", str(caught.exception))
        self.assertEqual(results[0].status, oc.DONE)
        self.sb.configure(checkonline_delay=0)
        self.assertEqual(self.client.register(rd.SELL, payload).fiscal, results[0].fiscal)
        self.assertEqual(self.ledger()["count"], 1)

    def test_dropped_and_malformed_answers(self):
        self.sb.set_faults({"drop": {"next": 1, "targets": ["complex"]}})
        payload = self.client.build_payload(make_receipt(external_id="drop-1"))
        with self.assertRaises(TransientError) as caught:
            self.client.register(rd.SELL, payload)
        self.assertTrue(caught.exception.uncertain)  # the client cannot tell it was not processed
        self.assertEqual(self.ledger()["count"], 0)
        self.assertEqual(self.client.register(rd.SELL, payload).status, oc.DONE)

        self.sb.set_faults({"malformed": {"next": 1, "targets": ["complex"]}})
        payload = self.client.build_payload(make_receipt(external_id="cut-1"))
        with self.assertRaises(TransientError) as caught:
            self.client.register(rd.SELL, payload)
        self.assertTrue(caught.exception.uncertain)
        self.assertEqual(self.client.register(rd.SELL, payload).status, oc.DONE)
        self.assertEqual(self.ledger()["count"], 2)

    def test_fatal_fce_error_fails_with_its_text(self):
        self.sb.set_faults({"fiscal_fail": {"next": 1, "fce": 6, "fatal": True, "targets": ["complex"]}})
        payload = self.client.build_payload(make_receipt(external_id="fce-6"))
        result = self.client.register(rd.SELL, payload)
        self.assertEqual((result.status, result.error_code, result.http_status), (oc.ATTENTION, "FCE-6", 500))
        self.assertIn("Ошибка отправки запроса устройству", result.error_text)
        # FCE error 6 is cached (ST32 §3.6.4): the same RequestId gets it again.
        self.assertEqual(self.client.register(rd.SELL, payload).error_code, "FCE-6")
        self.assertEqual(self.ledger()["count"], 0)

        self.sb.set_faults({"fiscal_fail": {"next": 1, "fce": 19, "fatal": True, "targets": ["complex"]}})
        result = self.sell(receipt=make_receipt(external_id="fce-19"))
        self.assertEqual(
            (result.status, result.kind, result.new_id_needed), (oc.FAILED, oc.KIND_CONFIG, False)
        )
        self.assertIn("Ошибка кэша сервера", result.error_text)

    def test_non_fatal_fce_error_is_transient_and_the_same_id_succeeds_later(self):
        self.sb.set_faults({"fiscal_fail": {"next": 1, "fce": 18, "targets": ["complex"]}})
        payload = self.client.build_payload(make_receipt(external_id="fce-18"))
        with self.assertRaises(TransientError) as caught:
            self.client.register(rd.SELL, payload)
        self.assertEqual((caught.exception.uncertain, caught.exception.http_status), (False, 500))
        self.assertIn("Устройство занято", str(caught.exception))
        self.assertEqual(self.client.register(rd.SELL, payload).status, oc.DONE)
        self.assertEqual(self.ledger()["count"], 1)

    def test_gateway_errors(self):
        self.sb.set_faults({"http_5xx": {"next": 1, "status": 500, "body": "json", "targets": ["complex"]}})
        with self.assertRaises(TransientError) as caught:
            self.sell(receipt=make_receipt(external_id="gw-1"))
        self.assertEqual((caught.exception.uncertain, caught.exception.http_status), (False, 500))  # FCE 5
        self.sb.set_faults({"http_5xx": {"next": 1, "status": 502, "body": "html", "targets": ["complex"]}})
        with self.assertRaises(TransientError) as caught:
            self.sell(receipt=make_receipt(external_id="gw-2"))
        self.assertEqual((caught.exception.uncertain, caught.exception.http_status), (True, 502))
        self.assertEqual(self.ledger()["count"], 0)

    def test_device_error_that_is_not_cached_is_retried_with_the_same_id(self):
        self.sb.set_faults({"fiscal_fail": {"next": 1, "code": 17, "targets": ["complex"]}})
        payload = self.client.build_payload(make_receipt(external_id="ofd-17"))
        with self.assertRaises(TransientError) as caught:
            self.client.register(rd.SELL, payload)
        self.assertFalse(caught.exception.uncertain)
        self.assertIn("ОФД", str(caught.exception))
        self.assertEqual(self.client.register(rd.SELL, payload).status, oc.DONE)
        self.assertEqual(self.ledger()["count"], 1)

    def test_cached_validation_error_needs_a_new_request_id(self):
        wrong = self.make_client(tax_ids={"vat22": 13})  # a TaxId the register does not know
        payload = wrong.build_payload(make_receipt(external_id="tax-1"))
        result = wrong.register(rd.SELL, payload)
        self.assertEqual(
            (result.status, result.kind, result.error_code, result.new_id_needed),
            (oc.FAILED, oc.KIND_VALIDATION, "51", True),
        )
        self.assertIn("TaxId", result.error_text)
        fixed = self.client.build_payload(make_receipt(external_id="tax-1"))
        self.assertEqual(self.client.register(rd.SELL, fixed).error_code, "51")  # the cached answer
        renewed = self.client.build_payload(make_receipt(external_id="tax-1-2"))
        self.assertEqual(self.client.register(rd.SELL, renewed).status, oc.DONE)
        self.assertEqual(self.ledger()["count"], 1)

    def test_wrong_password_is_not_cached(self):
        wrong = self.make_client(password=31)
        result = wrong.register(rd.SELL, wrong.build_payload(make_receipt(external_id="pw-1")))
        self.assertEqual(
            (result.status, result.kind, result.error_code, result.new_id_needed),
            (oc.FAILED, oc.KIND_AUTH, "79", False),
        )
        self.assertEqual(self.sell(receipt=make_receipt(external_id="pw-1")).status, oc.DONE)

    def test_client_without_certificate_is_refused(self):
        for session in (requests.Session(), _tls12_session()):
            client = self.make_client(session=session, cert_file="", key_file="")
            with self.subTest(adapter=type(session.get_adapter("https://x")).__name__):
                with self.assertRaises(TransientError) as caught:
                    self.sell(client)
                self.assertIsNone(caught.exception.http_status)
                self.assertEqual(self.exchanges[-1].error_type, "tls")
        # Refused during the handshake: certainly not processed, and the message says why.
        self.assertIsInstance(caught.exception, CheckonlineCertificateError)
        self.assertFalse(caught.exception.uncertain)
        self.assertIn("certificate", str(caught.exception))
        self.assertEqual(self.ledger()["count"], 0)

    def test_certificate_of_another_ca_is_refused(self):
        client = self.make_client(
            session=_tls12_session(), cert_file=self.pki.rogue[0], key_file=self.pki.rogue[1]
        )
        with self.assertRaises(CheckonlineCertificateError):
            self.sell(client)
        with self.assertRaises(CheckonlineCertificateError):
            client.check_connection()
        self.assertEqual(self.ledger()["count"], 0)

    def test_certificate_of_the_session_wins(self):
        # The ORM may hand over a session whose ``cert`` is set (Odoo's CertificateAdapter).
        session = _tls12_session()
        session.cert = self.pki.client
        client = self.make_client(session=session, cert_file=self.pki.rogue[0], key_file=self.pki.rogue[1])
        self.assertEqual(self.sell(client).status, oc.DONE)

    def test_check_connection_registers_nothing(self):
        result = self.client.check_connection()
        self.assertEqual(result.status, oc.DONE)
        self.assertIn("RequestId", [field["Name"] for field in result.raw["fields"]])
        self.assertEqual(self.exchanges[-1].action, "check")
        self.assertEqual(self.ledger()["count"], 0)

    def test_connection_refused_is_certain(self):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        client = self.make_client(base_url=f"https://127.0.0.1:{port}")
        with self.assertRaises(TransientError) as caught:
            self.sell(client)
        self.assertFalse(caught.exception.uncertain)
        self.assertNotIsInstance(caught.exception, CheckonlineCertificateError)
