"""Checkonline (FCE JSON API 3.2.0, "ST32") emulation: Complex, validation, the response cache."""

import copy
import json
import threading

from ..sandbox import samples
from .common import KkmCase
from .test_sandbox_common import HTTP_TIMEOUT, SandboxMixin


def complex_body(request_id="order-1", **changes):
    body = samples.checkonline_complex(request_id)
    body.update(changes)
    return body


def with_line(index=0, **changes):
    body = complex_body()
    body["Lines"][index].update(changes)
    return body


class TestCheckonlineComplex(SandboxMixin, KkmCase):
    def test_success_returns_fiscal_data(self):
        answer = self.complex(complex_body())
        self.assertEqual(answer.status_code, 200)
        self.assertIsNone(answer.headers.get("X-From-FCE-Cache"))
        body = answer.json()
        self.assertEqual(body["Path"], "/fr/api/v2/Complex")
        self.assertEqual(body["RequestId"], "order-1")
        self.assertEqual(body["Response"]["Error"], 0)
        self.assertEqual(body["GrandTotal"], 40000)
        self.assertEqual(body["Change"], 0)
        self.assertRegex(body["FNSerialNumber"], r"^\d{16}$")
        self.assertRegex(body["DeviceRegistrationNumber"], r"^\d{16}$")
        self.assertRegex(body["DeviceSerialNumber"], r"^\d{20}$")
        self.assertEqual(body["Device"]["Name"], body["DeviceSerialNumber"])
        self.assertIsInstance(body["FiscalDocNumber"], int)
        self.assertRegex(str(body["FiscalSign"]), r"^\d{10}$")
        self.assertEqual(body["DocNumber"], 1)
        self.assertIsInstance(body["TurnNumber"], int)
        date = body["Date"]
        self.assertLess(date["Date"]["Year"], 100)  # ST32 §2.1.4: two-digit year
        self.assertTrue(1 <= date["Date"]["Month"] <= 12)
        self.assertIn(f"fn={body['FNSerialNumber']}", body["QR"])
        self.assertIn(f"i={body['FiscalDocNumber']}&fp={body['FiscalSign']}&n=1", body["QR"])
        self.assertIn("s=400.00", body["QR"])

    def test_document_types_and_counters(self):
        numbers = []
        # Tag 1054 in the QR string: 1 приход, 2 возврат прихода, 3 расход, 4 возврат расхода.
        for document_type, sign in enumerate((1, 3, 2, 4)):
            with self.subTest(document_type=document_type):
                body = complex_body(f"doc-{document_type}", DocumentType=document_type)
                answer = self.complex(body).json()
                self.assertEqual(answer["Response"]["Error"], 0)
                self.assertEqual(answer["DocumentType"], document_type)
                self.assertTrue(answer["QR"].endswith(f"n={sign}"), answer["QR"])
                numbers.append(answer["FiscalDocNumber"])
        self.assertEqual(numbers, list(range(numbers[0], numbers[0] + 4)))
        operations = [row["operation"] for row in self.sb.ledger()["documents"]]
        self.assertEqual(operations, ["sell", "buy", "sell_refund", "buy_refund"])

    def test_cash_change_and_full_response(self):
        body = complex_body(Cash=50000, NonCash=[0, 0, 0], FullResponse=True)
        answer = self.complex(body).json()
        self.assertEqual(answer["Change"], 10000)
        paths = [item["Path"] for item in answer["Responses"]]
        self.assertEqual(paths[-1], "/fr/api/v2/CloseDocument")
        self.assertEqual(paths.count("/fr/api/v2/AddLineToDocument"), 2)
        close = answer["Responses"][-1]["Response"]
        self.assertEqual(close["FiscalDocNumber"], answer["FiscalDocNumber"])
        self.assertIn("Колбаса", close["Text"])
        tags = {tag["TagID"]: tag["Value"] for tag in close["FiscalDocument"]["Value"]}
        self.assertEqual(tags[1041], answer["FNSerialNumber"])

    def test_sub_total_and_qty_in_thousandths(self):
        lines = [
            {"Qty": 2500, "Price": 1999, "PayAttribute": 4, "TaxId": 1, "Description": "Яблоки 2,5 кг"},
            {
                "Qty": 3000,
                "Price": 3333,
                "SubTotal": 10000,
                "PayAttribute": 4,
                "TaxId": 4,
                "Description": "Скидка",
            },
        ]
        # 2.5 x 19.99 = 49.975 -> 49.98; the second line counts by its SubTotal.
        answer = self.complex(complex_body(Lines=lines, NonCash=[14998])).json()
        self.assertEqual(answer["Response"]["Error"], 0, answer)
        self.assertEqual(answer["GrandTotal"], 14998)


# (rule, request body, expected HTTP status, device error (Response.Error) or FCEError)
DEVICE_CASES = [
    ("ST32 §2.1.3: text must be CP866 (51)", with_line(Description="Товар €"), 51),
    ("ST32 6.2.1 item 23: empty name (51)", with_line(Description=""), 51),
    ("FFD tag 1030: name at most 128 (51)", with_line(Description="Т" * 129), 51),
    ("ST32 Табл.9: PayAttribute 0 (51)", with_line(PayAttribute=0), 51),
    ("ST32 Табл.9: PayAttribute above 7 (51)", with_line(PayAttribute=8), 51),
    ("ST32 Табл.9: PayAttribute 7 only in a single line (51)", with_line(PayAttribute=7), 51),
    ("ST32 6.2.1 item 10: TaxId out of range (51)", with_line(TaxId=0), 51),
    ("ST32 6.2.1 item 10: TaxId 13 (51)", with_line(TaxId=13), 51),
    ("tag 1212: LineAttribute 29 (51)", with_line(LineAttribute=29), 51),
    ("ST32 Табл.12: DocumentType 0..3 (51)", complex_body(DocumentType=4), 51),
    ("ST32 Табл.11: TaxMode one bit (51)", complex_body(TaxMode=3), 51),
    ("ST32 5.26.2: TaxMode required when several modes are registered (51)", complex_body(TaxMode=0), 51),
    ("tag 1008: PhoneOrEmail required for an electronic receipt (51)", complex_body(PhoneOrEmail=""), 51),
    ("ST32 Табл.25: no lines (208)", complex_body(Lines=[]), 208),
    (
        "ST32 Табл.25: zero total (142)",
        complex_body(
            Lines=[{"Qty": 1000, "Price": 0, "PayAttribute": 4, "TaxId": 1, "Description": "Бесплатно"}],
            NonCash=[0],
        ),
        142,
    ),
    ("ST32 Табл.25: payments below the total (69)", complex_body(NonCash=[39999, 0, 0]), 69),
    (
        "ST32 Табл.25: electronic payments above the total (77)",
        complex_body(NonCash=[40000, 0, 0], AdvancePayment=100),
        77,
    ),
    ("ST32 Табл.25: wrong password (79)", complex_body(Password=31), 79),
]
FCE_CASES = [
    ("ST32 §3.6.2: Qty must be an integer of thousandths (FCE 2)", with_line(Qty=1.5), 2, True),
    ("ST32 §3.6.2: Price in kopecks, not a string (FCE 2)", with_line(Price="100.00"), 2, True),
    ("ST32 §2.4: NonCash is an array (FCE 2)", complex_body(NonCash=40000), 2, True),
    (
        "ST32 §2.4: NonCash has 3 elements at most (FCE 2)",
        complex_body(NonCash=[10000, 10000, 10000, 10000]),
        2,
        True,
    ),
    ("ST32 §3.3.2: Device required (FCE 3)", complex_body(Device=""), 3, True),
    ("ST32 Табл.4: RequestId required (FCE 17)", complex_body(RequestId=""), 17, True),
    ("ST32 §3.3.2: unknown device serial (FCE 10)", complex_body(Device="00000000000000000001"), 10, True),
    ("ST32 §3.6.3: no device in the group (FCE 5)", complex_body(Group="NOPE"), 5, False),
]


class TestCheckonlineValidation(SandboxMixin, KkmCase):
    def test_device_errors(self):
        for number, (rule, body, code) in enumerate(DEVICE_CASES):
            with self.subTest(rule=rule):
                body = copy.deepcopy(body)
                body["RequestId"] = f"bad-{number}"
                answer = self.complex(body)
                self.assertEqual(answer.status_code, 200, answer.text)
                payload = answer.json()
                self.assertEqual(payload["Response"]["Error"], code, payload)
                self.assertTrue(payload["Response"]["ErrorMessages"])
                self.assertEqual(payload["FiscalDocNumber"], 0)
                self.assertEqual(payload["QR"], "")
        self.assertEqual(self.sb.ledger()["count"], 0)

    def test_fce_errors(self):
        for number, (rule, body, code, fatal) in enumerate(FCE_CASES):
            with self.subTest(rule=rule):
                body = copy.deepcopy(body)
                if body.get("RequestId"):
                    body["RequestId"] = f"fce-{number}"
                answer = self.complex(body)
                self.assertEqual(answer.status_code, 500, answer.text)
                payload = answer.json()
                self.assertEqual(payload["FCEError"], code)
                self.assertIs(payload["Fatal"], fatal)
                self.assertTrue(payload["ErrorDescription"])
                self.assertIn("Device", payload)
        self.assertEqual(self.sb.ledger()["count"], 0)

    def test_body_that_is_not_json(self):
        answer = self.http.post(
            f"{self.sb.url}/fr/api/v2/Complex",
            data=b"{broken",
            headers={"Content-Type": "application/json"},
            timeout=HTTP_TIMEOUT,
        )
        self.assertEqual(answer.status_code, 500)
        self.assertEqual(answer.json()["FCEError"], 2)
        self.assertTrue(answer.json()["Fatal"])

    def test_chunked_request_body(self):
        raw = json.dumps(complex_body("chunked")).encode()
        answer = self.http.post(
            f"{self.sb.url}/fr/api/v2/Complex",
            data=iter([raw[:20], raw[20:]]),
            headers={"Content-Type": "application/json"},
            timeout=HTTP_TIMEOUT,
        )
        self.assertEqual(answer.json()["Response"]["Error"], 0)

    def test_auto_device_only_for_batch_commands(self):
        answer = self.http.post(
            f"{self.sb.url}/fr/api/v2/OpenTurn",
            json={"Device": "auto", "RequestId": "1", "Password": 30},
            timeout=5,
        )
        self.assertEqual(answer.status_code, 500)
        self.assertEqual(answer.json()["FCEError"], 7)

    def test_new_tax_ids(self):
        for tax_id in range(1, 13):
            with self.subTest(tax_id=tax_id):
                answer = self.complex(with_line(TaxId=tax_id) | {"RequestId": f"tax-{tax_id}"}).json()
                self.assertEqual(answer["Response"]["Error"], 0)


class TestCheckonlineCache(SandboxMixin, KkmCase):
    def test_repeated_request_returns_the_cached_answer(self):
        first = self.complex(complex_body("pay-42"))
        second = self.complex(complex_body("pay-42"))
        self.assertEqual(second.status_code, 200)
        self.assertEqual(second.headers.get("X-From-FCE-Cache"), "true")
        self.assertEqual(second.json(), first.json())
        ledger = self.sb.ledger()
        self.assertEqual(ledger["count"], 1)
        self.assertEqual(ledger["documents"][0]["submitted"], 2)
        self.assertEqual(ledger["duplicates_by_id"]["count"], 0)
        self.assertEqual(ledger["duplicates_by_content"]["count"], 0)

    def test_cache_key_is_group_request_id_and_client_id(self):
        self.sb.checkonline_groups.add("SHOP2")
        first = self.complex(complex_body("pay-1")).json()
        other_client = self.complex(complex_body("pay-1", ClientId="point-2")).json()
        other_group = self.complex(complex_body("pay-1", Group="SHOP2")).json()
        self.assertNotEqual(first["FiscalDocNumber"], other_client["FiscalDocNumber"])
        self.assertNotEqual(first["FNSerialNumber"], other_group["FNSerialNumber"])
        ledger = self.sb.ledger()
        self.assertEqual(ledger["count"], 3)
        # The same content under other keys is what duplicates_by_content reports.
        self.assertEqual(ledger["duplicates_by_content"]["count"], 1)

    def test_deterministic_error_is_cached(self):
        # ST32 §3.5: error 51 is cached; fixing the data needs a new RequestId.
        bad = with_line(Description="Пиво 🍺")
        bad["RequestId"] = "pay-51"
        self.assertEqual(self.complex(bad).json()["Response"]["Error"], 51)
        fixed = complex_body("pay-51")
        again = self.complex(fixed)
        self.assertEqual(again.json()["Response"]["Error"], 51)
        self.assertEqual(again.headers.get("X-From-FCE-Cache"), "true")
        self.assertEqual(self.complex(complex_body("pay-51-2")).json()["Response"]["Error"], 0)

    def test_password_error_is_not_cached(self):
        self.assertEqual(self.complex(complex_body("pay-79", Password=99)).json()["Response"]["Error"], 79)
        answer = self.complex(complex_body("pay-79"))
        self.assertIsNone(answer.headers.get("X-From-FCE-Cache"))
        self.assertEqual(answer.json()["Response"]["Error"], 0)
        self.assertEqual(self.sb.ledger()["count"], 1)

    def test_not_cache_errors_flag(self):
        body = complex_body("pay-nc", NonCash=[1, 0, 0], NotCacheErrors=True)
        self.assertEqual(self.complex(body).json()["Response"]["Error"], 69)
        self.assertEqual(self.complex(complex_body("pay-nc")).json()["Response"]["Error"], 0)

    def test_same_request_in_progress_is_fce_24(self):
        sb = self.start_sandbox(seed=1, done_delay=0, checkonline_delay=0.4, quiet=True)
        answers = []

        def send():
            answers.append(self.complex(complex_body("slow-1"), sb=sb))

        first = threading.Thread(target=send)
        first.start()
        while not sb.checkonline.in_flight:
            threading.Event().wait(0.005)
        send()
        first.join()
        codes = sorted(answer.status_code for answer in answers)
        self.assertEqual(codes, [200, 500])
        busy = next(answer for answer in answers if answer.status_code == 500).json()
        self.assertEqual(busy["FCEError"], 24)
        self.assertFalse(busy["Fatal"])
        self.assertEqual(sb.ledger()["count"], 1)

    def test_fail_share_uses_transient_errors(self):
        sb = self.start_sandbox(seed=5, done_delay=0, fail_share=1.0, quiet=True)
        seen = set()
        for number in range(12):
            answer = self.complex(complex_body(f"f-{number}"), sb=sb)
            body = answer.json()
            seen.add(
                ("fce", body["FCEError"])
                if answer.status_code == 500
                else ("device", body["Response"]["Error"])
            )
        self.assertTrue(seen <= {("device", 17), ("device", 22), ("fce", 5), ("fce", 18)}, seen)
        self.assertGreater(len(seen), 1)
        self.assertEqual(sb.ledger()["count"], 0)
        # Transient errors are not cached: the same RequestId succeeds once the device is back.
        sb.configure(fail_share=0)
        self.assertEqual(self.complex(complex_body("f-0"), sb=sb).json()["Response"]["Error"], 0)
