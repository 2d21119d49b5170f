"""Marked goods in the permissive mode, end to end against the sandbox over loopback: the codes
are checked before the receipt is built, a refused code stops it, the check goes into the
registered request (tag 1260), and a check that cannot be made follows the company's policy."""

import time

from odoo import Command
from odoo.exceptions import AccessError

from ..vendors.marking import SHARED_HOSTS
from .sandbox_common import SALE_DATE, KkmSandboxCommon, sandbox_company_values

GTIN = "04601234567890"
REQUISITE = {"federal_id": "030", "date": "21.11.2023", "number": "1944"}


def code(serial):
    """A marking code as typed into the line (<GS> for the separator)."""
    return f"01{GTIN}21{serial}<GS>93dGVz"


def full(serial):
    return code(serial).replace("<GS>", "\x1d")


class TestMarking(KkmSandboxCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.marking = {
            "l10n_ru_kkm_permissive": True,
            "l10n_ru_kkm_mark_route": "online",
            "l10n_ru_kkm_mark_fallback": "wait",
            "l10n_ru_kkm_mark_url": f"{cls.sandbox.url}/marking",
            "l10n_ru_kkm_mark_api_key": "sandbox-marking-key",
            "l10n_ru_kkm_mark_local_url": f"{cls.sandbox.url}/localmodule",
            "l10n_ru_kkm_mark_local_api": "lm",
            "l10n_ru_kkm_mark_local_login": "admin",
            "l10n_ru_kkm_mark_local_password": "admin",
        }
        cls.company.write(dict(sandbox_company_values(cls.sandbox, "atol_v5"), **cls.marking))
        cls.shoes = cls.env["product.product"].create(
            {"name": "Кроссовки", "type": "consu", "l10n_ru_kkm_marked": True, "list_price": 5000}
        )
        cls.env["res.lang"]._activate_lang("ru_RU")

    def setUp(self):
        super().setUp()
        SHARED_HOSTS.clear()  # each test meets the sandbox's hosts afresh
        self.company.write(dict(sandbox_company_values(self.sandbox, "atol_v5"), **self.marking))

    def sell(self, serials, price=5000.0, post=True):
        move = self.env["account.move"].create(
            {
                "move_type": "out_invoice",
                "partner_id": self.partner_a.id,
                "invoice_date": SALE_DATE,
                "invoice_line_ids": [
                    Command.create(
                        {
                            "product_id": self.shoes.id,
                            "name": "Кроссовки беговые",
                            "quantity": len(serials),
                            "price_unit": price,
                            "tax_ids": [Command.set(self.vat22.ids)],
                            "l10n_ru_kkm_mark_codes": "\n".join(code(serial) for serial in serials),
                        }
                    )
                ],
            }
        )
        if post:
            move.action_post()
        return move

    def registered_items(self, receipt):
        (document,) = [d for d in self.sandbox.documents() if d["external_id"] == receipt.external_id]
        return document["request"]["receipt"]["items"]

    def value_of(self, check):
        return f"UUID={check['reqId']}&Time={check['reqTimestamp']}"

    # -- a valid code ------------------------------------------------------------------

    def test_a_valid_code_is_sold_with_its_check(self):
        with self.trapped() as trap:
            move = self.sell(["OK1"])
            receipt = move.l10n_ru_kkm_receipt_ids
            self.drive(trap, receipt)
        self.assertEqual(receipt.state, "done", receipt.error_message)
        (check,) = self.sandbox.marking.checks()
        self.assertEqual(check["codes"], [full("OK1")])
        (item,) = self.registered_items(receipt)
        self.assertEqual(item["sectoral_item_props"], [dict(REQUISITE, value=self.value_of(check))])
        (row,) = move.l10n_ru_kkm_mark_check_ids
        self.assertEqual((row.verdict, row.route, row.req_id), ("allowed", "online", check["reqId"]))
        self.assertEqual(row.requisite, self.value_of(check))
        self.assertEqual(row.code_label, f"01{GTIN}21OK1")
        self.assertEqual(row.receipt_result, "15")  # tag 2106 of ATOL's report
        # Sold: the same unit cannot be sold again.
        again = self.sell(["OK1"]).l10n_ru_kkm_receipt_ids
        self.assertEqual(again.state, "error")
        self.assertIn("sold", again.problems[0]["params"]["reason"])

    # -- refusals --------------------------------------------------------------------------

    def test_each_refusal_stops_the_receipt_and_says_why(self):
        expected = {
            "SOLD7": ("sold", "already sold"),
            "BLOCKED7": ("blocked", "blocked by the supervising authorities"),
            "EXPIRED7": ("expired", "its expiry date has passed"),
            "UNKNOWN7": ("not_found", "unknown to the marking system"),
            "INVALID7": ("invalid", "not a valid code"),
            "GRAY7": ("gray_zone", "in the grey zone"),
            "NOTREAL7": ("not_realizable", "not introduced into circulation"),
        }
        with self.trapped() as trap:
            for serial, (reason, words) in expected.items():
                move = self.sell([serial])
                receipt = move.l10n_ru_kkm_receipt_ids
                self.assertEqual(receipt.state, "error", serial)
                self.assertFalse(receipt.request_payload)
                (found,) = receipt.problems
                self.assertEqual(found["code"], "mark_code_refused")
                self.assertEqual(found["params"]["reason"].split(",")[0], reason)
                message = receipt.error_message
                for part in ("Кроссовки беговые", f"01{GTIN}21{serial}", words, "Nothing was registered"):
                    self.assertIn(part, message)
                self.assertEqual(move.l10n_ru_kkm_mark_check_ids.verdict, "refused")
                self.assertTrue(move.l10n_ru_kkm_failed)
            trap.perform_enqueued_jobs()
        self.assertEqual(self.sandbox.ledger()["count"], 0)
        russian = receipt.with_context(lang="ru_RU").error_message
        self.assertIn("не введён в оборот", russian)
        self.assertIn("Ничего не зарегистрировано", russian)

    def test_a_code_unblocked_is_sold_after_a_reset(self):
        self.sandbox.marking.set_code(full("OK8"), isBlocked=True)
        move = self.sell(["OK8"])
        self.assertEqual(move.l10n_ru_kkm_receipt_ids.state, "error")
        move.button_draft()
        self.sandbox.marking.set_code(full("OK8"))  # unblocked by the authorities
        with self.trapped() as trap:
            move.action_post()
            receipt = move.l10n_ru_kkm_receipt_ids.filtered(lambda r: r.state != "cancelled")
            self.drive(trap, receipt)
        self.assertEqual(receipt.state, "done", receipt.error_message)
        # Every check is kept, the newest first; ATOL's tag 2106 goes to the newest.
        checks = move.l10n_ru_kkm_mark_check_ids.sorted("id", reverse=True)
        self.assertEqual(checks.mapped("verdict"), ["allowed", "refused"])
        self.assertEqual(checks.mapped("receipt_result"), ["15", False])

    def test_marked_goods_need_their_codes_and_a_protocol_that_carries_the_check(self):
        move = self.sell([], post=False)
        move.invoice_line_ids.quantity = 1
        move.action_post()
        self.assertEqual(move.l10n_ru_kkm_receipt_ids.problems[0]["code"], "mark_codes_missing")
        self.use_vendor("atol_v4")
        receipt = self.sell(["OK9"]).l10n_ru_kkm_receipt_ids
        self.assertIn("mark_permissive_unsupported", [found["code"] for found in receipt.problems])
        self.assertIn("ATOL Online v5", receipt.error_message)
        self.assertFalse(self.sandbox.marking.checks())  # no check for a receipt that cannot carry it

    def test_a_refused_key_is_for_an_administrator(self):
        self.company.l10n_ru_kkm_mark_api_key = "wrong"
        receipt = self.sell(["OK10"]).l10n_ru_kkm_receipt_ids
        self.assertEqual((receipt.state, receipt.problems[0]["code"]), ("error", "mark_check_denied"))
        self.company.l10n_ru_kkm_mark_api_key = False
        receipt = self.sell(["OK11"]).l10n_ru_kkm_receipt_ids
        self.assertEqual(receipt.problems[0]["code"], "mark_check_settings")

    # -- when the check cannot be made ----------------------------------------------------

    def test_offline_fallback_names_the_local_module(self):
        self.company.l10n_ru_kkm_mark_fallback = "local"
        self.sandbox.set_faults({"http_5xx": {"next": 1, "status": 502, "targets": ["mark_info"]}})
        with self.trapped() as trap:
            move = self.sell(["OK12"])
            receipt = move.l10n_ru_kkm_receipt_ids
            self.drive(trap, receipt)
        self.assertEqual(receipt.state, "done", receipt.error_message)
        (check,) = self.sandbox.marking.checks()
        self.assertEqual(check["where"], "local module")
        value = f"{self.value_of(check)}&Inst=sandbox-lm-1&Ver=sandbox-base-7"
        self.assertEqual(self.registered_items(receipt)[0]["sectoral_item_props"][0]["value"], value)
        self.assertEqual(move.l10n_ru_kkm_mark_check_ids.route, "offline")

    def test_a_slow_check_makes_the_receipt_wait(self):
        self.sandbox.set_faults({"latency": {"next": 1, "seconds": 1.7, "targets": ["mark_check"]}})
        with self.trapped() as trap:
            move = self.sell(["OK13"])
            receipt = move.l10n_ru_kkm_receipt_ids
            self.assertEqual(receipt.state, "to_send")
            self.assertFalse(receipt.request_payload)
            self.assertEqual(receipt.problems[0]["code"], "mark_check_waiting")
            self.assertIn("could not be checked", receipt.error_message)
            self.assertTrue(receipt.next_attempt_at)
            self.assertEqual(len(trap.enqueued_jobs), 1)
            self.assertFalse(move.l10n_ru_kkm_mark_check_ids)
            self.drive(trap, receipt)
        self.assertEqual(receipt.state, "done", receipt.error_message)
        # The receipt carries the second check, not the slow one (answered too late; waited for
        # here, so that it does not land in the next test).
        deadline = time.monotonic() + 5
        while len(self.sandbox.marking.checks()) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        checks = self.sandbox.marking.checks()
        self.assertEqual(len(checks), 2)
        value = self.registered_items(receipt)[0]["sectoral_item_props"][0]["value"]
        self.assertIn(value, [self.value_of(check) for check in checks])
        self.assertEqual(move.l10n_ru_kkm_mark_check_ids.requisite, value)

    def test_a_check_still_unavailable_keeps_waiting(self):
        self.sandbox.set_faults({"http_5xx": {"probability": 1.0, "status": 503, "targets": ["mark_info"]}})
        with self.trapped() as trap:
            receipt = self.sell(["OK14"]).l10n_ru_kkm_receipt_ids
            trap.perform_enqueued_jobs()
            trap.perform_enqueued_jobs()
        self.assertEqual((receipt.state, receipt.send_attempts), ("to_send", 3))
        self.assertFalse(receipt.request_payload)
        self.assertEqual(self.sandbox.ledger()["count"], 0)

    def test_emergency_mode_under_the_policy(self):
        self.company.l10n_ru_kkm_mark_fallback = "emergency"
        self.sandbox.set_faults({"http_5xx": {"next": 1, "status": 503, "targets": ["mark_info"]}})
        with self.trapped() as trap:
            move = self.sell(["OK15"])
            receipt = move.l10n_ru_kkm_receipt_ids
            self.drive(trap, receipt)
        self.assertEqual(receipt.state, "done", receipt.error_message)
        self.assertNotIn("sectoral_item_props", self.registered_items(receipt)[0])
        self.assertEqual(move.l10n_ru_kkm_mark_check_ids.verdict, "emergency")
        self.assertIn("emergency", " ".join(move.message_ids.mapped("body")))
        # A ТС ПИоТ that declares the emergency mode (HTTP 203), whatever the fallback.
        self.company.write(
            {
                "l10n_ru_kkm_mark_route": "local",
                "l10n_ru_kkm_mark_fallback": "wait",
                "l10n_ru_kkm_mark_local_api": "tspiot",
                "l10n_ru_kkm_mark_local_url": f"{self.sandbox.url}/tspiot",
            }
        )
        self.sandbox.marking.configure(tspiot_emergency=True)
        receipt = self.sell(["OK16"]).l10n_ru_kkm_receipt_ids
        self.assertEqual(receipt.state, "to_send")
        self.assertNotIn("sectoral_item_props", receipt.request_payload["receipt"]["items"][0])

    # -- several receipts, several checks ---------------------------------------------------

    def test_a_split_invoice_carries_each_items_own_check(self):
        serials = [f"S{number:03d}" for number in range(101)]
        with self.trapped() as trap:
            move = self.sell(serials, price=100.0)
            receipts = move.l10n_ru_kkm_receipt_ids
            self.assertEqual(len(receipts), 2)
            self.drive(trap, receipts)
        self.assertEqual(set(receipts.mapped("state")), {"done"})
        first, second = self.sandbox.marking.checks()  # 100 codes, then 1
        value = {c: self.value_of(first) for c in first["codes"]} | {
            c: self.value_of(second) for c in second["codes"]
        }
        items = [item for receipt in receipts.sorted("part") for item in self.registered_items(receipt)]
        self.assertEqual(len(items), 101)
        for serial, item in zip(serials, items, strict=True):
            self.assertEqual(item["sectoral_item_props"], [dict(REQUISITE, value=value[full(serial)])])
        self.assertNotEqual(value[full(serials[0])], value[full(serials[-1])])

    def test_codes_are_checked_when_the_invoice_is_paid(self):
        self.company.l10n_ru_kkm_trigger = "paid"
        move = self.sell(["OK17"])
        self.assertFalse(move.l10n_ru_kkm_receipt_ids)
        self.assertFalse(self.sandbox.marking.checks())
        with self.trapped():
            self.env["account.payment.register"].with_context(
                active_model="account.move", active_ids=move.ids
            ).create({})._create_payments()
        receipt = move.l10n_ru_kkm_receipt_ids
        self.assertEqual(len(self.sandbox.marking.checks()), 1)
        self.assertIn("sectoral_item_props", receipt.request_payload["receipt"]["items"][0])

    def test_products_outside_the_chosen_categories_are_not_checked(self):
        other = self.env["product.category"].create({"name": "Вода"})
        self.company.l10n_ru_kkm_permissive_categ_ids = other
        receipt = self.sell(["OK18"]).l10n_ru_kkm_receipt_ids
        self.assertNotIn("sectoral_item_props", receipt.request_payload["receipt"]["items"][0])
        self.shoes.categ_id = self.env["product.category"].create({"name": "Обувь", "parent_id": other.id})
        receipt = self.sell(["OK19"]).l10n_ru_kkm_receipt_ids
        self.assertIn("sectoral_item_props", receipt.request_payload["receipt"]["items"][0])

    # -- settings -----------------------------------------------------------------------------

    def test_check_marking_connection_and_secrets(self):
        settings = self.env["res.config.settings"].create({})
        action = settings.action_l10n_ru_kkm_check_marking_connection()
        self.assertEqual(action["params"]["type"], "success", action["params"]["message"])
        self.assertIn("/marking/hosts/cdn02", action["params"]["message"])
        self.company.l10n_ru_kkm_mark_fallback = "local"
        self.sandbox.marking.configure(local_status="initialization")
        action = settings.action_l10n_ru_kkm_check_marking_connection()
        self.assertEqual(action["params"]["type"], "danger")
        self.assertIn("not ready", action["params"]["message"])
        accountant = self.company_user("marking_accountant", "account.group_account_manager")
        company = self.company.with_user(accountant)
        with self.assertRaises(AccessError):
            company.read(["l10n_ru_kkm_mark_api_key"])
        with self.assertRaises(AccessError):
            company.write({"l10n_ru_kkm_mark_api_key": "stolen"})
