"""ATOL request validation, table-driven: each row is a rule of the protocol texts.

"A4" is the v4 protocol (doc 5.15), "A5" the v5 protocol (doc 3.5); Табл./§ name where the
rule is written. Every request is refused before anything is registered.
"""

import base64

from .common import KkmCase
from .test_sandbox_common import ACCOUNTS, HTTP_TIMEOUT, SandboxMixin, correction_body, mutated, sell_body


def _set(path, value):
    """A change that sets ``body[path...] = value`` (path: keys and indexes)."""

    def change(body):
        target = body
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return change


def _delete(path):
    def change(body):
        target = body
        for key in path[:-1]:
            target = target[key]
        del target[path[-1]]

    return change


def _extend(path, items):
    def change(body):
        target = body
        for key in path:
            target = target[key]
        target.extend(items)

    return change


def _items_times(count):
    """v4 receipt with ``count`` identical items (and matching total/payments)."""

    def change(body):
        item = dict(body["receipt"]["items"][1])
        body["receipt"]["items"] = [dict(item) for _ in range(count)]
        body["receipt"]["total"] = 100.0 * count
        body["receipt"]["payments"] = [{"type": 1, "sum": 100.0 * count}]

    return change


def _both(*changes):
    def change(body):
        for each in changes:
            each(body)

    return change


R = ("receipt",)
ITEM = ("receipt", "items", 0)
C = ("correction",)

# (rule, version, operation, change, expected field in the error text)
CASES = [
    (
        "A4 Табл.2: items.name at most 128 characters",
        "v4",
        "sell",
        _set((*ITEM, "name"), "Я" * 129),
        "receipt.items[0].name",
    ),
    (
        "A5 client.email at most 64 characters",
        "v5",
        "sell",
        _set((*R, "client", "email"), "a" * 60 + "@x.ru"),
        "receipt.client.email",
    ),
    (
        "A4 Табл.2: external_id at most 128 characters",
        "v4",
        "sell",
        _set(("external_id",), "x" * 129),
        "external_id",
    ),
    ("A5 §6.2: receipt.items required", "v5", "sell", _delete((*R, "items")), "receipt.items"),
    ("A5 §6.2: items minItems 1", "v5", "sell", _set((*R, "items"), []), "receipt.items"),
    ("A4 Табл.2: items 1..100", "v4", "sell", _items_times(101), "receipt.items"),
    (
        "A5 number_price multipleOf 0.01",
        "v5",
        "sell",
        _set((*ITEM, "price"), 1000.001),
        "receipt.items[0].price",
    ),
    (
        "A5 quantity multipleOf 0.001",
        "v5",
        "sell",
        _set((*ITEM, "quantity"), 0.3001),
        "receipt.items[0].quantity",
    ),
    ("A4 price minimum 0", "v4", "sell", _set((*ITEM, "price"), -1), "receipt.items[0].price"),
    (
        "A5 §5.2: sum (1043) = price (1079) x quantity (1023)",
        "v5",
        "sell",
        _set((*ITEM, "sum"), 299.99),
        "receipt.items[0].sum",
    ),
    (
        "A5 §5.2: total = sum of items",
        "v5",
        "sell",
        _both(_set((*R, "total"), 400.01), _set((*R, "payments"), [{"type": 1, "sum": 400.01}])),
        "receipt.total",
    ),
    (
        "A4 Табл.2: total may differ from the items by at most 0.99",
        "v4",
        "sell",
        _both(_set((*R, "total"), 401.00), _set((*R, "payments"), [{"type": 1, "sum": 401.00}])),
        "receipt.total",
    ),
    (
        "payments must add up to the total",
        "v5",
        "sell",
        _set((*R, "payments"), [{"type": 1, "sum": 399.00}]),
        "receipt.payments",
    ),
    (
        "A4/A5: payments 1..10",
        "v5",
        "sell",
        _set((*R, "payments"), [{"type": 1, "sum": 40.0}] * 11),
        "receipt.payments",
    ),
    (
        "A4/A5: payment type 0..9",
        "v5",
        "sell",
        _set((*R, "payments"), [{"type": 10, "sum": 400.0}]),
        "receipt.payments[0].type",
    ),
    (
        "A4/A5: vats 1..6",
        "v4",
        "sell",
        _set((*R, "vats"), [{"type": "vat20", "sum": 1.0}] * 7),
        "receipt.vats",
    ),
    (
        "A5 §6.2 additionalProperties:false: v4 measurement_unit sent to v5",
        "v5",
        "sell",
        _set((*ITEM, "measurement_unit"), "кг"),
        "receipt.items[0].measurement_unit",
    ),
    ("A5 additionalProperties:false at the top level", "v5", "sell", _set(("comment",), "x"), "comment"),
    (
        "A5 additionalProperties:false in company",
        "v5",
        "sell",
        _set((*R, "company", "kpp"), "770101001"),
        "receipt.company.kpp",
    ),
    (
        "A5 §5.2: payment_object is an integer code",
        "v5",
        "sell",
        _set((*ITEM, "payment_object"), "commodity"),
        "receipt.items[0].payment_object",
    ),
    (
        "A5 §5.2: payment_object 1..27 or 30..33",
        "v5",
        "sell",
        _set((*ITEM, "payment_object"), 28),
        "receipt.items[0].payment_object",
    ),
    (
        "A4 Табл.2: payment_object string enum",
        "v4",
        "sell",
        _set((*ITEM, "payment_object"), 1),
        "receipt.items[0].payment_object",
    ),
    (
        "A4 Табл.2: payment_method enum",
        "v4",
        "sell",
        _set((*ITEM, "payment_method"), "full"),
        "receipt.items[0].payment_method",
    ),
    ("A5 §5.2: measure required", "v5", "sell", _delete((*ITEM, "measure")), "receipt.items[0].measure"),
    (
        "A5 §5.2: measure enum (tag 2108)",
        "v5",
        "sell",
        _set((*ITEM, "measure"), 5),
        "receipt.items[0].measure",
    ),
    (
        "A5 §5.2: payment_method required",
        "v5",
        "sell",
        _delete((*ITEM, "payment_method")),
        "receipt.items[0].payment_method",
    ),
    (
        "A4 Табл.2: vat.type enum",
        "v4",
        "sell",
        _set((*ITEM, "vat", "type"), "vat21"),
        "receipt.items[0].vat.type",
    ),
    ("A5: vat required per item", "v5", "sell", _delete((*ITEM, "vat")), "receipt.items[0].vat"),
    (
        "A4 Табл.2: vat18 forbidden in sell since 01.04.2019",
        "v4",
        "sell",
        _set((*ITEM, "vat", "type"), "vat18"),
        "ставки НДС 18 и 18/118",
    ),
    (
        "A5 phone ^(none|\\+[0-9]{1,18})$",
        "v5",
        "sell",
        _set((*R, "client"), {"phone": "89251234567"}),
        "receipt.client.phone",
    ),
    (
        "A5 email {С}@{С} or none",
        "v5",
        "sell",
        _set((*R, "client", "email"), "customer.example.com"),
        "receipt.client.email",
    ),
    (
        "A4 Табл.2: email or phone required",
        "v4",
        "sell",
        _set((*R, "client"), {"name": "Иванов"}),
        "receipt.client",
    ),
    (
        "A5 §6.2: client anyOf email | phone",
        "v5",
        "sell",
        _set((*R, "client"), {"inn": "7701234567"}),
        "receipt.client",
    ),
    (
        "A4/A5: client.inn 10 or 12 digits",
        "v4",
        "sell",
        _set((*R, "client", "inn"), "123456789"),
        "receipt.client.inn",
    ),
    (
        "A5: company.inn 10 or 12 digits",
        "v5",
        "sell",
        _set((*R, "company", "inn"), "55443322190"),
        "receipt.company.inn",
    ),
    ("A5 §6.2: company.sno required", "v5", "sell", _delete((*R, "company", "sno")), "receipt.company.sno"),
    (
        "A4 Табл.2: company.email required",
        "v4",
        "sell",
        _delete((*R, "company", "email")),
        "receipt.company.email",
    ),
    (
        "A4 Табл.2: timestamp dd.mm.yyyy HH:MM:SS",
        "v4",
        "sell",
        _set(("timestamp",), "2026-01-31 10:00:00"),
        "timestamp",
    ),
    (
        "A5 §6.2: timestamp pattern, hours 00..23",
        "v5",
        "sell",
        _set(("timestamp",), "31.01.2026 24:00:00"),
        "timestamp",
    ),
    (
        "A5: callback_url must match the mask",
        "v5",
        "sell",
        _set(("service",), {"callback_url": "ftp://x"}),
        "service.callback_url",
    ),
    (
        "A5: cashier_inn exactly 12 digits",
        "v5",
        "sell",
        _set((*R, "cashier_inn"), "7701234567"),
        "receipt.cashier_inn",
    ),
    (
        "A5: mark_code exactly one kind",
        "v5",
        "sell",
        _set((*ITEM, "mark_code"), {"ean8": "12345678", "ean13": "1234567890123"}),
        "receipt.items[0].mark_code",
    ),
    (
        "A5: agent_info requires supplier_info",
        "v5",
        "sell",
        _set((*ITEM, "agent_info"), {"type": "another"}),
        "receipt.items[0].supplier_info",
    ),
    (
        "A4 Табл.2: measurement_unit at most 16 characters",
        "v4",
        "sell",
        _set((*ITEM, "measurement_unit"), "x" * 17),
        "receipt.items[0].measurement_unit",
    ),
    (
        "A4 Табл.2: price at most 42 949 672.95",
        "v4",
        "sell",
        _set((*ITEM, "price"), 42949673.00),
        "receipt.items[0].price",
    ),
    (
        "float artefact 0.30000000000000004 is not multipleOf 0.001",
        "v5",
        "sell",
        _set((*ITEM, "quantity"), 0.30000000000000004),
        "receipt.items[0].quantity",
    ),
    ("A5 correction: items required", "v5", "sell_correction", _delete((*C, "items")), "correction.items"),
    (
        "A5 correction_info.base_date dd.mm.yyyy",
        "v5",
        "buy_correction",
        _set((*C, "correction_info", "base_date"), "2026-07-25"),
        "correction.correction_info.base_date",
    ),
    (
        "A5 correction_info: base_number for instruction",
        "v5",
        "sell_correction",
        _set((*C, "correction_info", "type"), "instruction"),
        "correction.correction_info.base_number",
    ),
    (
        "A4 Табл.3: correction vats required",
        "v4",
        "sell_correction",
        _delete((*C, "vats")),
        "correction.vats",
    ),
    (
        "A4 Табл.3: correction_info.base_number required",
        "v4",
        "buy_correction",
        _delete((*C, "correction_info", "base_number")),
        "correction.correction_info.base_number",
    ),
    (
        "A4 Табл.3: correction_info.type self|instruction",
        "v4",
        "sell_correction",
        _set((*C, "correction_info", "type"), "manual"),
        "correction.correction_info.type",
    ),
]


class TestAtolValidation(SandboxMixin, KkmCase):
    def test_invalid_requests_are_refused_with_32(self):
        self.assertGreaterEqual(len(CASES), 20)
        tokens = {version: self.get_token(version) for version in ACCOUNTS}
        for number, (rule, version, operation, change, field) in enumerate(CASES):
            base = (
                correction_body(version, f"bad-{number}")
                if operation.endswith("_correction")
                else sell_body(version, f"bad-{number}")
            )
            body = mutated(base, change)
            with self.subTest(rule=rule):
                answer = self.register(version, operation, body, token=tokens[version])
                self.assertEqual(answer.status_code, 400, answer.text)
                payload = answer.json()
                self.assertEqual(payload["error"]["code"], 32)
                self.assertEqual(payload["error"]["type"], "system")
                self.assertEqual(payload["status"], "fail")
                self.assertNotIn("uuid", payload)
                self.assertIn(field, payload["error"]["text"])
        self.assertEqual(self.sb.ledger()["count"], 0)

    def test_protocol_level_refusals(self):
        token = self.get_token("v4")
        group = ACCOUNTS["v4"].group
        url = f"{self.sb.url}/possystem/v4/{group}/sell"
        cases = [
            # (rule, request kwargs, HTTP status, code)
            (
                "A4 §8.1: 41 UnsupportedMediaType",
                {"data": b"{}", "headers": {"Token": token, "Content-Type": "text/plain"}},
                415,
                41,
            ),
            (
                "A4 §8.1: 40 BadRequest for a body that is not JSON",
                {"data": b"{not json", "headers": {"Token": token, "Content-Type": "application/json"}},
                400,
                40,
            ),
            (
                "A4 §8.1: 32 for a JSON body that is not an object",
                {"json": [1, 2], "headers": {"Token": token}},
                400,
                32,
            ),
        ]
        for rule, kwargs, status, code in cases:
            with self.subTest(rule=rule):
                answer = self.http.post(url, timeout=HTTP_TIMEOUT, **kwargs)
                self.assertEqual(answer.status_code, status, answer.text)
                self.assertEqual(answer.json()["error"]["code"], code)

    def test_documented_variants_are_accepted(self):
        accepted = [
            (
                "new VAT codes (vat5, vat7, vat105, vat107, vat22, vat122) on v4",
                "v4",
                "sell",
                self._all_new_vats,
            ),
            ("new VAT codes on v5", "v5", "sell", self._all_new_vats),
            (
                "A4 Табл.2: vat18 still allowed in a refund",
                "v4",
                "sell_refund",
                _set((*ITEM, "vat", "type"), "vat18"),
            ),
            (
                "A4 Табл.2: total rounded by up to 0.99",
                "v4",
                "sell",
                _both(_set((*R, "total"), 399.50), _set((*R, "payments"), [{"type": 1, "sum": 399.50}])),
            ),
            (
                "A4 Табл.2: Russian phone without +7",
                "v4",
                "sell",
                _set((*R, "client"), {"phone": "9251234567"}),
            ),
            (
                "A4: unknown fields are ignored (no additionalProperties:false)",
                "v4",
                "sell",
                _set((*R, "internet"), True),
            ),
            ("A5: phone only, +7...", "v5", "sell", _set((*R, "client"), {"phone": "+79251234567"})),
            ("A5: marked goods with a gs1m code, measure 0", "v5", "sell", self._marked),
            (
                "A4 Табл.2: payments sum null means the total",
                "v4",
                "sell",
                _set((*R, "payments"), [{"type": 1, "sum": None}]),
            ),
        ]
        for number, (rule, version, operation, change) in enumerate(accepted):
            with self.subTest(rule=rule):
                body = mutated(sell_body(version, f"ok-{number}"), change)
                answer = self.register(version, operation, body)
                self.assertEqual(answer.status_code, 200, answer.text)
                report = self.wait_final(version, answer.json()["uuid"])
                self.assertEqual(report["status"], "done")

    @staticmethod
    def _marked(body):
        code = base64.b64encode(b"010460043993125621JgXJ5.T\x1d91EE06\x1d92test").decode()
        body["receipt"]["items"][0].update(
            mark_code={"gs1m": code},
            mark_processing_mode="0",
            measure=0,
            quantity=1,
            price=300.0,
            payment_object=33,
        )

    @staticmethod
    def _all_new_vats(body):
        item = body["receipt"]["items"][1]
        body["receipt"]["items"] = [
            dict(item, vat={"type": code}) for code in ("vat5", "vat7", "vat105", "vat107", "vat22", "vat122")
        ]
        body["receipt"]["total"] = 600.0
        body["receipt"]["payments"] = [{"type": 1, "sum": 600.0}]
        body["receipt"]["vats"] = [
            {"type": code, "sum": 1.0} for code in ("vat5", "vat7", "vat105", "vat107", "vat22", "vat122")
        ]

    def test_v5_without_new_vat_codes_follows_doc_3_5(self):
        sb = self.start_sandbox(seed=1, done_delay=0, extra_vat_codes=(), quiet=True)
        body = sell_body("v5")
        body["receipt"]["items"][0]["vat"] = {"type": "vat22"}
        answer = self.register("v5", "sell", body, sb=sb)
        self.assertEqual(answer.status_code, 400)
        self.assertIn("receipt.items[0].vat.type", answer.json()["error"]["text"])
