"""How fast reconciliation answers on real volumes: a month of N invoices (100,000 by default).

Usage (normally through ``bash bench/run.sh --reconcile``, which makes a throwaway database)::

    python3 bench/reconcile.py --db DB --addons-path PATHS [--invoices N] [--template 200]

It posts ``--template`` real invoices with their receipts built (fiscalization on, sending
queued), marks the receipts registered, then copies those documents in SQL until the month holds
N invoices (their lines, taxes and receipts with them; copies are what the ORM would have made,
only faster to produce), and times, each three times:

1. ``l10n_ru_kkm.discrepancy._l10n_ru_kkm_reconcile`` over the month (every check);
2. the "Books against receipts" totals of the month grouped by day and VAT rate (the pivot).

Nothing leaves loopback. The database is left as it is (bench/run.sh drops it).
"""

import argparse
import math
import os
import statistics
import sys
import time
from datetime import date

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from posting_overhead import (
    boot_odoo,
    create_drafts,
    environment,
    post_one,
    refuse_non_loopback,
    setup_company,
)

MONTH = (date(2026, 11, 1), date(2026, 11, 30))
STRIDE = 1_000_000  # copied rows get id + k * STRIDE: above any id a fresh bench database holds


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--db", required=True, help="database with l10n_ru_kkm installed")
    parser.add_argument("--addons-path", required=True, help="Odoo addons path (as for odoo-bin)")
    parser.add_argument(
        "--invoices", type=int, default=100_000, help="invoices in the month (default 100000)"
    )
    parser.add_argument("--template", type=int, default=200, help="real invoices posted first (default 200)")
    return parser.parse_args()


def columns(cr, table):
    cr.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = %s ORDER BY ordinal_position",
        [table],
    )
    return [row[0] for row in cr.fetchall()]


def copy_rows(cr, table, where, overrides, copies):
    """Insert ``copies`` copies of the rows of ``table`` matching ``where``; ``overrides`` maps a
    column to its SQL expression (``k`` is the copy number, ``t`` the row)."""
    names = columns(cr, table)
    values = ", ".join(overrides.get(name, f"t.{name}") for name in names)
    cr.execute(
        f"INSERT INTO {table} ({', '.join(names)}) "  # the bench's own tables and columns
        f"SELECT {values} FROM {table} t CROSS JOIN generate_series(1, %s) k WHERE {where}",
        [copies],
    )
    return cr.rowcount


def populate(registry, company_id, partner_id, product_id, invoices, template):
    """``template`` real invoices with registered receipts, then SQL copies up to ``invoices``."""
    for move_id in create_drafts(registry, company_id, partner_id, product_id, template, 0):
        post_one(registry, company_id, move_id)
    with environment(registry) as env:
        cr = env.cr
        cr.execute(
            """
            UPDATE l10n_ru_kkm_receipt
               SET state = 'done', fn_number = '9999078900004792', fiscal_document_number = id,
                   fiscal_document_attribute = (1000000 + id)::text, receipt_datetime = '28.11.2026 12:00:00'
             WHERE company_id = %s
            """,
            [company_id],
        )
        cr.execute("DELETE FROM queue_job WHERE model_name = 'l10n_ru_kkm.receipt'")
        copies = math.ceil(invoices / template) - 1
        moves = f"company_id = {int(company_id)} AND move_type = 'out_invoice'"
        stride = f"k * {STRIDE}"
        copied = copy_rows(
            cr,
            "account_move",
            moves,
            {
                "id": f"t.id + {stride}",
                "name": "t.name || '-' || k",
                "sequence_number": f"t.sequence_number + k * {STRIDE}",
            },
            copies,
        )
        copy_rows(
            cr,
            "account_move_line",
            f"move_id IN (SELECT id FROM account_move WHERE {moves} AND id < {STRIDE})",
            {"id": f"t.id + {stride}", "move_id": f"t.move_id + {stride}"},
            copies,
        )
        copy_rows(
            cr,
            "account_move_line_account_tax_rel",
            f"account_move_line_id IN (SELECT l.id FROM account_move_line l JOIN account_move m ON m.id = l.move_id "
            f"WHERE m.{moves.replace(' AND ', ' AND m.')} AND l.id < {STRIDE})",
            {"account_move_line_id": f"t.account_move_line_id + {stride}"},
            copies,
        )
        copy_rows(
            cr,
            "l10n_ru_kkm_receipt",
            f"company_id = {int(company_id)} AND id < {STRIDE}",
            {
                "id": f"t.id + {stride}",
                "move_id": f"t.move_id + {stride}",
                "external_id": "t.external_id || '-' || k",
                "fiscal_document_number": f"t.fiscal_document_number + k * {len(str(STRIDE))}",
            },
            copies,
        )
        for table in ("account_move", "account_move_line", "l10n_ru_kkm_receipt"):
            cr.execute(f"SELECT setval('{table}_id_seq', (SELECT max(id) FROM {table}))")
        cr.execute(
            "ANALYZE account_move, account_move_line, account_move_line_account_tax_rel, l10n_ru_kkm_receipt"
        )
        return template + copied


def timed(function, rounds=3):
    seconds = []
    result = None
    for _ in range(rounds):
        started = time.perf_counter()
        result = function()
        seconds.append(time.perf_counter() - started)
    return statistics.median(seconds), result


def main():
    args = parse_args()
    registry = boot_odoo(args)
    refuse_non_loopback()
    company_id, partner_id, product_id = setup_company(registry, "http://127.0.0.1:9")
    with environment(registry) as env:
        env["res.company"].browse(company_id).write({"l10n_ru_kkm_enabled": True, "l10n_ru_kkm_async": True})
    started = time.perf_counter()
    total = populate(registry, company_id, partner_id, product_id, args.invoices, args.template)
    print(
        f"reconciliation bench on {args.db}: {total} invoices in the month ({time.perf_counter() - started:.0f} s to build)"
    )
    with environment(registry) as env:
        company = env["res.company"].browse(company_id)
        discrepancies = env["l10n_ru_kkm.discrepancy"]
        run, found = timed(lambda: discrepancies._l10n_ru_kkm_reconcile(company, *MONTH))
        print(f"reconcile the month (every check): median {run:.2f} s of 3 runs; {len(found)} discrepancies")
        totals = env["l10n_ru_kkm.reconciliation.total"]
        domain = [("company_id", "=", company_id), ("date", ">=", MONTH[0]), ("date", "<=", MONTH[1])]
        pivot, groups = timed(
            lambda: totals._read_group(
                domain, ["date:day", "vat_code"], ["ledger_gross:sum", "fiscal_gross:sum"]
            )
        )
        print(
            f"books against receipts, by day and VAT rate: median {pivot:.2f} s of 3 runs; {len(groups)} groups"
        )
        env.cr.rollback()  # the runs' discrepancies are not kept
    ok = not found
    print("check: the copied month reconciles" if ok else "check: FAILED, discrepancies in a clean month")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
