from odoo.exceptions import UserError
from odoo.tests import tagged

from odoo.addons.queue_job.tests.common import trap_jobs

from ..sandbox.server import Sandbox
from .common import KkmTestCommon


@tagged("post_install", "-at_install")
class TestResell(KkmTestCommon):
    """Re-issue a registered sale, and resend failed receipts, against the sandbox."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.sandbox = Sandbox(seed=11, done_delay=0, quiet=True).start()
        cls.addClassCleanup(cls.sandbox.stop)
        cls.company.write(
            {
                "l10n_ru_kkm_service_url": f"{cls.sandbox.url}/possystem",
                "l10n_ru_kkm_atol_login": "v4-online-atol-ru",
                "l10n_ru_kkm_atol_password": "iGFFuihss",
                "l10n_ru_kkm_atol_group_code": "v4-online-atol-ru_4179",
                "l10n_ru_kkm_inn": "5544332219",
                "l10n_ru_kkm_async": True,
            }
        )

    def setUp(self):
        super().setUp()
        self.sandbox.reset()
        self.trap = self.enterContext(trap_jobs())

    def _run_until_settled(self):
        for _ in range(5):
            self.trap.perform_enqueued_jobs()
            self.env["l10n_ru_kkm.receipt"].search(
                [("state", "in", ("sent", "unknown"))]
            )._l10n_ru_kkm_fetch_report()
            if not self.trap.enqueued_jobs:
                return

    def _registered_sale(self):
        move = self.post_invoice(amounts=(1200.0,))
        self._run_until_settled()
        sale = move.l10n_ru_kkm_receipt_ids
        self.assertEqual(sale.state, "done", sale.error_message)
        return move, sale

    def _resell(self, move):
        wizard = (
            self.env["l10n_ru_kkm.receipt.resell.wizard"]
            .with_context(active_model="account.move", active_ids=move.ids)
            .create({})
        )
        wizard.action_resell()
        return wizard.receipt_ids

    def test_resell_refunds_then_sells_the_invoice_as_it_is_now(self):
        move, sale = self._registered_sale()
        self.partner_a.email = "new-address@example.ru"
        self._resell(move)
        refund = sale.refund_receipt_ids
        self.assertEqual(refund.operation, "sell_refund")
        self.assertEqual(refund.request_payload["receipt"]["items"], sale.request_payload["receipt"]["items"])
        self.assertEqual(
            refund.request_payload["receipt"]["additional_check_props"], sale.fiscal_document_attribute
        )
        self.assertFalse(refund.resell_receipt_id, "the new sale waits for the refund")
        self._run_until_settled()
        self.assertEqual(refund.state, "done")
        new_sale = refund.resell_receipt_id
        self.assertEqual((new_sale.operation, new_sale.state), ("sell", "done"))
        self.assertEqual(new_sale.request_payload["receipt"]["client"], {"email": "new-address@example.ru"})
        operations = [d["operation"] for d in self.sandbox.ledger()["documents"]]
        self.assertEqual(operations, ["sell", "sell_refund", "sell"])
        self.assertEqual(self.sandbox.ledger()["duplicates_by_id"]["count"], 0)

    def test_a_failed_refund_is_resumed_by_resending_it(self):
        move, sale = self._registered_sale()
        self.sandbox.set_faults({"fiscal_fail": {"next": 1, "code": 104, "targets": ["register"]}})
        self._resell(move)
        self._run_until_settled()
        refund = sale.refund_receipt_ids
        self.assertEqual(refund.state, "error")
        self.assertFalse(refund.resell_receipt_id)
        self.assertTrue(refund.external_id_spent)
        wizard = (
            self.env["l10n_ru_kkm.receipt.resend.wizard"]
            .with_context(active_model="l10n_ru_kkm.receipt", active_ids=(refund | sale).ids)
            .create({})
        )
        self.assertEqual(wizard.resendable_ids, refund)
        self.assertEqual(wizard.refused_ids, sale)
        self.partner_a.email = "changed-meanwhile@example.ru"
        wizard.action_resend()
        self.assertEqual(refund.request_payload["receipt"]["items"], sale.request_payload["receipt"]["items"])
        self.assertEqual(
            refund.request_payload["receipt"]["client"], sale.request_payload["receipt"]["client"]
        )
        self._run_until_settled()
        self.assertEqual(refund.state, "done")
        self.assertEqual(refund.resell_receipt_id.state, "done")

    def test_a_second_resell_of_the_same_invoice(self):
        move, sale = self._registered_sale()
        self._resell(move)
        self._run_until_settled()
        second_sale = sale.refund_receipt_ids.resell_receipt_id
        self.assertEqual(second_sale.state, "done")
        resold = self._resell(move)
        self.assertEqual(resold, second_sale, "the current sale is re-issued, not the refunded one")
        self._run_until_settled()
        third_sale = second_sale.refund_receipt_ids.resell_receipt_id
        self.assertEqual(third_sale.state, "done")
        self.assertEqual(self.sandbox.ledger()["count"], 5)

    def test_only_registered_sales_can_be_resold_once_at_a_time(self):
        move, sale = self._registered_sale()
        self._resell(move)
        with self.assertRaises(UserError):
            sale._l10n_ru_kkm_resell()
        with self.assertRaises(UserError):
            sale.refund_receipt_ids._l10n_ru_kkm_resell()
