"""Any vendor answer is an outcome, never a crash (issue "Never wrong", point 4).

Real answers of ATOL Online v4/v5 and Checkonline (the protocol texts' examples) are mutated by
hypothesis -- values replaced by any JSON (huge numbers, NaN, control characters, NUL bytes, a
year 99999), keys removed, the text truncated, the body replaced by bytes -- and served at the
transport boundary to the module's own sending and status paths. Whatever comes back, no
exception escapes, everything written can be stored, and the receipt is in a legal state.
"""

import json
from datetime import datetime, timedelta

import responses
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from odoo.tests import tagged

from ..models.l10n_ru_kkm_receipt.receipt import STATES
from .common import ATOL_URL, DONE_PAYLOAD, GROUP, KkmTestCommon, make_checkonline_certificate

CHECKONLINE_URL = "https://checkonline.test"
EXAMPLES = settings(
    max_examples=500,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
LEGAL_STATES = {state for state, _label in STATES}

# Real answers (protocol texts: ATOL v4 §6, v5 §6; Checkonline ST32 §2.4, §3.6).
ATOL_TOKEN = {"error": None, "token": "fj45u923j59ju42395iu9423i59243u0", "timestamp": "12.04.2017 20:15:08"}
ATOL_ACCEPTED = {
    "uuid": "2ea26f17-0884-4f08-b120-306fc096a58f",
    "status": "wait",
    "error": None,
    "timestamp": "12.04.2017 06:15:06",
}
ATOL_EXISTS = {
    "uuid": "2ea26f17-0884-4f08-b120-306fc096a58f",
    "status": "wait",
    "error": {
        "error_id": "e-33",
        "code": 33,
        "text": "В системе существует чек с external_id",
        "type": "system",
    },
    "timestamp": "12.04.2017 06:15:06",
}
ATOL_DONE = {
    "uuid": "2ea26f17-0884-4f08-b120-306fc096a58f",
    "error": None,
    "status": "done",
    "payload": dict(DONE_PAYLOAD),
    "timestamp": "12.04.2017 20:15:08",
    "group_code": GROUP,
    "daemon_code": "prod-agent-1",
    "device_code": "KSR13.00-1-11",
    "callback_url": "",
}
ATOL_WAIT = {
    "error": {
        "error_id": "e-34",
        "code": 34,
        "text": "Состояние чека не найдено. Попробуйте позднее",
        "type": "system",
    },
    "status": "wait",
    "timestamp": "12.04.2017 18:58:38",
    "callback_url": "",
}
ATOL_FAIL = {
    "uuid": "2ea26f17-0884-4f08-b120-306fc096a58f",
    "error": {"error_id": "e-16", "code": 16, "text": "Неверная цена (сумма)", "type": "driver"},
    "status": "fail",
    "payload": None,
    "timestamp": "12.04.2017 20:15:08",
}
CHECKONLINE_DONE = {
    "Path": "/fr/api/v2/Complex",
    "RequestId": "order-1",
    "ClientId": "",
    "Device": {"Name": "00000000381007197638", "Address": "10.1.0.40:4444"},
    "DeviceRegistrationNumber": "0001234567890123",
    "DeviceSerialNumber": "00000000381007197638",
    "FNSerialNumber": "9999078900005731",
    "DocumentType": 0,
    "Date": {"Date": {"Day": 28, "Month": 11, "Year": 26}, "Time": {"Hour": 9, "Minute": 5, "Second": 7}},
    "FiscalDocNumber": 1322,
    "FiscalSign": 1170736072,
    "DocNumber": 7,
    "TurnNumber": 56,
    "GrandTotal": 120000,
    "QR": "t=20261128T0905&s=1200.00&fn=9999078900005731&i=1322&fp=1170736072&n=1",
    "Response": {"Error": 0, "ErrorMessages": ["ERR_NO_ERROR"]},
    "Responses": [
        {"Path": "/fr/api/v2/CloseDocument", "Response": {"Error": 0, "FiscalDocument": {"Value": []}}}
    ],
}
CHECKONLINE_DEVICE_ERROR = {
    "Path": "/fr/api/v2/Complex",
    "RequestId": "order-1",
    "FiscalDocNumber": 0,
    "QR": "",
    "Response": {"Error": 51, "ErrorMessages": ["MSGCODE: 48, [PayAttribute]: 0"]},
}
CHECKONLINE_FCE = {"FCEError": 6, "ErrorDescription": "Ошибка отправки запроса устройству", "Fatal": True}

# -- mutations ------------------------------------------------------------------------------

_TEXT = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",))
    | st.sampled_from("\x00\x01\x1b\n\t\ufeff"),
    max_size=30,
)
_LEAF = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    _TEXT,
    st.sampled_from(["", "99999", "31.02.99999 25:61:61", "\x00", "done", "wait", "fail", "1e999", "-1"]),
    st.builds(lambda: {"Day": 31, "Month": 2, "Year": 99999}),
)
_JSON = st.recursive(
    _LEAF,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=8,
)


def _paths(value, prefix=()):
    """Every place inside a JSON value: the paths of its members and items, recursively."""
    paths = []
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        return paths
    for key, item in items:
        paths.append((*prefix, key))
        paths.extend(_paths(item, (*prefix, key)))
    return paths


def _parent(value, path):
    for key in path[:-1]:
        value = value[key]
    return value


@st.composite
def mutated(draw, base):
    """(HTTP status, body bytes): a real answer, changed in one to three ways."""
    body = json.loads(json.dumps(base))
    text = None
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        kind = draw(st.sampled_from(["replace", "replace", "delete", "add", "whole", "truncate", "bytes"]))
        paths = _paths(body) if text is None else []
        if kind in ("replace", "delete") and paths:
            path = draw(st.sampled_from(paths))
            parent = _parent(body, path)
            if kind == "replace":
                parent[path[-1]] = draw(_JSON)
            else:
                del parent[path[-1]]
        elif kind == "add" and isinstance(body, dict):
            body[draw(st.text(max_size=12))] = draw(_JSON)
        elif kind == "whole":
            body, text = draw(_JSON), None
        elif kind == "truncate":
            serialized = json.dumps(body, ensure_ascii=False) if text is None else text
            text = serialized[: draw(st.integers(min_value=0, max_value=max(len(serialized) - 1, 0)))]
        elif kind == "bytes":
            return draw(st.sampled_from([200, 500])), draw(st.binary(max_size=64))
    if text is None:
        text = json.dumps(body, ensure_ascii=draw(st.booleans()))
    status = draw(st.sampled_from([200, 200, 200, 400, 401, 404, 409, 429, 500, 502]))
    return status, text.encode("utf-8", "surrogatepass")


def answers(*bases):
    return st.one_of(*(mutated(base) for base in bases))


@tagged("post_install", "-at_install")
class TestAnswersNeverCrash(KkmTestCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.certificate = make_checkonline_certificate(cls, cls.company)

    def setUp(self):
        super().setUp()
        self.answer = (200, b"{}")
        self.token_answer = None
        self.receipts = {}

        def serve(request):
            status, body = self.answer
            return status, {"Content-Type": "application/json"}, body

        def token(request):
            status, body = self.token_answer or (200, json.dumps(ATOL_TOKEN).encode())
            return status, {"Content-Type": "application/json"}, body

        for version in ("v4", "v5"):
            root = f"{ATOL_URL}/{version}"
            self.mock.add_callback(responses.POST, f"{root}/getToken", callback=token)
            self.mock.add_callback(responses.POST, f"{root}/{GROUP}/sell", callback=serve)
            self.mock.add_callback(responses.GET, f"{root}/{GROUP}/report/uuid-x", callback=serve)
        self.mock.add_callback(responses.POST, f"{CHECKONLINE_URL}/fr/api/v2/Complex", callback=serve)
        self.mock.add_callback(responses.GET, f"{CHECKONLINE_URL}/fr/api/v2/Complex", callback=serve)

    def _receipt(self, vendor):
        """One receipt per test, created before the first example (each example rolls back)."""
        if vendor in self.receipts:
            return self.receipts[vendor]
        values = {"l10n_ru_kkm_vendor": vendor}
        if vendor == "checkonline":
            values.update(
                l10n_ru_kkm_service_url=CHECKONLINE_URL,
                l10n_ru_kkm_checkonline_certificate_id=self.certificate.id,
            )
        self.company.sudo().write(values)
        receipt = self.post_invoice(amounts=(1200.0,)).l10n_ru_kkm_receipt_ids
        self.assertEqual(receipt.state, "to_send", receipt.error_message)
        self.receipts[vendor] = receipt
        return receipt

    def _fresh_token(self):
        self.company.sudo().write(
            {
                "l10n_ru_kkm_atol_token": ATOL_TOKEN["token"],
                "l10n_ru_kkm_atol_token_expiry": datetime.now() + timedelta(hours=10),
            }
        )

    def _try(self, receipt, answer, call, state="to_send", vendor_uuid=False):
        """Serve ``answer`` to ``call``; check and roll back what it did."""
        self.answer = answer
        savepoint = self.env.cr.savepoint()
        try:
            receipt.sudo().write({"state": state, "vendor_uuid": vendor_uuid})
            call()  # no exception may escape
            self.env.flush_all()  # everything written can be stored
            receipt.invalidate_recordset()
            self.assertIn(receipt.state, LEGAL_STATES)
            if receipt.state == "done":
                self.assertGreater(receipt.fiscal_document_number, 0, answer)
                self.assertTrue(receipt.fiscal_document_attribute, answer)
            if receipt.state == "sent":
                self.assertTrue(receipt.vendor_uuid, answer)
            if receipt.state == "error":
                self.assertTrue(receipt.error_message, answer)
            if receipt.state in ("to_send", "unknown") and not receipt.needs_decision:
                self.assertTrue(
                    receipt.next_attempt_at or receipt.error_message or state != "to_send", answer
                )
            attempts = receipt.attempt_ids.filtered(lambda a: a.action in ("register", "report"))
            self.assertTrue(attempts, "the exchange is logged")
        finally:
            savepoint.close(rollback=True)
            self.env.invalidate_all(flush=False)

    def _registration(self, vendor, data, bases):
        receipt = self._receipt(vendor)
        if vendor != "checkonline":
            self._fresh_token()
        answer = data.draw(answers(*bases))
        self._try(receipt, answer, receipt._l10n_ru_kkm_send)

    def _status(self, vendor, data):
        receipt = self._receipt(vendor)
        self._fresh_token()
        answer = data.draw(answers(ATOL_DONE, ATOL_WAIT, ATOL_FAIL))
        self._try(receipt, answer, receipt._l10n_ru_kkm_fetch_report, state="sent", vendor_uuid="uuid-x")

    @EXAMPLES
    @given(st.data())
    def test_atol_v4_registration_answers(self, data):
        self._registration("atol_v4", data, (ATOL_ACCEPTED, ATOL_EXISTS, ATOL_WAIT))

    @EXAMPLES
    @given(st.data())
    def test_atol_v5_registration_answers(self, data):
        self._registration("atol_v5", data, (ATOL_ACCEPTED, ATOL_EXISTS, ATOL_WAIT))

    @EXAMPLES
    @given(st.data())
    def test_atol_v4_status_answers(self, data):
        self._status("atol_v4", data)

    @EXAMPLES
    @given(st.data())
    def test_atol_v5_status_answers(self, data):
        self._status("atol_v5", data)

    @EXAMPLES
    @given(st.data())
    def test_atol_token_answers(self, data):
        receipt = self._receipt("atol_v4")
        self.company.sudo().write({"l10n_ru_kkm_atol_token": False, "l10n_ru_kkm_atol_token_expiry": False})
        self.token_answer = data.draw(answers(ATOL_TOKEN))
        self._try(receipt, (200, json.dumps(ATOL_ACCEPTED).encode()), receipt._l10n_ru_kkm_send)

    @EXAMPLES
    @given(st.data())
    def test_checkonline_registration_answers(self, data):
        self._registration("checkonline", data, (CHECKONLINE_DONE, CHECKONLINE_DEVICE_ERROR, CHECKONLINE_FCE))

    @EXAMPLES
    @given(st.data())
    def test_connection_check_answers(self, data):
        vendor = data.draw(st.sampled_from(["atol_v4", "checkonline"]))
        self._receipt(vendor)
        answer = data.draw(answers(ATOL_TOKEN, CHECKONLINE_DONE, CHECKONLINE_FCE))
        self.answer = self.token_answer = answer
        kind, message = self.company._l10n_ru_kkm_check_connection()
        self.assertIn(kind, ("success", "warning", "danger"))
        self.assertIsInstance(message, str)
