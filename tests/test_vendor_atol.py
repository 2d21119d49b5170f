"""The ATOL client alone: no Odoo, HTTP faked at the transport boundary."""

import json
from datetime import datetime
from decimal import Decimal

import requests
import responses

from ..vendors import outcome as oc
from ..vendors import receipt as rd
from ..vendors.atol import AtolConfig, AtolV4Client, AtolV5Client
from ..vendors.errors import TransientError
from .common import KkmCase

ROOT = "https://atol.test/possystem"
CONFIG = AtolConfig(login="login", password="pass", group_code="grp", base_url=ROOT)


def sample_receipt():
    return rd.Receipt(
        operation=rd.SELL,
        external_id="ext-1",
        timestamp=datetime(2026, 11, 28, 9, 5, 7),
        company=rd.Company(inn="5544332219", sno="osn", payment_address="https://shop.ru", email="s@shop.ru"),
        client=rd.Client(email="buyer@example.ru"),
        items=(
            rd.Item(
                name="Чайник",
                price=Decimal("1220.00"),
                quantity=Decimal("1"),
                sum=Decimal("1220.00"),
                vat="vat22",
                payment_object="commodity",
                measurement_unit="шт",
            ),
        ),
        payments=(rd.Payment(rd.PAYMENT_ELECTRONIC, Decimal("1220.00")),),
        total=Decimal("1220.00"),
    )


class TestAtolPayload(KkmCase):
    def test_v4_payload(self):
        payload = AtolV4Client(CONFIG).build_payload(sample_receipt())
        self.assertEqual(payload["timestamp"], "28.11.2026 09:05:07")
        self.assertEqual(payload["external_id"], "ext-1")
        self.assertNotIn("service", payload)
        item = payload["receipt"]["items"][0]
        self.assertEqual(
            item,
            {
                "name": "Чайник",
                "price": 1220.0,
                "quantity": 1.0,
                "sum": 1220.0,
                "payment_method": "full_payment",
                "payment_object": "commodity",
                "vat": {"type": "vat22", "sum": 220.0},
                "measurement_unit": "шт",
            },
        )
        self.assertEqual(payload["receipt"]["total"], 1220.0)

    def test_v5_payload_uses_integer_codes_and_no_free_text_unit(self):
        item = AtolV5Client(CONFIG).build_payload(sample_receipt())["receipt"]["items"][0]
        self.assertEqual(item["payment_object"], 1)
        self.assertEqual(item["measure"], 0)
        self.assertNotIn("measurement_unit", item)


class TestAtolExchanges(KkmCase):
    def setUp(self):
        super().setUp()
        self.mock = responses.RequestsMock(assert_all_requests_are_fired=False)
        self.mock.start()
        self.addCleanup(self.mock.stop)
        self.exchanges = []
        self.client = AtolV4Client(CONFIG, on_exchange=self.exchanges.append)
        self.payload = self.client.build_payload(sample_receipt())

    def _token(self, token="t1"):
        self.mock.add(responses.POST, f"{ROOT}/v4/getToken", json={"error": None, "token": token})

    def test_token_is_fetched_once_for_several_calls(self):
        self._token()
        self.mock.add(
            responses.POST, f"{ROOT}/v4/grp/sell", json={"uuid": "u1", "status": "wait", "error": None}
        )
        self.mock.add(
            responses.POST, f"{ROOT}/v4/grp/sell", json={"uuid": "u2", "status": "wait", "error": None}
        )
        self.assertEqual(self.client.register("sell", self.payload).vendor_id, "u1")
        self.assertEqual(self.client.register("sell", self.payload).vendor_id, "u2")
        self.assertEqual([e.action for e in self.exchanges], ["token", "register", "register"])
        self.assertEqual(self.exchanges[0].request["pass"], "***")

    def test_connection_refused_is_transient_and_certain(self):
        self._token()
        self.mock.add(
            responses.POST,
            f"{ROOT}/v4/grp/sell",
            body=requests.exceptions.ConnectionError("[Errno 111] Connection refused"),
        )
        with self.assertRaises(TransientError) as caught:
            self.client.register("sell", self.payload)
        self.assertFalse(caught.exception.uncertain)

    def test_unreadable_answer_to_a_registration_is_uncertain(self):
        self._token()
        self.mock.add(responses.POST, f"{ROOT}/v4/grp/sell", body="<html>Bad gateway</html>", status=200)
        with self.assertRaises(TransientError) as caught:
            self.client.register("sell", self.payload)
        self.assertTrue(caught.exception.uncertain)

    def test_a_service_error_on_a_report_is_not_a_failed_document(self):
        self._token()
        body = {"error": {"code": 30, "text": "Не найден документ", "type": "system"}, "status": "fail"}
        self.mock.add(responses.GET, f"{ROOT}/v4/grp/report/u-other", json=body, status=400)
        with self.assertRaises(TransientError):
            self.client.report("u-other")
        driver = {"error": {"code": 16, "text": "Неверная цена", "type": "driver"}, "status": "fail"}
        self.mock.add(responses.GET, f"{ROOT}/v4/grp/report/u-failed", json=driver)
        outcome = self.client.report("u-failed")
        self.assertEqual(
            (outcome.status, outcome.kind, outcome.new_id_needed), (oc.FAILED, oc.KIND_DEVICE, True)
        )

    def test_a_dropped_token_request_is_not_uncertain(self):
        self.mock.add(
            responses.POST,
            f"{ROOT}/v4/getToken",
            body=requests.exceptions.ConnectionError("Connection aborted: RemoteDisconnected"),
        )
        with self.assertRaises(TransientError) as caught:
            self.client.register("sell", self.payload)
        self.assertFalse(caught.exception.uncertain, "nothing can have been registered")

    def test_report_not_ready_is_wait(self):
        self._token()
        body = {
            "error": {"code": 34, "text": "Состояние чека не найдено", "type": "system"},
            "status": "wait",
        }
        self.mock.add(responses.GET, f"{ROOT}/v4/grp/report/u1", json=body)
        self.assertEqual(self.client.report("u1").status, oc.WAIT)

    def test_group_on_the_other_protocol_version_is_a_settings_error(self):
        body = {
            "error": {
                "code": 21,
                "text": "Код группы не поддерживает данную версию протокола",
                "type": "system",
            }
        }
        self.mock.add(responses.POST, f"{ROOT}/v5/getToken", json=body, status=401)
        result = AtolV5Client(CONFIG).check_connection()
        self.assertEqual((result.status, result.kind, result.error_code), (oc.FAILED, oc.KIND_CONFIG, "21"))

    def test_second_expired_token_is_not_renewed_forever(self):
        self._token("t1")
        self._token("t2")
        expired = {"error": {"code": 11, "text": "Срок действия токена истек", "type": "system"}}
        self.mock.add(responses.POST, f"{ROOT}/v4/grp/sell", json=expired, status=401)
        self.mock.add(responses.POST, f"{ROOT}/v4/grp/sell", json=expired, status=401)
        with self.assertRaises(TransientError):
            self.client.register("sell", self.payload)
        registrations = [c for c in self.mock.calls if c.request.url.endswith("/sell")]
        self.assertEqual(len(registrations), 2)
        self.assertEqual(json.loads(registrations[0].request.body), json.loads(registrations[1].request.body))
