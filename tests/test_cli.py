import os
import subprocess
import sys

from odoo.tests import tagged
from odoo.tools import config

from .common import GROUP, KkmTestCommon
from .test_install import ODOO_BIN


@tagged("post_install", "-at_install")
class TestCli(KkmTestCommon):
    """``odoo-bin kkm``: each subcommand's output and exit status."""

    def _run(self, **options):
        return self.env["l10n_ru_kkm.cli"]._run(options)

    def test_send_registers_the_receipt_of_an_invoice(self):
        self.company.l10n_ru_kkm_async = False
        self.atol.token_ok()
        self.atol.register_ok(uuid="u-cli")
        self.atol.report_done(uuid="u-cli")
        move = self.post_invoice()
        code, output = self._run(command="send", invoice=move.name)
        self.assertEqual(code, 0, output)
        self.assertIn("Done", output)
        self.assertIn("FN 9999078900004792", output)
        self.assertEqual(len(self.atol.calls_to(f"{GROUP}/sell")), 1)

    def test_send_fails_for_an_unknown_invoice(self):
        code, output = self._run(command="send", invoice="INV/1999/99999")
        self.assertEqual(code, 1)
        self.assertIn("No single customer invoice", output)

    def test_send_reports_a_refusal_with_a_failing_status(self):
        self.atol.token_ok()
        self.atol.register_error(32, "Ошибка валидации: receipt.items")
        move = self.post_invoice()
        code, output = self._run(command="send", invoice=str(move.id))
        self.assertEqual(code, 1)
        self.assertIn("Ошибка валидации", output)

    def test_resend_after_the_data_was_fixed(self):
        self.partner_a.write({"email": False, "phone": False})
        move = self.post_invoice()
        code, output = self._run(command="resend", invoice=move.name)
        self.assertEqual(code, 1)
        self.assertIn("neither an e-mail nor a phone", output)
        self.partner_a.email = "fixed@example.ru"
        self.atol.token_ok()
        self.atol.register_ok(uuid="u-fixed")
        self.atol.report_done(uuid="u-fixed")
        code, output = self._run(command="resend", invoice=move.name)
        self.assertEqual(code, 0, output)
        self.env.invalidate_all()  # the command worked in transactions of its own
        self.assertEqual(move.l10n_ru_kkm_receipt_ids.state, "done")

    def test_resell_refunds_and_sells_again(self):
        self.company.l10n_ru_kkm_async = False
        self.atol.token_ok()
        for uuid, operation in (("u-1", "sell"), ("u-2", "sell_refund"), ("u-3", "sell")):
            self.atol.register_ok(uuid=uuid, operation=operation)
            self.atol.report_done(uuid=uuid)
        move = self.post_invoice()
        self.assertEqual(self._run(command="send", invoice=move.name)[0], 0)
        code, output = self._run(command="resell", invoice=move.name)
        self.assertEqual(code, 0, output)
        self.assertIn("Sale refund", output)
        self.env.invalidate_all()
        receipts = move.l10n_ru_kkm_receipt_ids.sorted("id")
        self.assertEqual(receipts.mapped("operation"), ["sell", "sell_refund", "sell"])
        self.assertEqual(set(receipts.mapped("state")), {"done"})
        code, output = self._run(command="resell", invoice="INV/1999/1")
        self.assertEqual(code, 1)

    def test_poll_counts_what_it_asked(self):
        self.atol.token_ok()
        self.atol.register_ok(uuid="u-poll")
        self.atol.report_done(uuid="u-poll")
        receipt = self.post_invoice().l10n_ru_kkm_receipt_ids
        receipt._l10n_ru_kkm_send()
        code, output = self._run(command="poll")
        self.assertEqual(code, 0)
        self.assertIn("1 receipt(s) asked: 1 done", output)

    def test_report_prints_the_figures_and_fails_when_something_needs_attention(self):
        today = "2026-11-28"
        code, output = self._run(command="report", date_from="2020-01-01", date_to="2020-01-31", company=None)
        self.assertEqual(code, 0, output)
        self.assertIn("created 0, registered 0, waiting 0, failed 0", output)
        self.partner_a.write({"email": False, "phone": False})
        move = self.post_invoice()
        code, output = self._run(
            command="report", date_from="2020-01-01", date_to=today, company=self.company.name
        )
        self.assertEqual(code, 1)
        self.assertIn(move.name, output)
        code, output = self._run(command="report", date_from="28.11.2026", date_to=today, company=None)
        self.assertEqual(code, 2)


@tagged("post_install", "-at_install")
class TestCliEntryPoint(KkmTestCommon):
    """The command as an administrator types it, in a process of its own."""

    def _odoo_bin(self, *args):
        database = config["db_name"] if isinstance(config["db_name"], str) else config["db_name"][0]
        command = [sys.executable, ODOO_BIN, f"--addons-path={self._addons()}", "kkm", "-d", database, *args]
        return subprocess.run(
            command, capture_output=True, text=True, timeout=300, check=False, env=dict(os.environ)
        )

    def test_help_lists_the_subcommands(self):
        result = subprocess.run(
            [sys.executable, ODOO_BIN, f"--addons-path={self._addons()}", "kkm", "--help"],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        self.assertEqual(result.returncode, 0, result.stderr[-2000:])
        for subcommand in ("send", "resend", "resell", "poll", "report"):
            self.assertIn(subcommand, result.stdout)

    def test_unknown_invoice_exits_with_an_error(self):
        result = self._odoo_bin("send", "NO-SUCH-INVOICE")
        self.assertEqual(result.returncode, 1, result.stderr[-2000:])
        self.assertIn("No single customer invoice", result.stdout)

    def test_report_runs_on_the_database(self):
        result = self._odoo_bin("report", "--from", "2020-01-01", "--to", "2020-01-02")
        self.assertEqual(result.returncode, 0, result.stderr[-2000:])

    @staticmethod
    def _addons():
        addons = config["addons_path"]
        return addons if isinstance(addons, str) else ",".join(addons)
