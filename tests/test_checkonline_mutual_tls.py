"""The Checkonline client against the project's sandbox over HTTPS with a client certificate
made at test time: the exchanges that matter for exactly-once (cache, lost answers, timeouts,
FCE errors, mutual TLS)."""

import socket
import ssl
import tempfile
import threading
import time

import requests
from urllib3.util.ssl_ import create_urllib3_context

from ..sandbox.server import Sandbox
from ..vendors import outcome as oc
from ..vendors import receipt as rd
from ..vendors.checkonline import (
    OFD_URL_TEMPLATES,
    CheckonlineCertificateError,
    CheckonlineClient,
    CheckonlineConfig,
)
from ..vendors.errors import TransientError
from .checkonline_common import (
    make_item,
    make_receipt,
)
from .common import KkmCase
from .pki import Pki


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


class TestCheckonlineSandbox(KkmCase):
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
