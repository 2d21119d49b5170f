"""Shared set-up of the ORM tests that talk to the project's sandbox over loopback.

The sandbox (``sandbox/``) is the real ATOL Online emulator on 127.0.0.1: these tests use the
module's own HTTP client, with ``responses`` still started by ``KkmTestCommon`` so that any
request leaving loopback fails instead of reaching the internet.
"""

from contextlib import contextmanager
from unittest.mock import patch

from odoo import Command

from odoo.addons.queue_job.tests.common import trap_jobs

from ..models.l10n_ru_kkm_receipt import polling
from ..sandbox.server import Sandbox
from .common import KkmTestCommon

# The sandbox's default accounts: ATOL Online's public test credentials.
ATOL_ACCOUNTS = {
    "atol_v4": {
        "l10n_ru_kkm_atol_login": "v4-online-atol-ru",
        "l10n_ru_kkm_atol_password": "iGFFuihss",
        "l10n_ru_kkm_atol_group_code": "v4-online-atol-ru_4179",
    },
    "atol_v5": {
        "l10n_ru_kkm_atol_login": "v5-online-atol-ru",
        "l10n_ru_kkm_atol_password": "zUr0OxfI",
        "l10n_ru_kkm_atol_group_code": "v5-online-atol-ru_5179",
    },
}
SANDBOX_INN = "5544332219"
PENDING_STATES = ("to_send", "sent", "unknown")
# A sale after the VAT change of 2026-01-01: its lines carry VAT 22 %.
SALE_DATE = "2026-11-28"


def sandbox_company_values(sandbox, vendor="atol_v4"):
    """Company settings that point the module at ``sandbox`` with its default account."""
    return {
        "l10n_ru_kkm_enabled": True,
        "l10n_ru_kkm_vendor": vendor,
        "l10n_ru_kkm_test_mode": True,
        "l10n_ru_kkm_service_url": f"{sandbox.url}/possystem",
        "l10n_ru_kkm_inn": SANDBOX_INN,
        "l10n_ru_kkm_payment_address": "https://shop.example.ru",
        "l10n_ru_kkm_email": "shop@example.ru",
        "l10n_ru_kkm_sno": "osn",
        "l10n_ru_kkm_callback": False,
        # A token of a previous sandbox instance would only cost a refresh; start clean.
        "l10n_ru_kkm_atol_token": False,
        "l10n_ru_kkm_atol_token_expiry": False,
        **ATOL_ACCOUNTS[vendor],
    }


def ledger_by_external_id(sandbox):
    """{external_id: [ledger rows]} of the ATOL documents the sandbox registered."""
    rows = {}
    for row in sandbox.ledger()["documents"]:
        rows.setdefault(row["id"], []).append(row)
    return rows


@contextmanager
def no_poll_spacing():
    """The poll cron waits POLL_SPACING (1 s) between two status requests to one cash register,
    as ATOL asks; tests only remove that wait, for speed, not the cron's logic."""
    with patch.object(polling, "POLL_SPACING", 0.0):
        yield


class KkmSandboxCommon(KkmTestCommon):
    """``KkmTestCommon`` with its company pointed at a real sandbox (one per test class)."""

    sandbox_seed = 7

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.sandbox = Sandbox(seed=cls.sandbox_seed, done_delay=0, quiet=True).start()
        cls.addClassCleanup(cls.sandbox.stop)
        cls.company.write(sandbox_company_values(cls.sandbox))
        # Sales from 2026-01-01 carry VAT 22 % (docs/architecture.rst, "What is fiscalized, and when"); the fixtures' 20 % tax is older.
        cls.vat22 = cls.env["account.tax"].create(
            {
                "name": "НДС 22% (incl.)",
                "amount": 22,
                "amount_type": "percent",
                "price_include_override": "tax_included",
                "type_tax_use": "sale",
                "company_id": cls.company.id,
                "l10n_ru_kkm_vat_code": "vat22",
            }
        )
        cls.receipt_model = cls.env["l10n_ru_kkm.receipt"]

    def setUp(self):
        super().setUp()
        # Every test starts from an empty ledger, no faults, no tokens, seeded RNGs.
        self.sandbox.reset()
        self.sandbox.configure(done_delay=0, fail_share=0)

    def use_vendor(self, vendor):
        self.company.write(sandbox_company_values(self.sandbox, vendor))

    def create_invoices(self, count, move_type="out_invoice", first_price=1000.0, batch=50):
        """``count`` posted invoices, each with a distinct total (the sandbox counts equal
        content under different ids as a duplicate), created and posted in batches."""
        moves = self.env["account.move"]
        for start in range(0, count, batch):
            values = [
                {
                    "move_type": move_type,
                    "partner_id": self.partner_a.id,
                    "invoice_date": SALE_DATE,
                    "invoice_line_ids": [
                        Command.create(
                            {
                                "name": f"Soak item {number}",
                                "quantity": 1,
                                "price_unit": first_price + number,
                                "tax_ids": [Command.set(self.vat22.ids)],
                            }
                        )
                    ],
                }
                for number in range(start, min(start + batch, count))
            ]
            batch_moves = self.env["account.move"].create(values)
            # PostgreSQL plans Odoo's own posting queries (payment state) from the statistics of
            # the committed tables, empty in a fresh test database: with hundreds of uncommitted
            # invoices those plans turn quadratic (minutes for 300 invoices). ANALYZE inside this
            # transaction counts its own rows; it changes no data.
            self.env.flush_all()
            self.env.cr.execute("ANALYZE account_move, account_move_line")
            batch_moves.action_post()
            moves |= batch_moves
        return moves

    def post_document(self, move_type="out_invoice", amount=1200.0):
        """One posted invoice (credit note) of a 2026 sale, with VAT 22 %."""
        move = self.init_invoice(
            move_type, partner=self.partner_a, invoice_date=SALE_DATE, amounts=[amount], taxes=self.vat22
        )
        move.action_post()
        return move

    def pending_receipts(self, receipts):
        return receipts.filtered(lambda r: r.state in PENDING_STATES)

    def drive(self, trap, receipts, max_rounds=60):
        """Run what the job runner and the poll cron would run until ``receipts`` are settled.

        Each round performs every trapped job (their eta is ignored: a retry is re-enqueued by
        the module itself) and runs the poll cron once. Returns the number of rounds used.
        """
        for rounds in range(1, max_rounds + 1):
            trap.perform_enqueued_jobs()
            with no_poll_spacing():
                self.receipt_model._cron_l10n_ru_kkm_poll()
            receipts.invalidate_recordset()
            if not self.pending_receipts(receipts) and not trap.enqueued_jobs:
                return rounds
        return max_rounds + 1

    @contextmanager
    def trapped(self):
        with trap_jobs() as trap:
            yield trap
