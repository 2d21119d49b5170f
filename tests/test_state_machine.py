from psycopg2 import IntegrityError

from odoo.exceptions import UserError
from odoo.tests import tagged
from odoo.tools import mute_logger

from ..models.kkm_receipt import STATES, TRANSITIONS
from .common import KkmTestCommon

LEGAL = sorted((old, new) for old, targets in TRANSITIONS.items() for new in targets)
ILLEGAL = sorted(
    (old, new) for old, _label in STATES for new, _label2 in STATES if new not in TRANSITIONS[old]
)


@tagged("post_install", "-at_install")
class TestStateMachine(KkmTestCommon):
    def setUp(self):
        super().setUp()
        self.company.l10n_ru_kkm_enabled = False  # receipts are created by hand here
        self.move = self.post_invoice()

    def _receipt(self, state, operation="sell"):
        receipt = (
            self.env["l10n_ru_kkm.receipt"]
            .sudo()
            .create(
                {
                    "company_id": self.company.id,
                    "move_id": self.move.id,
                    "operation": operation,
                    "vendor": "atol_v4",
                    "external_id": self.env["l10n_ru_kkm.receipt"]._new_external_id(),
                }
            )
        )
        receipt.state = state  # direct write: test set-up only
        return receipt

    def test_every_legal_transition(self):
        self.assertEqual(len(LEGAL), 13)
        for old, new in LEGAL:
            with self.subTest(old=old, new=new):
                receipt = self._receipt(old)
                receipt._l10n_ru_kkm_set_state(new)
                self.assertEqual(receipt.state, new)
                receipt.unlink()

    def test_illegal_transitions_are_refused(self):
        self.assertIn(("done", "to_send"), ILLEGAL)
        self.assertIn(("sent", "to_send"), ILLEGAL)
        for old, new in ILLEGAL:
            with self.subTest(old=old, new=new):
                receipt = self._receipt(old)
                with self.assertRaises(UserError):
                    receipt._l10n_ru_kkm_set_state(new)
                self.assertEqual(receipt.state, old)
                receipt.unlink()

    def test_external_id_is_unique_per_company_and_vendor(self):
        first = self._receipt("done")
        with mute_logger("odoo.sql_db"), self.assertRaises(IntegrityError), self.cr.savepoint():
            self.env["l10n_ru_kkm.receipt"].sudo().create(
                {
                    "company_id": self.company.id,
                    "move_id": self.move.id,
                    "operation": "sell_refund",
                    "vendor": "atol_v4",
                    "external_id": first.external_id,
                }
            )

    def test_one_open_receipt_per_invoice_and_operation(self):
        first = self._receipt("error")
        with mute_logger("odoo.sql_db"), self.assertRaises(IntegrityError), self.cr.savepoint():
            self._receipt("to_send")
        # A finished receipt does not block a new one (e.g. a later resell).
        first.state = "done"
        first.flush_recordset()
        self.assertEqual(self._receipt("to_send").state, "to_send")
