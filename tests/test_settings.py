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

    def _sales_tax(self, name, amount, amount_type="percent", included=True, code=False):
        return self.env["account.tax"].create(
            {
                "name": name,
                "amount": amount,
                "amount_type": amount_type,
                "price_include_override": "tax_included" if included else "tax_excluded",
                "type_tax_use": "sale",
                "company_id": self.company.id,
                "l10n_ru_kkm_vat_code": code,
            }
        )

    def test_fiscal_vat_codes_are_proposed_from_rate_and_price_included_then_confirmed(self):
        proposals = {
            self._sales_tax("НДС 22%", 22): "vat22",
            self._sales_tax("НДС 10% сверху", 10, included=False): "vat10",
            self._sales_tax("НДС 0%", 0): "vat0",
            self._sales_tax("Без НДС", 0): "none",
            self._sales_tax("НДС 22/122", 18.03, amount_type="division"): "vat122",
            self._sales_tax("НДС 20/120 в цене", 16.67): "vat120",
            self._sales_tax("Непонятный 16.67% сверху", 16.67, included=False): False,
            self._sales_tax("Налог 15%", 15): False,
        }
        for tax, code in proposals.items():
            self.assertEqual(tax._l10n_ru_kkm_proposed_vat_code(), code, tax.name)

        settings = self.env["res.config.settings"].create({})
        action = settings.action_l10n_ru_kkm_set_vat_codes()
        wizard = self.env[action["res_model"]].browse(action["res_id"])
        lines = {line.tax_id: line for line in wizard.line_ids}
        self.assertIn(self.vat20, lines, "every sales tax of the company is listed")
        self.assertFalse(wizard.line_ids.tax_id.filtered(lambda t: t.type_tax_use != "sale"))
        self.assertEqual(lines[self.vat20].vat_code, "vat20")
        for tax, code in proposals.items():
            self.assertEqual(lines[tax].vat_code, code, tax.name)
            self.assertFalse(tax.l10n_ru_kkm_vat_code, "nothing is written before the accountant confirms")
        # The accountant corrects one proposal, then confirms.
        lines[self.env["account.tax"].search([("name", "=", "Налог 15%")])].vat_code = "none"
        wizard.action_apply()
        self.assertEqual({tax.name: tax.l10n_ru_kkm_vat_code for tax in proposals}["НДС 22%"], "vat22")
        self.assertEqual(
            self.env["account.tax"].search([("name", "=", "Налог 15%")]).l10n_ru_kkm_vat_code, "none"
        )
        self.assertFalse(
            self.env["account.tax"].search([("name", "=", "Непонятный 16.67% сверху")]).l10n_ru_kkm_vat_code
        )
