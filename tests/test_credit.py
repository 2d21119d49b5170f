from odoo.tests import tagged

from odoo.addons.queue_job.tests.common import trap_jobs

from .common import KkmTestCommon


@tagged("post_install", "-at_install")
class TestCreditSales(KkmTestCommon):
    """Unpaid invoices handed over on credit, then their payment (ATOL protocol v4, 9.6)."""

    def setUp(self):
        super().setUp()
        self.company.l10n_ru_kkm_credit = True
        self.atol.token_ok()

    def _pay(self, move):
        self.env["account.payment.register"].with_context(
            active_model="account.move", active_ids=move.ids
        ).create({})._create_payments()
        self.assertIn(move.payment_state, ("paid", "in_payment"))

    def _register(self, receipt, uuid):
        self.atol.register_ok(uuid=uuid)
        self.atol.report_done(uuid=uuid)
        receipt._l10n_ru_kkm_send()
        receipt._l10n_ru_kkm_fetch_report()
        self.assertEqual(receipt.state, "done")

    def _stage(self, move, stage):
        return move.l10n_ru_kkm_receipt_ids.filtered(lambda r: r.payment_stage == stage)

    def test_an_unpaid_invoice_is_handed_over_on_credit(self):
        move = self.post_invoice(amounts=(1000.0, 200.0))
        receipt = move.l10n_ru_kkm_receipt_ids
        self.assertEqual((receipt.operation, receipt.payment_stage), ("sell", "credit"))
        self.assertIn("(transfer on credit)", receipt.name)
        body = receipt.request_payload["receipt"]
        self.assertEqual({item["payment_method"] for item in body["items"]}, {"credit"})
        self.assertEqual(body["payments"], [{"type": 3, "sum": 1200.0}])
        self.assertEqual(body["total"], 1200.0)

    def test_the_payment_is_registered_once_the_credit_receipt_is_done(self):
        move = self.post_invoice(amounts=(1000.0, 200.0))
        credit = move.l10n_ru_kkm_receipt_ids
        with trap_jobs() as trap:
            self._pay(move)
            self.assertFalse(self._stage(move, "credit_payment"), "no payment before the transfer")
            self._register(credit, "uuid-credit")
            payment = self._stage(move, "credit_payment")
            self.assertEqual(len(payment), 1)
            self.assertEqual(len(trap.enqueued_jobs), 1, "the payment receipt is queued")
        body = payment.request_payload["receipt"]
        self.assertEqual(
            [(item["name"], item["quantity"], item["sum"]) for item in body["items"]],
            [
                ("Payment of credit for test line", 1.0, 1000.0),
                ("Payment of credit for test line", 1.0, 200.0),
            ],
        )
        self.assertEqual({item["payment_method"] for item in body["items"]}, {"credit_payment"})
        self.assertEqual({item["payment_object"] for item in body["items"]}, {"payment"})
        self.assertEqual(
            [item["vat"] for item in body["items"]],
            [i["vat"] for i in credit.request_payload["receipt"]["items"]],
        )
        self.assertEqual(body["payments"], [{"type": 1, "sum": 1200.0}])
        # A second payment hook (in payment, then paid) creates nothing more.
        move._invoice_paid_hook()
        self.assertEqual(len(self._stage(move, "credit_payment")), 1)

    def test_a_payment_after_the_registration_is_registered_at_once(self):
        move = self.post_invoice(amounts=(500.0,))
        self._register(move.l10n_ru_kkm_receipt_ids, "uuid-credit")
        self._pay(move)
        payment = self._stage(move, "credit_payment")
        self._register(payment, "uuid-payment")
        self.assertEqual(move.l10n_ru_kkm_state, "done")

    def test_an_invoice_paid_before_its_confirmation_is_a_full_payment(self):
        self.company.l10n_ru_kkm_trigger = "paid"
        move = self.post_invoice(amounts=(500.0,))
        self._pay(move)
        receipt = move.l10n_ru_kkm_receipt_ids
        self.assertEqual(receipt.payment_stage, "full")
        self.assertEqual(receipt.request_payload["receipt"]["payments"], [{"type": 1, "sum": 500.0}])

    def test_a_credit_note_of_an_unpaid_credit_sale_returns_no_money(self):
        move = self.post_invoice(amounts=(500.0,))
        self._register(move.l10n_ru_kkm_receipt_ids, "uuid-credit")
        refund = move._reverse_moves()
        refund.action_post()
        receipt = refund.l10n_ru_kkm_receipt_ids
        self.assertEqual((receipt.operation, receipt.payment_stage), ("sell_refund", "credit"))
        self.assertEqual(receipt.request_payload["receipt"]["payments"], [{"type": 3, "sum": 500.0}])

    def test_checkonline_refuses_credit_with_a_clear_error(self):
        self.company.l10n_ru_kkm_vendor = "checkonline"
        receipt = self.post_invoice(amounts=(500.0,)).l10n_ru_kkm_receipt_ids
        self.assertEqual(receipt.state, "error")
        self.assertIn("Unpaid invoices on credit", receipt.error_message)
