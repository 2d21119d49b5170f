from odoo.exceptions import UserError
from odoo.tests import tagged

from odoo.addons.queue_job.tests.common import trap_jobs

from ..sandbox.server import Sandbox
from .common import KkmTestCommon

ACCOUNTS = {
    "atol_v4": ("v4-online-atol-ru", "iGFFuihss", "v4-online-atol-ru_4179"),
    "atol_v5": ("v5-online-atol-ru", "zUr0OxfI", "v5-online-atol-ru_5179"),
}


@tagged("post_install", "-at_install")
class TestCorrection(KkmTestCommon):
    """Correction receipts from the wizard, registered by the sandbox (v4 and v5 rules)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.sandbox = Sandbox(seed=5, done_delay=0, quiet=True).start()
        cls.addClassCleanup(cls.sandbox.stop)
        cls.company.write(
            {"l10n_ru_kkm_service_url": f"{cls.sandbox.url}/possystem", "l10n_ru_kkm_async": True}
        )

    def setUp(self):
        super().setUp()
        self.sandbox.reset()
        self.trap = self.enterContext(trap_jobs())

    def _use(self, vendor):
        login, password, group = ACCOUNTS[vendor]
        self.company.write(
            {
                "l10n_ru_kkm_vendor": vendor,
                "l10n_ru_kkm_atol_login": login,
                "l10n_ru_kkm_atol_password": password,
                "l10n_ru_kkm_atol_group_code": group,
                "l10n_ru_kkm_atol_token": False,
            }
        )

    def _correct(self, move, **values):
        wizard = (
            self.env["l10n_ru_kkm.correction.wizard"]
            .with_context(active_model="account.move", active_id=move.id)
            .create(values)
        )
        action = wizard.action_register()
        receipt = self.env["l10n_ru_kkm.receipt"].browse(action["res_id"])
        self.trap.perform_enqueued_jobs()
        receipt._l10n_ru_kkm_fetch_report()
        return receipt

    def _unfiscalized_invoice(self, move_type="out_invoice"):
        self.company.l10n_ru_kkm_enabled = False
        move = self.post_invoice(amounts=(1200.0,), move_type=move_type)
        self.company.l10n_ru_kkm_enabled = True
        return move

    def test_v4_sale_correction_with_vat_totals(self):
        self._use("atol_v4")
        receipt = self._correct(self._unfiscalized_invoice(), base_number="АКТ-7")
        self.assertEqual(receipt.state, "done", receipt.error_message)
        correction = receipt.request_payload["correction"]
        self.assertEqual(
            correction["correction_info"], {"type": "self", "base_date": "01.01.2019", "base_number": "АКТ-7"}
        )
        self.assertEqual(correction["vats"], [{"type": "vat20", "sum": 200.0}])
        self.assertEqual(correction["payments"], [{"type": 1, "sum": 1200.0}])
        self.assertNotIn("items", correction)
        self.assertEqual([d["operation"] for d in self.sandbox.ledger()["documents"]], ["sell_correction"])

    def test_v5_sale_correction_on_own_initiative(self):
        self._use("atol_v5")
        receipt = self._correct(self._unfiscalized_invoice())
        self.assertEqual(receipt.state, "done", receipt.error_message)
        correction = receipt.request_payload["correction"]
        self.assertEqual(correction["correction_info"], {"type": "self", "base_date": "01.01.2019"})
        self.assertEqual(correction["total"], 1200.0)
        self.assertEqual(correction["items"][0]["vat"], {"type": "vat20", "sum": 200.0})

    def test_v5_refund_correction_by_order_of_the_tax_office(self):
        self._use("atol_v5")
        refund = self._unfiscalized_invoice(move_type="out_refund")
        receipt = self._correct(refund, correction_type="instruction", base_number="ИФНС-15/2026")
        self.assertEqual(receipt.operation, "sell_refund_correction")
        self.assertEqual(receipt.state, "done", receipt.error_message)
        self.assertEqual(
            receipt.request_payload["correction"]["correction_info"]["base_number"], "ИФНС-15/2026"
        )

    def test_what_the_protocol_does_not_allow_is_refused_clearly(self):
        self._use("atol_v4")
        refund = self._unfiscalized_invoice(move_type="out_refund")
        with self.assertRaisesRegex(UserError, "FFD 1.2 only"):
            self._correct(refund, base_number="1")
        move = self._unfiscalized_invoice()
        with self.assertRaisesRegex(UserError, "number of the document"):
            self._correct(move)
        self._use("atol_v5")
        with self.assertRaisesRegex(UserError, "number of the document"):
            self._correct(move, correction_type="instruction")
        self.assertFalse(self.sandbox.ledger()["documents"])
