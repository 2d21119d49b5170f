"""Soak: hundreds of invoices sent in the background through a sandbox that misbehaves.

Every fault kind the sandbox knows that a healthy ATOL can show on the wire is injected with a
fixed seed, on every request kind it applies to. The system is then driven as the job runner
and the scheduler would drive it, until nothing is pending (``KkmSandboxCommon.drive``; the
poll cron's 1 s POLL_SPACING between status requests is patched to 0 there, for speed only).
Whatever happened on the way, every invoice must end with exactly one registered document.
"""

import logging
import time
from collections import Counter

from odoo.tests import tagged

from .sandbox_common import PENDING_STATES, KkmSandboxCommon, ledger_by_external_id

_logger = logging.getLogger(__name__)

INVOICES = 300
FAULT_SEED = 20261128
ALL_TARGETS = ["get_token", "register", "report"]
# Each kind fires on ~20 % of the requests it targets, independently of the others.
FAULT_SHARE = 0.2
FAULTS = {
    "seed": FAULT_SEED,
    "http_5xx": {"probability": FAULT_SHARE, "status": 503, "body": "html", "targets": ALL_TARGETS},
    "drop": {"probability": FAULT_SHARE, "targets": ALL_TARGETS},
    "lost_answer": {"probability": FAULT_SHARE, "targets": ALL_TARGETS},
    "token_expiry": {"probability": FAULT_SHARE, "targets": ALL_TARGETS},
    "malformed": {"probability": FAULT_SHARE, "targets": ALL_TARGETS},
    "latency": {"probability": FAULT_SHARE, "seconds": 0.02, "targets": ALL_TARGETS},
    "long_wait": {"probability": FAULT_SHARE, "seconds": 0.5, "targets": ["register"]},
}
MAX_ROUNDS = 80


@tagged("post_install", "-at_install")
class TestSoak(KkmSandboxCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company.write(
            {
                "l10n_ru_kkm_async": True,
                # More attempts than rounds: the 24 h pause never starts during the soak.
                "l10n_ru_kkm_max_attempts": MAX_ROUNDS + 10,
                "l10n_ru_kkm_max_polls": 50,
            }
        )

    def _count_faults(self):
        """Count every fault decision of the sandbox, per kind and target (the sandbox's own
        log keeps only the last 1000)."""
        counts = {"requests": Counter(), "faulted": Counter(), "kinds": Counter()}
        plan = self.sandbox.fault_plan
        decide = plan.decide

        def counting_decide(target):
            decision = decide(target)
            counts["requests"][target] += 1
            if decision.fired:
                counts["faulted"][target] += 1
            for kind in decision.fired:
                counts["kinds"][kind, target] += 1
            return decision

        plan.decide = counting_decide
        self.addCleanup(setattr, plan, "decide", decide)
        return counts

    def test_every_invoice_registered_exactly_once_under_faults(self):
        started = time.monotonic()
        counts = self._count_faults()
        self.sandbox.set_faults(FAULTS)
        with self.trapped() as trap:
            moves = self.create_invoices(INVOICES)
            created = time.monotonic()
            receipts = moves.l10n_ru_kkm_receipt_ids
            self.assertEqual(len(receipts), INVOICES)
            self.assertEqual(set(receipts.mapped("state")), {"to_send"}, receipts[:1].error_message)
            self.assertEqual(len(trap.enqueued_jobs), INVOICES)
            self.assertEqual(self.sandbox.ledger()["count"], 0, "nothing is sent before the commit")
            rounds = self.drive(trap, receipts, max_rounds=MAX_ROUNDS)
            pending = self.pending_receipts(receipts)
            self.assertFalse(
                pending,
                f"not settled after {MAX_ROUNDS} rounds: {Counter(pending.mapped('state'))}",
            )
            self.assertFalse(trap.enqueued_jobs)
        finished = time.monotonic()

        # Every invoice: one receipt, done, with fiscal data.
        self.assertEqual(Counter(receipts.mapped("state")), {"done": INVOICES})
        for move in moves:
            self.assertEqual(len(move.l10n_ru_kkm_receipt_ids), 1)
        self.assertEqual(set(moves.mapped("l10n_ru_kkm_state")), {"done"})
        self.assertFalse(any(moves.mapped("l10n_ru_kkm_failed")))
        self.assertTrue(all(receipts.mapped("fn_number")))
        self.assertEqual(len(set(receipts.mapped("fiscal_document_number"))), INVOICES)
        self.assertFalse(receipts.filtered("needs_attention"))
        self.assertFalse(self.receipt_model.search_count([("state", "in", PENDING_STATES)]))

        # The sandbox: one document per invoice, no duplicate of any kind.
        self.sandbox.clear_faults()
        ledger = self.sandbox.ledger()
        self.assertEqual(ledger["count"], INVOICES)
        self.assertEqual(ledger["by_status"], {"done": INVOICES})
        self.assertEqual(ledger["duplicates_by_id"]["count"], 0)
        self.assertEqual(ledger["duplicates_by_content"]["count"], 0)
        by_id = ledger_by_external_id(self.sandbox)
        self.assertEqual(set(by_id), set(receipts.mapped("external_id")))
        for receipt in receipts:
            (row,) = by_id[receipt.external_id]
            self.assertEqual(row["uuid"], receipt.vendor_uuid)
            self.assertEqual(row["fiscal"]["fiscal_document_number"], receipt.fiscal_document_number)

        # The faults really happened, every kind, and some answers were lost after registration.
        for kind, spec in FAULTS.items():
            if kind == "seed":
                continue
            for target in spec["targets"]:
                self.assertGreater(counts["kinds"][kind, target], 0, f"{kind} never fired on {target}")
        resent = sum(1 for rows in by_id.values() if rows[0]["submitted"] > 1)
        self.assertGreater(resent, 10, "lost answers must have been resolved by resending the same id")
        requests = sum(counts["requests"].values())
        faulted = sum(counts["faulted"].values())
        _logger.info(
            "soak: %s invoices created in %.1fs, settled in %s rounds, %.1fs; %s requests, %s faulted "
            "(%.0f%%); by target %s; resent with the same id: %s; submissions %s",
            INVOICES,
            created - started,
            rounds,
            finished - created,
            requests,
            faulted,
            100 * faulted / requests,
            dict(counts["requests"]),
            resent,
            ledger["submissions"],
        )
