"""Cash registers as records: routing, fail-over to a backup register, the migration of
companies set up before registers existed (docs/architecture.rst, "Cash registers")."""

import importlib.util
import logging
import os
from collections import Counter

from odoo import Command
from odoo.exceptions import AccessError
from odoo.tests import tagged

from .sandbox_common import SALE_DATE, SANDBOX_INN, KkmSandboxCommon, ledger_by_external_id

_logger = logging.getLogger(__name__)


def load_migration(version, name):
    path = os.path.join(os.path.dirname(__file__), "..", "migrations", version, f"{name}.py")
    spec = importlib.util.spec_from_file_location(f"l10n_ru_kkm_{name}_{version}".replace(".", "_"), path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@tagged("post_install", "-at_install")
class RegistersCommon(KkmSandboxCommon):
    """The company's default register on the sandbox, and Shop B, another account and group on
    a second address of the sandbox that can be made unreachable."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.device_b = cls.sandbox.add_device("shop-b")

    def setUp(self):
        super().setUp()
        self.sandbox.set_reachable("shop-b", True)
        self.sandbox.add_account("shop-b", "pass-b", "group-b", SANDBOX_INN, versions=("v4",))
        self.default = self.company.l10n_ru_kkm_register_id
        self.sales = self.env["account.journal"].search(
            [
                ("type", "=", "sale"),
                ("company_id", "=", self.company.id),
                ("default_account_id", "!=", False),
            ],
            limit=1,
        )
        self.shop_b = self.env["l10n_ru_kkm.register"].create(
            {
                "name": "Shop B",
                "company_id": self.company.id,
                "vendor": "atol_v4",
                "test_mode": True,
                "service_url": f"{self.device_b}/possystem",
                "atol_login": "shop-b",
                "atol_password": "pass-b",
                "atol_group_code": "group-b",
                "payment_address": "https://b.example.ru",
                "email": "b@example.ru",
                "callback": False,
                "sequence": 5,
            }
        )

    def pass_time(self, minutes, records):
        """The exchanges of ``records`` (a receipt or a register) happened ``minutes`` earlier."""
        column = "receipt_id" if records._name == "l10n_ru_kkm.receipt" else "register_id"
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE l10n_ru_kkm_receipt_attempt SET create_date = create_date - make_interval(mins => %s) "
            f"WHERE {column} = %s",
            [minutes, records.id],
        )
        self.env.invalidate_all()

    def shop_b_journal(self):
        return self.sales.copy(
            {"name": "Shop B sales", "code": "SHB", "default_account_id": self.sales.default_account_id.id}
        )

    def invoice(self, journal=None, product=None, post=True):
        journal = journal or self.sales
        line = {
            "name": "Товар",
            "price_unit": 1220.0,
            "quantity": 1,
            "tax_ids": [Command.set(self.vat22.ids)],
        }
        if product:
            line["product_id"] = product.id
        move = self.env["account.move"].create(
            {
                "move_type": "out_invoice",
                "partner_id": self.partner_a.id,
                "invoice_date": SALE_DATE,
                "journal_id": journal.id,
                "invoice_line_ids": [Command.create(line)],
            }
        )
        if post:
            move.action_post()
        return move

    def settled(self, trap, move):
        receipts = move.l10n_ru_kkm_receipt_ids
        self.drive(trap, receipts)
        self.assertEqual(set(receipts.mapped("state")), {"done"}, receipts.mapped("error_message"))
        return receipts


@tagged("post_install", "-at_install")
class TestRegisters(RegistersCommon):
    # -- the default register and its settings -------------------------------------------------

    def test_the_settings_screen_edits_the_default_register(self):
        self.assertTrue(self.default)
        self.company.l10n_ru_kkm_payment_address = "https://a.example.ru"
        self.assertEqual(self.default.payment_address, "https://a.example.ru")
        self.assertEqual(self.company.l10n_ru_kkm_atol_group_code, self.default.atol_group_code)
        # The company keeps no copy: the register is the one place.
        self.assertFalse(self.env["res.company"]._fields["l10n_ru_kkm_payment_address"].store)

    def test_check_connection_per_register(self):
        result = self.shop_b.action_l10n_ru_kkm_check_connection()
        self.assertEqual(result["params"]["type"], "success", result["params"]["message"])
        self.shop_b.atol_password = "wrong"
        self.assertEqual(self.shop_b.action_l10n_ru_kkm_check_connection()["params"]["type"], "danger")

    def test_credentials_are_for_administrators_only(self):
        manager = self.company_user("kkm_register_manager", groups="l10n_ru_kkm.group_kkm_manager")
        register = self.shop_b.with_user(manager)
        self.assertEqual(register.atol_group_code, "group-b")
        with self.assertRaises(AccessError):
            register.atol_password  # noqa: B018 - reading is what is refused
        # Whoever may edit the company edits its default register, but not its secrets.
        settings_admin = self.company_user("kkm_settings_admin", groups="base.group_erp_manager")
        company = self.company.with_user(settings_admin)
        company.write({"l10n_ru_kkm_payment_address": "https://new.example.ru"})
        self.assertEqual(self.default.payment_address, "https://new.example.ru")
        with self.assertRaises(AccessError):
            company.write({"l10n_ru_kkm_atol_password": "x"})

    # -- routing -------------------------------------------------------------------------------

    def test_routing_by_sales_journal(self):
        journal = self.shop_b_journal()
        self.shop_b.journal_ids = journal
        with self.trapped() as trap:
            receipt = self.settled(trap, self.invoice(journal=journal))
            other = self.settled(trap, self.invoice())
        self.assertEqual(receipt.register_id, self.shop_b)
        self.assertEqual(receipt.group_code, "group-b")
        self.assertEqual(
            receipt.request_payload["receipt"]["company"]["payment_address"], "https://b.example.ru"
        )
        self.assertEqual(other.register_id, self.default)
        ledger = ledger_by_external_id(self.sandbox)
        self.assertEqual([row["group"] for row in ledger[receipt.external_id]], ["group-b"])
        self.assertEqual([row["group"] for row in ledger[other.external_id]], [self.default.atol_group_code])

    def test_routing_by_sales_team(self):
        team = self.env["crm.team"].sudo().create({"name": "Web shop B", "company_id": self.company.id})
        self.shop_b.team_ids = team
        move = self.invoice(post=False)
        move.team_id = team
        move.action_post()
        self.assertEqual(move.l10n_ru_kkm_receipt_ids.register_id, self.shop_b)

    def test_routing_by_product_category(self):
        marked = self.env["product.category"].create({"name": "Marked goods"})
        shoes = self.env["product.category"].create({"name": "Shoes", "parent_id": marked.id})
        self.shop_b.categ_ids = marked
        product = self.env["product.product"].create({"name": "Кроссовки", "categ_id": shoes.id})
        self.assertEqual(self.invoice(product=product).l10n_ru_kkm_receipt_ids.register_id, self.shop_b)
        self.assertEqual(self.invoice().l10n_ru_kkm_receipt_ids.register_id, self.default)

    def test_a_refund_goes_to_the_register_of_its_sale(self):
        journal = self.shop_b_journal()
        self.shop_b.journal_ids = journal
        with self.trapped() as trap:
            move = self.invoice(journal=journal)
            sale = self.settled(trap, move)
            self.shop_b.journal_ids = False  # the rule changed since: the refund still follows the sale
            reversal = (
                self.env["account.move.reversal"]
                .with_context(active_model="account.move", active_ids=move.ids)
                .create({"journal_id": self.sales.id, "date": SALE_DATE})
            )
            reversal.refund_moves()
            credit_note = move.reversal_move_ids
            credit_note.action_post()
            refund = self.settled(trap, credit_note)
        self.assertEqual(sale.register_id, self.shop_b)
        self.assertEqual(refund.register_id, self.shop_b)
        self.assertEqual(refund.group_code, "group-b")

    def test_an_archived_register_sends_its_refunds_to_a_compatible_one_with_a_note(self):
        journal = self.shop_b_journal()
        self.shop_b.journal_ids = journal
        with self.trapped() as trap:
            move = self.invoice(journal=journal)
            self.settled(trap, move)
        self.shop_b.active = False
        register, note = self.env["l10n_ru_kkm.register"]._l10n_ru_kkm_route(move)
        self.assertEqual(register, self.default)
        self.assertIn("Shop B", note)
        self.assertIn("archived", note)

    # -- fail-over -----------------------------------------------------------------------------

    def test_fail_over_only_when_the_primary_certainly_never_got_the_receipt(self):
        self.shop_b.write({"backup_register_id": self.default.id, "failover_minutes": 5})
        self.sandbox.set_reachable("shop-b", False)
        journal = self.shop_b_journal()
        self.shop_b.journal_ids = journal
        with self.trapped() as trap:
            move = self.invoice(journal=journal)
            receipt = move.l10n_ru_kkm_receipt_ids
            first_id = receipt.external_id
            receipt._l10n_ru_kkm_send()
            # Refused before it left, but not for long enough: it stays, to be tried again.
            self.assertEqual(receipt.state, "to_send")
            self.assertEqual(receipt.register_id, self.shop_b)
            self.assertEqual(set(receipt.attempt_ids.mapped("may_hold")), {False})
            self.pass_time(6, receipt)
            receipt._l10n_ru_kkm_send()
            self.assertEqual(receipt.register_id, self.default)
            self.assertEqual(receipt.failover_from_id, self.shop_b)
            self.assertNotEqual(receipt.external_id, first_id)
            self.assertEqual(receipt.group_code, self.default.atol_group_code)
            self.assertEqual(receipt.request_payload["external_id"], receipt.external_id)
            self.assertIn(first_id, receipt.message_ids[0].body)
            self.drive(trap, receipt)
        self.assertEqual(receipt.state, "done")
        ledger = ledger_by_external_id(self.sandbox)
        self.assertEqual(len(ledger[receipt.external_id]), 1)
        self.assertNotIn(first_id, ledger)
        self.assert_no_duplicates()

    def test_no_fail_over_from_an_uncertain_outcome(self):
        self.shop_b.write({"backup_register_id": self.default.id, "failover_minutes": 1})
        journal = self.shop_b_journal()
        self.shop_b.journal_ids = journal
        self.sandbox.set_faults({"lost_answer": {"next": 1, "targets": ["register"]}})
        with self.trapped() as trap:
            move = self.invoice(journal=journal)
            receipt = move.l10n_ru_kkm_receipt_ids
            receipt._l10n_ru_kkm_send()
            self.assertEqual(receipt.state, "unknown")
            self.pass_time(60, receipt)
            self.assertFalse(receipt._l10n_ru_kkm_failover_due())
            self.sandbox.set_reachable("shop-b", False)  # and now the register is down
            receipt._l10n_ru_kkm_send()
            self.assertEqual(receipt.state, "unknown")
            self.assertEqual(receipt.register_id, self.shop_b)
            self.sandbox.set_reachable("shop-b", True)
            self.drive(trap, receipt)
        self.assertEqual(receipt.state, "done")
        self.assertEqual(receipt.register_id, self.shop_b)
        self.assertFalse(receipt.failover_from_id)
        self.assertEqual(len(ledger_by_external_id(self.sandbox)[receipt.external_id]), 1)

    def assert_no_duplicates(self):
        ledger = self.sandbox.ledger()
        self.assertEqual(ledger["duplicates_by_id"]["count"], 0)
        self.assertEqual(ledger["duplicates_by_content"]["count"], 0)

    # -- migration -----------------------------------------------------------------------------

    def test_companies_set_up_before_registers_get_one_on_update(self):
        """Runs migrations 19.0.1.3.0 and 19.0.1.4.0 on the data model of 19.0.1.2.0: the
        settings in res_company's columns, no register."""
        receipt = self.invoice().l10n_ru_kkm_receipt_ids
        self.env.flush_all()
        cr = self.env.cr
        # The columns of 19.0.1.2.0 (a database updated since may still hold later ones).
        cr.execute("ALTER TABLE res_company DROP COLUMN IF EXISTS l10n_ru_kkm_ofd")
        cr.execute(
            """
            ALTER TABLE res_company
                ADD COLUMN IF NOT EXISTS l10n_ru_kkm_vendor varchar,
                ADD COLUMN IF NOT EXISTS l10n_ru_kkm_test_mode boolean,
                ADD COLUMN IF NOT EXISTS l10n_ru_kkm_service_url varchar,
                ADD COLUMN IF NOT EXISTS l10n_ru_kkm_atol_login varchar,
                ADD COLUMN IF NOT EXISTS l10n_ru_kkm_atol_password varchar,
                ADD COLUMN IF NOT EXISTS l10n_ru_kkm_atol_group_code varchar,
                ADD COLUMN IF NOT EXISTS l10n_ru_kkm_checkonline_ofd varchar,
                ADD COLUMN IF NOT EXISTS l10n_ru_kkm_payment_address varchar,
                ADD COLUMN IF NOT EXISTS l10n_ru_kkm_email varchar,
                ADD COLUMN IF NOT EXISTS l10n_ru_kkm_callback boolean
            """
        )
        cr.execute(
            """
            UPDATE res_company SET l10n_ru_kkm_vendor = 'atol_v5', l10n_ru_kkm_test_mode = FALSE,
                   l10n_ru_kkm_atol_login = 'old-login', l10n_ru_kkm_atol_password = 'old-secret',
                   l10n_ru_kkm_atol_group_code = 'old-group', l10n_ru_kkm_checkonline_ofd = 'ofd.ru',
                   l10n_ru_kkm_payment_address = 'https://old.example.ru', l10n_ru_kkm_callback = TRUE,
                   l10n_ru_kkm_register_id = NULL
             WHERE id = %s
            """,
            [self.company.id],
        )
        cr.execute(
            "UPDATE l10n_ru_kkm_receipt SET register_id = NULL WHERE company_id = %s", [self.company.id]
        )
        cr.execute(
            "ALTER TABLE l10n_ru_kkm_receipt DROP CONSTRAINT IF EXISTS l10n_ru_kkm_receipt_register_id_fkey"
        )
        cr.execute("DELETE FROM l10n_ru_kkm_register WHERE company_id = %s", [self.company.id])
        self.env.invalidate_all()

        load_migration("19.0.1.3.0", "pre-migrate").migrate(cr, "19.0.1.2.0")
        load_migration("19.0.1.4.0", "post-migrate").migrate(cr, "19.0.1.3.0")
        self.env.invalidate_all()

        register = self.company.l10n_ru_kkm_register_id.sudo()
        self.assertEqual(register.name, self.company.name)
        self.assertEqual(
            (register.vendor, register.test_mode, register.atol_login, register.atol_password),
            ("atol_v5", False, "old-login", "old-secret"),
        )
        self.assertEqual((register.atol_group_code, register.ofd), ("old-group", "ofd.ru"))
        self.assertEqual((register.payment_address, register.callback), ("https://old.example.ru", True))
        self.assertEqual(receipt.register_id, register)
        # A second run changes nothing.
        load_migration("19.0.1.4.0", "post-migrate").migrate(cr, "19.0.1.3.0")
        self.assertEqual(
            self.env["l10n_ru_kkm.register"].search_count([("company_id", "=", self.company.id)]), 1
        )

    # -- health --------------------------------------------------------------------------------

    def test_health_figures_and_one_alert_for_a_failing_register(self):
        journal = self.shop_b_journal()
        self.shop_b.write({"journal_ids": [Command.set(journal.ids)], "alert_minutes": 30})
        with self.trapped() as trap:
            done = self.settled(trap, self.invoice(journal=journal))
        self.shop_b.invalidate_recordset()
        self.assertEqual(self.shop_b.health, "ok")
        self.assertEqual(self.shop_b.fn_number, done.fn_number)
        self.assertEqual(self.shop_b.backlog_count, 0)
        self.assertEqual(self.shop_b.failure_share_hour, 0.0)
        self.assertGreater(self.shop_b.latency_hour_ms + 1, 0)
        success = self.shop_b.last_success_at
        self.assertTrue(success)

        self.sandbox.set_reachable("shop-b", False)
        waiting = self.invoice(journal=journal).l10n_ru_kkm_receipt_ids
        waiting._l10n_ru_kkm_send()
        waiting._l10n_ru_kkm_send()
        self.shop_b.invalidate_recordset()
        self.assertEqual(self.shop_b.backlog_count, 1)
        self.assertEqual(self.shop_b.last_success_at, success)
        self.assertTrue(self.shop_b.failing_since)
        self.assertGreater(self.shop_b.failure_share_hour, 0.0)
        self.assertEqual(self.shop_b.health, "ok", "not failing for long enough yet")
        self.assertEqual(self.default.health, "idle")

        self.pass_time(40, self.shop_b)
        self.assertEqual(self.shop_b.health, "failing")
        registers = self.env["l10n_ru_kkm.register"]
        registers._cron_l10n_ru_kkm_check_health()
        registers._cron_l10n_ru_kkm_check_health()
        activities = self.shop_b.activity_ids
        self.assertEqual(len(activities), 1, "one activity, not one per run")
        self.assertIn("Shop B", activities.note)
        self.assertTrue(activities.user_id.has_group("l10n_ru_kkm.group_kkm_manager"))
        report = self.env["l10n_ru_kkm.receipt"]._l10n_ru_kkm_report_data(
            self.company, done.create_date.date(), done.create_date.date()
        )
        self.assertEqual([row["name"] for row in report["registers"]], ["Shop B"])

    def test_a_backlog_past_the_threshold_is_reported(self):
        journal = self.shop_b_journal()
        self.shop_b.write({"journal_ids": [Command.set(journal.ids)], "alert_backlog": 1})
        self.invoice(journal=journal)
        self.invoice(journal=journal)
        self.shop_b.invalidate_recordset()
        self.assertEqual(self.shop_b.backlog_count, 2)
        self.assertEqual(self.shop_b.health, "backlog")
        self.env["l10n_ru_kkm.register"]._cron_l10n_ru_kkm_check_health()
        self.assertIn("2 receipts waiting", self.shop_b.activity_ids.note)


# The soak's faults, milder: the outage is the point here.
FAULTS = {
    "seed": 20261129,
    "drop": {"probability": 0.1, "targets": ["get_token", "register", "report"]},
    "lost_answer": {"probability": 0.1, "targets": ["register", "report"]},
    "http_5xx": {"probability": 0.1, "status": 503, "body": "html", "targets": ["register", "report"]},
}
INVOICES = 120
OUTAGE_ROUNDS = 6


@tagged("post_install", "-at_install")
class TestSoakWithFailOver(RegistersCommon):
    """Two registers, faults on, and an outage of the primary: every invoice registered exactly
    once, on one of them; a receipt moves only when the primary certainly never got it."""

    def test_every_invoice_registered_once_across_an_outage(self):
        self.company.write(
            {"l10n_ru_kkm_async": True, "l10n_ru_kkm_max_attempts": 100, "l10n_ru_kkm_max_polls": 60}
        )
        # Shop B is the default register; the company's first register is its backup.
        backup = self.default
        self.company.l10n_ru_kkm_register_id = self.shop_b
        self.shop_b.write({"backup_register_id": backup.id, "failover_minutes": 10})
        self.sandbox.set_faults(FAULTS)
        with self.trapped() as trap:
            # Half the invoices reach the primary; then it is down for a while, time passing, while
            # the other half is posted.
            moves = self.create_invoices(INVOICES // 2)
            self.assertEqual(moves.l10n_ru_kkm_receipt_ids.register_id, self.shop_b)
            self.drive(trap, moves.l10n_ru_kkm_receipt_ids, max_rounds=1)
            self.sandbox.set_reachable("shop-b", False)
            moves |= self.create_invoices(INVOICES // 2, first_price=5000.0)
            receipts = moves.l10n_ru_kkm_receipt_ids
            self.assertEqual(receipts.register_id, self.shop_b)
            for _round in range(OUTAGE_ROUNDS):
                self.drive(trap, receipts, max_rounds=1)
                self.pass_time(4, self.shop_b)
            self.sandbox.set_reachable("shop-b", True)
            rounds = self.drive(trap, receipts, max_rounds=80)
            self.assertLessEqual(rounds, 80, Counter(self.pending_receipts(receipts).mapped("state")))
        self.sandbox.clear_faults()
        receipts = moves.l10n_ru_kkm_receipt_ids
        self.assertEqual(Counter(receipts.mapped("state")), {"done": INVOICES})
        moved = receipts.filtered("failover_from_id")
        stayed = receipts - moved
        self.assertTrue(moved, "the outage moved receipts to the backup")
        self.assertTrue(stayed.filtered(lambda r: r.register_id == self.shop_b), "and some stayed")
        self.assertEqual(moved.register_id, backup)
        # A receipt moved only when none of its requests on the primary may have arrived.
        for receipt in moved:
            left = receipt.attempt_ids.filtered(
                lambda a: a.register_id == self.shop_b and a.action == "register"
            )
            self.assertEqual(set(left.mapped("may_hold")), {False}, receipt.name)
        ledger = self.sandbox.ledger()
        self.assertEqual(ledger["count"], INVOICES)
        self.assertEqual(ledger["duplicates_by_id"]["count"], 0)
        self.assertEqual(ledger["duplicates_by_content"]["count"], 0)
        by_id = ledger_by_external_id(self.sandbox)
        self.assertEqual(set(by_id), set(receipts.mapped("external_id")))
        groups = Counter(rows[0]["group"] for rows in by_id.values())
        self.assertEqual(groups["group-b"], len(stayed))
        self.assertEqual(groups[backup.atol_group_code], len(moved))
        _logger.info(
            "fail-over soak: %s invoices, %s moved to the backup, %s stayed",
            INVOICES,
            len(moved),
            len(stayed),
        )
