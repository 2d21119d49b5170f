import requests
import responses

from odoo.exceptions import ValidationError
from odoo.tests import tagged

from .common import ATOL_URL, KkmTestCommon


@tagged("post_install", "-at_install")
class TestSettings(KkmTestCommon):
    def _check(self):
        settings = self.env["res.config.settings"].sudo().create({})
        return settings.action_l10n_ru_kkm_check_connection()["params"]

    def _token_answer(self, version, status=200, **body):
        self.mock.add(responses.POST, f"{ATOL_URL}/{version}/getToken", status=status, json=body)

    def test_check_connection_success(self):
        self._token_answer("v4", error=None, token="t")
        params = self._check()
        self.assertEqual(params["type"], "success")
        self.assertIn("ATOL Online v4", params["message"])
        self.assertFalse(
            self.company.sudo().l10n_ru_kkm_atol_token, "a check does not replace the working token"
        )

    def test_check_connection_tells_which_protocol_version_the_group_uses(self):
        self._token_answer(
            "v4", status=401, error={"code": 21, "text": "Код группы не поддерживает данную версию протокола"}
        )
        self._token_answer("v5", error=None, token="t5")
        params = self._check()
        self.assertEqual(params["type"], "warning")
        self.assertIn("ATOL Online v5 (FFD 1.2)", params["message"])

    def test_check_connection_reports_the_vendors_refusal(self):
        self._token_answer("v4", status=401, error={"code": 12, "text": "Неверный логин или пароль"})
        params = self._check()
        self.assertEqual(params["type"], "danger")
        self.assertIn("Неверный логин или пароль", params["message"])
        self.assertIn("12", params["message"])

    def test_check_connection_reports_an_unreachable_service(self):
        self.mock.add(
            responses.POST,
            f"{ATOL_URL}/v4/getToken",
            body=requests.exceptions.ConnectionError("[Errno 111] Connection refused"),
        )
        params = self._check()
        self.assertEqual(params["type"], "danger")
        self.assertIn("could not be reached", params["message"])

    def test_retry_settings_are_validated(self):
        for value in ("1,x", "0,5", ""):
            with self.subTest(value=value), self.assertRaises(ValidationError), self.cr.savepoint():
                self.company.l10n_ru_kkm_retry_intervals = value
                self.company.flush_recordset()
        self.company.l10n_ru_kkm_retry_intervals = " 2, 10 ,30"
        self.assertEqual(self.company._l10n_ru_kkm_retry_minutes(), [2, 10, 30])
