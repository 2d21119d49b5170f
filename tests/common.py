"""Shared set-up: a Russian company configured for ATOL Online, ATOL faked at the HTTP boundary."""

import base64
import json
import re
import tempfile
from datetime import timedelta
from unittest.mock import patch

import responses

from odoo import Command
from odoo.tests import BaseCase, new_test_user, tagged
from odoo.tests.common import _super_send

from odoo.addons.account.tests.common import AccountTestInvoicingCommon

from ..models.l10n_ru_kkm_receipt import polling
from .pki import Pki

ATOL_URL = "https://atol.test/possystem"
GROUP = "test-group_1"

DONE_PAYLOAD = {
    "total": 1200.0,
    "fns_site": "www.nalog.gov.ru",
    "fn_number": "9999078900004792",
    "shift_number": 23,
    "receipt_datetime": "28.11.2026 12:00:00",
    "fiscal_receipt_number": 6,
    "fiscal_document_number": 133,
    "ecr_registration_number": "0000111118041361",
    "fiscal_document_attribute": 3449555941,
    "ofd_inn": "7709364346",
    "ofd_receipt_url": "https://consumer.1-ofd-test.ru/v1?fn=9999078900004792&fp=3449555941&i=133",
}


class FakeAtol:
    """A programmable ATOL Online v4/v5 at the transport boundary (``responses``)."""

    def __init__(self, mock, version="v4"):
        self.mock = mock
        self.root = f"{ATOL_URL}/{version}"
        self.registered = []
        self.by_uuid = {}  # the first request registered under each uuid
        self.tokens_issued = 0

    def token_ok(self, token="token-1"):
        def answer(request):
            self.tokens_issued += 1
            return 200, {}, json.dumps({"error": None, "token": token, "timestamp": "28.11.2026 12:00:00"})

        self.mock.add_callback(responses.POST, f"{self.root}/getToken", callback=answer)

    def register_ok(self, uuid="uuid-1", operation="sell"):
        def answer(request):
            body = json.loads(request.body)
            self.registered.append(body)
            self.by_uuid.setdefault(uuid, body)
            return 200, {}, json.dumps({"uuid": uuid, "status": "wait", "error": None, "timestamp": "x"})

        self.mock.add_callback(responses.POST, f"{self.root}/{GROUP}/{operation}", callback=answer)

    def register_error(self, code, text, http_status=400, operation="sell", uuid=None):
        body = {
            "error": {"error_id": "e-1", "code": code, "text": text, "type": "system"},
            "status": "fail",
            "timestamp": "28.11.2026 12:00:00",
        }
        if uuid:
            body.update(uuid=uuid, status="wait")
        self.mock.add(responses.POST, f"{self.root}/{GROUP}/{operation}", json=body, status=http_status)

    def report_done(self, uuid="uuid-1", payload=None):
        """A done document; without ``payload``, the fiscal data of the request registered under
        ``uuid`` (its total and external id), as the real service reports it."""

        def answer(request):
            body = {
                "uuid": uuid,
                "error": None,
                "status": "done",
                "payload": payload or DONE_PAYLOAD,
                "timestamp": "28.11.2026 12:00:01",
                "group_code": GROUP,
            }
            registered = self.by_uuid.get(uuid)
            if registered and not payload:
                document = registered.get("receipt") or registered.get("correction") or {}
                total = document.get("total", sum(p["sum"] for p in document.get("payments", ())))
                body["payload"] = dict(DONE_PAYLOAD, total=total)
                body["external_id"] = registered["external_id"]
            return 200, {}, json.dumps(body)

        self.mock.add_callback(responses.GET, f"{self.root}/{GROUP}/report/{uuid}", callback=answer)

    def report_fail(self, uuid="uuid-1", code=16, text="Неверная цена (сумма)"):
        body = {
            "uuid": uuid,
            "error": {"error_id": "e-2", "code": code, "text": text, "type": "driver"},
            "status": "fail",
            "payload": None,
            "timestamp": "28.11.2026 12:00:01",
        }
        self.mock.add(responses.GET, f"{self.root}/{GROUP}/report/{uuid}", json=body)

    def calls_to(self, pattern):
        return [call for call in self.mock.calls if re.search(pattern, call.request.url)]


def create_checkonline_certificate(env, company, cert_path, key_path):
    """A Checkonline client certificate and its key, kept in Odoo's certificate module."""
    with open(key_path, "rb") as key_file, open(cert_path, "rb") as cert_file:
        key = (
            env["certificate.key"]
            .sudo()
            .create(
                {
                    "name": "Checkonline key",
                    "content": base64.b64encode(key_file.read()),
                    "company_id": company.id,
                }
            )
        )
        return (
            env["certificate.certificate"]
            .sudo()
            .create(
                {
                    "name": "Checkonline",
                    "content": base64.b64encode(cert_file.read()),
                    "private_key_id": key.id,
                    "scope": "l10n_ru_kkm",
                    "company_id": company.id,
                }
            )
        )


def make_checkonline_certificate(test_class, company):
    """A fresh client certificate of the project's test PKI, for ``company``, kept in Odoo's
    certificate module; its files are removed with the class."""

    folder = tempfile.TemporaryDirectory()
    test_class.addClassCleanup(folder.cleanup)
    return create_checkonline_certificate(test_class.env, company, *Pki(folder.name).client)


def results_due_at_once(test_class):
    """A registered document's result is due at once, and again at once, and asked without
    the service's pace, in tests: the timing and the pace themselves are tested where they are
    patched back (tests/test_pipeline.py, tests/test_concurrency.py)."""
    for name in ("FIRST_POLL_AFTER", "CALLBACK_GRACE", "POLL_AGAIN_AFTER"):
        test_class.startClassPatcher(patch.object(polling, name, timedelta(0)))
    test_class.startClassPatcher(patch.object(polling, "WAIT_AHEAD", 0.0))
    test_class.startClassPatcher(patch.object(polling, "POLL_SPACING", 0.0))


@tagged("post_install", "-at_install")
class KkmCase(BaseCase):
    """A test without a database (vendors, sandbox, allocation, files), found by pytest-odoo and
    by Odoo's own runner alike. Requests reach the transport adapter, where ``responses`` fakes
    the vendors; loopback (the sandbox) is real."""

    @classmethod
    def _request_handler(cls, session, request, **kwargs):
        return _super_send(session, request, **kwargs)


class KkmTestCommon(AccountTestInvoicingCommon):
    @classmethod
    @AccountTestInvoicingCommon.setup_country("ru")
    def setUpClass(cls):
        super().setUpClass()
        results_due_at_once(cls)
        cls.company = cls.company_data["company"]
        cls.company.write(
            {
                "l10n_ru_kkm_enabled": True,
                "l10n_ru_kkm_vendor": "atol_v4",
                "l10n_ru_kkm_test_mode": True,
                "l10n_ru_kkm_service_url": ATOL_URL,
                "l10n_ru_kkm_atol_login": "login",
                "l10n_ru_kkm_atol_password": "secret-password",
                "l10n_ru_kkm_atol_group_code": GROUP,
                "l10n_ru_kkm_inn": "5544332219",
                "l10n_ru_kkm_payment_address": "https://shop.example.ru",
                "l10n_ru_kkm_email": "shop@example.ru",
                "l10n_ru_kkm_sno": "osn",
                "l10n_ru_kkm_callback": False,
            }
        )
        cls.vat20 = cls.env["account.tax"].create(
            {
                "name": "НДС 20% (incl.)",
                "amount": 20,
                "amount_type": "percent",
                "price_include_override": "tax_included",
                "type_tax_use": "sale",
                "company_id": cls.company.id,
                "l10n_ru_kkm_vat_code": "vat20",
            }
        )
        cls.partner_a.write({"email": "buyer@example.ru", "phone": False})

    @classmethod
    def _request_handler(cls, session, request, **kwargs):
        # Let requests reach the transport adapter, where `responses` fakes the vendor.
        return _super_send(session, request, **kwargs)

    def setUp(self):
        super().setUp()
        # Cursors the module opens (attempt log, token store, after-commit send) share the test's.
        if not type(self)._registry_patched:  # HttpCase already did it for the whole class
            self.registry_enter_test_mode()
        self.mock = responses.RequestsMock(assert_all_requests_are_fired=False)
        # Loopback stays real: this database's own HTTP server and the project's sandbox.
        self.mock.add_passthru(re.compile(r"https?://(127\.0\.0\.1|localhost)[:/]"))
        self.mock.start()
        self.addCleanup(self.mock.stop)
        self.addCleanup(self.mock.reset)
        self.atol = FakeAtol(self.mock)

    def company_user(self, login, groups="account.group_account_invoice"):
        """A user of the test company only, with ``groups`` (an accountant by default)."""
        return new_test_user(
            self.env,
            login=login,
            groups=f"base.group_user,{groups}",
            company_id=self.company.id,
            company_ids=[Command.set(self.company.ids)],
        )

    def register_done(self, receipt, uuid):
        """Register ``receipt`` with the fake ATOL and fetch its result: done."""
        self.atol.token_ok()
        self.atol.register_ok(uuid=uuid)
        self.atol.report_done(uuid=uuid)
        receipt._l10n_ru_kkm_send()
        receipt._l10n_ru_kkm_fetch_report()
        self.assertEqual(receipt.state, "done", receipt.error_message)
        return receipt

    def post_invoice(self, amounts=(1200.0,), move_type="out_invoice", partner=None, taxes=None):
        move = self.init_invoice(
            move_type,
            partner=partner or self.partner_a,
            amounts=list(amounts),
            taxes=taxes if taxes is not None else self.vat20,
        )
        move.action_post()
        return move
