from psycopg2 import IntegrityError

from odoo.exceptions import UserError
from odoo.tests import tagged
from odoo.tools import mute_logger

from ..models.l10n_ru_kkm_receipt.receipt import STATES, TRANSITIONS
from .common import KkmTestCommon

LEGAL = sorted((old, new) for old, targets in TRANSITIONS.items() for new in targets)
# The diagram of docs/architecture.rst ("The receipt's life") and of the comment above STATES, written out by hand: the table
# must say exactly this (a transition added or lost in the code fails here).
DOCUMENTED = {
    ("to_send", "sent"),  # accepted (ATOL)
    ("to_send", "done"),  # fiscal data returned (Checkonline)
    ("to_send", "to_send"),  # transient failure, retried with the same id
    ("to_send", "unknown"),  # no answer after the request left
    ("to_send", "error"),  # permanent failure
    ("to_send", "cancelled"),  # invoice reset, the request certainly never reached the service
    ("unknown", "sent"),  # the service says it holds it
    ("unknown", "done"),
    ("unknown", "to_send"),  # the service confirms it never got it; or sent under a new id
    ("unknown", "unknown"),  # still no answer
    ("unknown", "error"),  # the service holds a failed document
    ("sent", "done"),
    ("sent", "error"),  # report: fail
    ("sent", "unknown"),  # report: not the document that was sent
    ("error", "to_send"),  # resend
    ("error", "cancelled"),  # invoice reset: the service registered nothing
}
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

    def test_the_table_is_the_documented_diagram(self):
        self.assertEqual(set(LEGAL), DOCUMENTED)
        self.assertEqual({state for state, _label in STATES}, set(TRANSITIONS))
        self.assertFalse(TRANSITIONS["done"] | TRANSITIONS["cancelled"], "final states")

    def test_every_legal_transition(self):
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
