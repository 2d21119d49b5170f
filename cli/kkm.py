"""``odoo-bin [--addons-path=...] kkm COMMAND -d DATABASE``: fiscal receipts from a terminal.

Odoo loads this file as ``odoo.cli.kkm`` without importing the addon, so it only parses the
arguments and calls the addon's ``l10n_ru_kkm.cli`` model; absolute imports only.
"""

import argparse
import sys

from odoo import api
from odoo.cli import Command
from odoo.modules.registry import Registry
from odoo.tools import config


class Kkm(Command):
    """Send, resend, re-issue and poll fiscal receipts, print the report, reconcile a period"""

    def run(self, cmdargs):
        parser = self.parser
        parser.add_argument("-c", "--config", help="Odoo configuration file")
        parser.add_argument("-d", "--database", required=True, help="database")
        commands = parser.add_subparsers(dest="command", required=True)
        send = commands.add_parser("send", help="register the receipts of an invoice now")
        send.add_argument("invoice", help="invoice number (e.g. INV/2026/00001) or database id")
        resend = commands.add_parser("resend", help="rebuild and send the failed receipts of an invoice")
        resend.add_argument("invoice", help="invoice number or database id")
        resell = commands.add_parser(
            "resell", help="refund the registered sale of an invoice and sell it again"
        )
        resell.add_argument("invoice", help="invoice number or database id")
        commands.add_parser("poll", help="ask the service for the results of accepted receipts")
        report = commands.add_parser("report", help="print the report of a period")
        report.add_argument("--from", dest="date_from", required=True, help="first day, YYYY-MM-DD")
        report.add_argument("--to", dest="date_to", required=True, help="last day, YYYY-MM-DD")
        report.add_argument("--company", help="company name or id (default: every enabled company)")
        reconcile = commands.add_parser(
            "reconcile", help="compare the books with the registered receipts (exit 1 when they disagree)"
        )
        reconcile.add_argument("--from", dest="date_from", required=True, help="first day, YYYY-MM-DD")
        reconcile.add_argument("--to", dest="date_to", required=True, help="last day, YYYY-MM-DD")
        reconcile.add_argument("--company", help="company name or id (default: every enabled company)")
        args = parser.parse_args(cmdargs)

        odoo_args = ["--no-http", "-d", args.database]
        if args.config:
            odoo_args += ["-c", args.config]
        config.parse_config(odoo_args, setup_logging=True)
        registry = Registry(args.database)
        with registry.cursor() as cr:
            env = api.Environment(cr, api.SUPERUSER_ID, {})
            options = {key: value for key, value in vars(args).items() if key not in ("config", "database")}
            code, output = env["l10n_ru_kkm.cli"]._run(options)
        sys.stdout.write(output + "\n")
        sys.exit(code)


if __name__ == "__main__":  # pragma: no cover - only through odoo-bin
    argparse.ArgumentParser().error("run it as: odoo-bin kkm --help")
