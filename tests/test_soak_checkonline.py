"""Soak with the company on Checkonline: hundreds of invoices sent in the background while the
sandbox's Complex endpoint misbehaves; every invoice must end with exactly one document."""

import tempfile
from collections import Counter

from odoo.tests import tagged

from .common import create_checkonline_certificate
from .pki import Pki
from .sandbox_common import PENDING_STATES, KkmSandboxCommon

INVOICES = 300
FAULT_SHARE = 0.2
TARGETS = ["complex"]
FAULTS = {
    "seed": 20261129,
    "http_5xx": {"probability": FAULT_SHARE, "status": 503, "body": "html", "targets": TARGETS},
    "drop": {"probability": FAULT_SHARE, "targets": TARGETS},
    "lost_answer": {"probability": FAULT_SHARE, "targets": TARGETS},
    "malformed": {"probability": FAULT_SHARE, "targets": TARGETS},
    "latency": {"probability": FAULT_SHARE, "seconds": 0.02, "targets": TARGETS},
    # FCE error 18 ("device busy"), Fatal=false: retried with the same RequestId.
    "fiscal_fail": {"probability": FAULT_SHARE, "fce": 18, "targets": TARGETS},
}
MAX_ROUNDS = 60


@tagged("post_install", "-at_install")
class TestCheckonlineSoak(KkmSandboxCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        folder = tempfile.TemporaryDirectory()
        cls.addClassCleanup(folder.cleanup)
        cert_path, key_path = Pki(folder.name).client
        certificate = create_checkonline_certificate(cls.env, cls.company, cert_path, key_path)
        cls.company.sudo().write(
            {
                "l10n_ru_kkm_vendor": "checkonline",
                # The soak is about faults, not TLS (tested elsewhere): the sandbox speaks plain HTTP.
                "l10n_ru_kkm_service_url": cls.sandbox.url,
                "l10n_ru_kkm_checkonline_certificate_id": certificate.id,
                "l10n_ru_kkm_async": True,
                "l10n_ru_kkm_max_attempts": MAX_ROUNDS + 10,
            }
        )

    def test_every_invoice_registered_exactly_once_under_faults(self):
        self.sandbox.set_faults(FAULTS)
        with self.trapped() as trap:
            moves = self.create_invoices(INVOICES)
            receipts = moves.l10n_ru_kkm_receipt_ids
            self.assertEqual(set(receipts.mapped("state")), {"to_send"}, receipts[:1].error_message)
            self.assertEqual(set(receipts.mapped("vendor")), {"checkonline"})
            self.drive(trap, receipts, max_rounds=MAX_ROUNDS)
            pending = self.pending_receipts(receipts)
            self.assertFalse(pending, f"not settled: {Counter(pending.mapped('state'))}")
        fired = Counter(entry["faults"][0] for entry in self.sandbox.get_faults()["fired"] if entry["faults"])
        self.sandbox.clear_faults()

        self.assertEqual(Counter(receipts.mapped("state")), {"done": INVOICES})
        self.assertTrue(all(receipts.mapped("fiscal_document_attribute")))
        self.assertFalse(self.receipt_model.search_count([("state", "in", PENDING_STATES)]))
        ledger = self.sandbox.ledger()
        self.assertEqual(ledger["count"], INVOICES)
        self.assertEqual(ledger["duplicates_by_id"]["count"], 0)
        self.assertEqual(ledger["duplicates_by_content"]["count"], 0)
        by_request = {row["request_id"]: row for row in ledger["documents"]}
        self.assertEqual(set(by_request), set(receipts.mapped("external_id")))
        self.assertGreater(sum(1 for row in by_request.values() if row["submitted"] > 1), 10)
        for kind in ("http_5xx", "drop", "lost_answer", "malformed", "fiscal_fail"):
            self.assertGreater(fired[kind], 0, f"{kind} never fired")
