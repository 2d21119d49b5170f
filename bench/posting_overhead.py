"""What fiscalization costs: posting overhead, and SQL queries and time per receipt.

Usage (normally through ``bash bench/run.sh``, which makes a throwaway database)::

    python3 bench/posting_overhead.py --db DB --addons-path PATHS [--invoices N]

DB must have l10n_ru_kkm installed and no queue_job runner or cron worker serving it (the
benchmark commits its own data and removes it at the end). It

1. posts N invoices one by one, each in its own transaction as a user would, alternating small
   rounds with fiscalization disabled and enabled (asynchronous mode: the receipt and its
   request are built and its send job queued in the posting transaction), and prints the
   overhead ratio of the posting (target: within 5 %);
2. starts the project's sandbox on 127.0.0.1, runs the send job of every receipt (one
   transaction each, as the job runner does), then the status-polling cron until nothing is
   pending, and prints SQL queries and wall time per receipt for both.

Only loopback is used: any HTTP request to another host is refused. It stops by itself.
"""

import argparse
import logging
import os
import statistics
import sys
import threading
import time
from contextlib import contextmanager
from datetime import timedelta
from unittest.mock import patch
from urllib.parse import urlsplit

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COMPANY_NAME = "l10n_ru_kkm benchmark"
SALE_DATE = "2026-11-28"
LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--db", required=True, help="database with l10n_ru_kkm installed")
    parser.add_argument("--addons-path", required=True, help="Odoo addons path (as for odoo-bin)")
    parser.add_argument("--invoices", type=int, default=200, help="invoices per mode (default 200)")
    parser.add_argument("--round", type=int, default=10, help="invoices per alternating round")
    return parser.parse_args()


def boot_odoo(args):
    from odoo.tools import config

    config.parse_config(
        [
            "-d",
            args.db,
            f"--addons-path={args.addons_path}",
            "--log-level=warn",
            "--http-interface=127.0.0.1",
            "--max-cron-threads=0",
        ]
    )
    from odoo.modules.registry import Registry

    return Registry(args.db)


def refuse_non_loopback():
    """Any HTTP request leaving loopback is an error in this benchmark."""
    import requests.adapters

    send = requests.adapters.HTTPAdapter.send

    def loopback_only(adapter, request, *args, **kwargs):
        host = urlsplit(request.url).hostname
        if host not in LOOPBACK:
            raise RuntimeError(f"benchmark refuses a request to {host}: loopback only")
        return send(adapter, request, *args, **kwargs)

    requests.adapters.HTTPAdapter.send = loopback_only


class Meter:
    """Wall time and SQL queries of a block, over every cursor of this thread (the module
    logs exchanges and stores tokens in cursors of their own)."""

    def __init__(self):
        self.seconds, self.queries = [], []

    @contextmanager
    def measure(self):
        thread = threading.current_thread()
        thread.query_count = 0
        started = time.perf_counter()
        try:
            yield
        finally:
            self.seconds.append(time.perf_counter() - started)
            self.queries.append(thread.query_count)
            del thread.query_count

    def line(self, label, per=1):
        count = len(self.seconds)
        total_s, total_q = sum(self.seconds), sum(self.queries)
        ms = sorted(1000 * s for s in self.seconds)
        p95 = ms[min(len(ms) - 1, int(0.95 * len(ms)))]
        return (
            f"{label:<34} n={count // per if per > 1 else count:<4} "
            f"wall/receipt {1000 * total_s / max(1, count // per if per > 1 else count):7.1f} ms "
            f"(median {statistics.median(ms):6.1f}, p95 {p95:6.1f}) "
            f"queries/receipt {total_q / max(1, count // per if per > 1 else count):6.1f}"
        )


@contextmanager
def environment(registry):
    from odoo import SUPERUSER_ID, api

    with registry.cursor() as cr:
        yield api.Environment(cr, SUPERUSER_ID, {})


def setup_company(registry, sandbox_url):
    """A RUB company with a chart of accounts (created once per database), pointed at the
    sandbox; its customer and a VAT 22 % tax."""
    from odoo import Command

    with environment(registry) as env:
        rub = env.ref("base.RUB")
        company = env["res.company"].search([("name", "=", COMPANY_NAME)], limit=1)
        if not company:
            rub.active = True
            company = env["res.company"].create(
                {"name": COMPANY_NAME, "currency_id": rub.id, "country_id": env.ref("base.ru").id}
            )
            env["account.chart.template"].try_loading("generic_coa", company, install_demo=False)
            company.currency_id = rub
        company.write(
            {
                "l10n_ru_kkm_enabled": False,
                "l10n_ru_kkm_vendor": "atol_v4",
                "l10n_ru_kkm_test_mode": True,
                "l10n_ru_kkm_service_url": f"{sandbox_url}/possystem",
                "l10n_ru_kkm_atol_login": "v4-online-atol-ru",
                "l10n_ru_kkm_atol_password": "iGFFuihss",
                "l10n_ru_kkm_atol_group_code": "v4-online-atol-ru_4179",
                "l10n_ru_kkm_atol_token": False,
                "l10n_ru_kkm_atol_token_expiry": False,
                "l10n_ru_kkm_inn": "5544332219",
                "l10n_ru_kkm_payment_address": "https://shop.example.ru",
                "l10n_ru_kkm_email": "shop@example.ru",
                "l10n_ru_kkm_sno": "osn",
                "l10n_ru_kkm_callback": False,
                "l10n_ru_kkm_async": True,
                "l10n_ru_kkm_trigger": "post",
            }
        )
        env = env(context={"allowed_company_ids": company.ids})
        partner = env["res.partner"].create(
            {"name": "Benchmark buyer", "email": "buyer@example.ru", "company_id": company.id}
        )
        tax = env["account.tax"].search(
            [("company_id", "=", company.id), ("l10n_ru_kkm_vat_code", "=", "vat22")], limit=1
        ) or env["account.tax"].create(
            {
                "name": "НДС 22% (incl., benchmark)",
                "amount": 22,
                "amount_type": "percent",
                "price_include_override": "tax_included",
                "type_tax_use": "sale",
                "company_id": company.id,
                "l10n_ru_kkm_vat_code": "vat22",
            }
        )
        product = env["product.product"].create(
            {
                "name": "Benchmark product",
                "type": "consu",
                "company_id": company.id,
                "taxes_id": [Command.set(tax.ids)],
            }
        )
        return company.id, partner.id, product.id


def create_drafts(registry, company_id, partner_id, product_id, count, offset):
    """``count`` draft invoices with distinct totals (not timed)."""
    from odoo import Command

    with environment(registry) as env:
        env = env(context={"allowed_company_ids": [company_id]})
        moves = env["account.move"].create(
            [
                {
                    "move_type": "out_invoice",
                    "partner_id": partner_id,
                    "invoice_date": SALE_DATE,
                    "invoice_line_ids": [
                        Command.create(
                            {"product_id": product_id, "quantity": 1, "price_unit": 1000 + number}
                        ),
                        Command.create(
                            {"product_id": product_id, "quantity": 2, "price_unit": 99.9, "discount": 10}
                        ),
                    ],
                }
                for number in range(offset, offset + count)
            ]
        )
        return moves.ids


def set_fiscalization(registry, company_id, enabled):
    with environment(registry) as env:
        env["res.company"].browse(company_id).l10n_ru_kkm_enabled = enabled


def post_one(registry, company_id, move_id):
    """Post one invoice in its own transaction, as the invoice form's button does."""
    with environment(registry) as env:
        env = env(context={"allowed_company_ids": [company_id]})
        env["account.move"].browse(move_id).action_post()


def bench_posting(registry, company_id, partner_id, product_id, invoices, round_size):
    meters = {False: Meter(), True: Meter()}
    offset = 0
    # One untimed round per mode first: caches, prepared plans, the first sequence numbers.
    for enabled in (False, True):
        set_fiscalization(registry, company_id, enabled)
        for move_id in create_drafts(registry, company_id, partner_id, product_id, round_size, offset):
            post_one(registry, company_id, move_id)
        offset += round_size
    done = 0
    while done < invoices:
        size = min(round_size, invoices - done)
        for enabled in (False, True):
            set_fiscalization(registry, company_id, enabled)
            for move_id in create_drafts(registry, company_id, partner_id, product_id, size, offset):
                with meters[enabled].measure():
                    post_one(registry, company_id, move_id)
            offset += size
        done += size
    return meters


def receipts_of(registry, company_id, states=None):
    with environment(registry) as env:
        domain = [("company_id", "=", company_id)]
        if states:
            domain.append(("state", "in", states))
        return env["l10n_ru_kkm.receipt"].search(domain, order="id").ids


def drop_queued_jobs(registry, receipt_ids):
    """The posting queued send jobs; the benchmark runs the job method itself."""
    with environment(registry) as env:
        jobs = env["queue.job"].search([("model_name", "=", "l10n_ru_kkm.receipt")])
        jobs.filtered(lambda job: set(job.records.ids) & set(receipt_ids)).unlink()


def bench_send(registry, receipt_ids, batch=1):
    """Send jobs of ``batch`` receipts each (1: the job queued at posting; 10: ``kkm send`` or
    *Send receipt* on several invoices); the meter counts per job."""
    meter = Meter()
    for start in range(0, len(receipt_ids), batch):
        with meter.measure(), environment(registry) as env:
            env["l10n_ru_kkm.receipt"].browse(receipt_ids[start : start + batch])._l10n_ru_kkm_job_send()
    return meter


@contextmanager
def protocol_waits_off():
    """The cron waits POLL_SPACING (1 s) between two status requests to one group, as ATOL
    asks, and for each result to be due: those waits are the protocol's, not a cost; they are
    left out here (bench/throughput.py measures them)."""
    from odoo.addons.l10n_ru_kkm.models.l10n_ru_kkm_receipt import polling

    with (
        patch.object(polling, "POLL_SPACING", 0.0),
        patch.object(polling, "FIRST_POLL_AFTER", timedelta(0)),
        patch.object(polling, "WAIT_AHEAD", 0.0),
    ):
        yield


def bench_poll(registry, company_id, expected):
    """Run the status-polling cron until no receipt is pending; time per polled receipt."""
    meter, calls = Meter(), 0
    with protocol_waits_off():
        while receipts_of(registry, company_id, ("sent", "unknown")) and calls < 10 * expected:
            with meter.measure(), environment(registry) as env:
                env["l10n_ru_kkm.receipt"]._cron_l10n_ru_kkm_poll()
            calls += 1
    return meter


def cleanup(registry, company_id):
    with environment(registry) as env:
        receipts = env["l10n_ru_kkm.receipt"].search([("company_id", "=", company_id)])
        jobs = env["queue.job"].search([("model_name", "=", "l10n_ru_kkm.receipt")])
        jobs.filtered(lambda job: set(job.records.ids) & set(receipts.ids)).unlink()
        receipts.unlink()
        moves = env["account.move"].search([("company_id", "=", company_id)])
        moves.filtered(lambda move: move.state != "draft").button_draft()
        moves.unlink()
        env["res.company"].browse(company_id).write(
            {"l10n_ru_kkm_enabled": False, "l10n_ru_kkm_service_url": False}
        )


def main():
    args = parse_args()
    started = time.monotonic()
    registry = boot_odoo(args)
    logging.getLogger("kkm_sandbox").setLevel(logging.WARNING)  # one line per exchange otherwise
    refuse_non_loopback()
    sys.path.insert(0, REPO)
    from sandbox.server import Sandbox

    with Sandbox(seed=1, done_delay=0, quiet=True) as sandbox:
        company_id, partner_id, product_id = setup_company(registry, sandbox.url)
        try:
            print(
                f"l10n_ru_kkm benchmark on {args.db}: {args.invoices} invoices per mode, sandbox {sandbox.url}"
            )
            meters = bench_posting(registry, company_id, partner_id, product_id, args.invoices, args.round)
            off, on = meters[False], meters[True]
            print(off.line("post, fiscalization disabled"))
            print(on.line("post, fiscalization enabled (async)"))
            ratio = sum(on.seconds) / sum(off.seconds)
            verdict = "within" if ratio <= 1.05 else "ABOVE"
            print(
                f"posting overhead: x{ratio:.3f} ({100 * (ratio - 1):+.1f} %), {verdict} the 5 % target; "
                f"+{statistics.mean(on.queries) - statistics.mean(off.queries):.1f} queries per invoice"
            )

            receipt_ids = receipts_of(registry, company_id)
            drop_queued_jobs(registry, receipt_ids)
            half = len(receipt_ids) // 2 // 10 * 10
            with protocol_waits_off():
                send = bench_send(registry, receipt_ids[half:])
                batched = bench_send(registry, receipt_ids[:half], batch=10)
            print(send.line("send job (register + token once)"))
            if half:
                print(
                    f"{'send, 10 receipts per call':<34} n={half:<4} "
                    f"wall/receipt {1000 * sum(batched.seconds) / half:7.1f} ms "
                    f"queries/receipt {sum(batched.queries) / half:6.1f}"
                )
            poll = bench_poll(registry, company_id, len(receipt_ids))
            polled = len(receipt_ids)
            print(
                f"{'poll cron (POLL_SPACING=0)':<34} n={polled:<4} "
                f"wall/receipt {1000 * sum(poll.seconds) / polled:7.1f} ms "
                f"({len(poll.seconds)} cron runs) queries/receipt {sum(poll.queries) / polled:6.1f}"
            )
            done = receipts_of(registry, company_id, ("done",))
            ledger = sandbox.ledger()
            print(
                f"check: {len(done)}/{len(receipt_ids)} receipts done; sandbox documents {ledger['count']}, "
                f"duplicates by id {ledger['duplicates_by_id']['count']}, "
                f"by content {ledger['duplicates_by_content']['count']}"
            )
            ok = len(done) == len(receipt_ids) == ledger["count"] and not ledger["duplicates_by_id"]["count"]
        finally:
            cleanup(registry, company_id)
    print(f"finished in {time.monotonic() - started:.0f} s")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
