"""The Checkonline client alone, its answers (faked with ``responses``): fiscal data, device
and FCE errors, the cache, transport failures."""

import json

import requests
import responses

from ..vendors import outcome as oc
from ..vendors import receipt as rd
from ..vendors.checkonline import (
    OFD_URL_TEMPLATES,
    CheckonlineCertificateError,
    CheckonlineClient,
    CheckonlineConfig,
    CheckonlineDataError,
)
from ..vendors.errors import TransientError
from .checkonline_common import (
    CONFIG,
    ROOT,
    URL,
    device_error_body,
    fce_body,
    make_receipt,
    success_body,
)
from .common import KkmCase


class TestCheckonlineAnswers(KkmCase):
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
