"""Polling at volume, within ATOL's pace: N receipts waiting for their result, drained by
several cron workers at once.

Usage (normally through ``bash bench/run.sh --polling``, which makes a throwaway database)::

    python3 bench/polling.py --db DB --addons-path PATHS [--receipts 10000] [--groups 50] [--workers 2]

It starts the sandbox in this process (done delay 0: every result is ready), posts and sends one
invoice per register group, then registers N documents at the sandbox and copies the receipts
in SQL (state ``sent``, a document each, due now). ``--workers`` threads, each with cursors of
its own as the cron workers of several servers have, then run the status-polling cron until
nothing is pending. It prints the time to drain against the theoretical minimum (N ÷ groups
status requests per group, one per second), SQL queries per receipt, and the pace the sandbox
saw: the shortest gap between two status requests of one group (never under 1 s). Exit status
1 if a receipt is not done or the pace was broken.
"""

import argparse
import logging
import os
import sys
import threading
import time

import requests

BENCH = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(BENCH)
sys.path.insert(0, BENCH)

import posting_overhead as common  # noqa: E402 (the bench folder is not a package)
import throughput  # noqa: E402

ATOL_RATE = 1.0  # status requests per second per group (ATOL protocol §6.3)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--db", required=True)
    parser.add_argument("--addons-path", required=True)
    parser.add_argument("--receipts", type=int, default=10000)
    parser.add_argument("--groups", type=int, default=50)
    parser.add_argument("--workers", type=int, default=2, help="cron workers polling at once")
    return parser.parse_args()


def templates(registry, sandbox, setup_ids, groups):
    """One sent receipt per group (a real posting and send): the rows the copies repeat."""
    company_id, partner_id, product_ids = setup_ids
    moves = throughput.create_drafts(registry, company_id, partner_id, product_ids, groups, 0)
    throughput.post_in_process(registry, company_id, moves)
    with common.environment(registry) as env:
        receipts = env["l10n_ru_kkm.receipt"].search([("move_id", "in", moves)])
        env["queue.job"].search([("model_name", "=", "l10n_ru_kkm.receipt")]).unlink()
    for receipt_id in receipts.ids:
        with common.environment(registry) as env:
            env["l10n_ru_kkm.receipt"].browse(receipt_id)._l10n_ru_kkm_send()
    with common.environment(registry) as env:
        sent = env["l10n_ru_kkm.receipt"].search([("id", "in", receipts.ids), ("state", "=", "sent")])
        return [
            (r.id, r._l10n_ru_kkm_cash_register().atol_login, r.group_code, r.request_payload) for r in sent
        ]


def copy_receipts(registry, sandbox, rows, count):
    """``count`` receipts in ``sent``, spread over the template rows, each with a document the
    sandbox registered (under a new external id)."""
    sessions = {}
    with common.environment(registry) as env:
        env.cr.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'l10n_ru_kkm_receipt' "
            "AND column_name NOT IN ('id', 'external_id', 'vendor_uuid', 'next_poll_at', 'poll_count', 'part', "
            "'part_count', 'request_payload')"
        )
        columns = [row[0] for row in env.cr.fetchall()]
        listed = ", ".join(f'"{name}"' for name in columns)
        for number in range(count):
            template_id, login, group, payload = rows[number % len(rows)]
            if login not in sessions:
                token = requests.post(
                    f"{sandbox.url}/possystem/v4/getToken",
                    json={"login": login, "pass": "bench-pass"},
                    timeout=10,
                ).json()["token"]
                sessions[login] = token
            external_id = f"bench-poll-{number}"
            answer = requests.post(
                f"{sandbox.url}/possystem/v4/{group}/sell",
                json=dict(payload, external_id=external_id),
                headers={"Token": sessions[login]},
                timeout=10,
            ).json()
            env.cr.execute(
                # A part number of its own: one open receipt per invoice and part (the copies share
                # their template's invoice).
                # The frozen request names its own external id (the report is compared with it).
                f"INSERT INTO l10n_ru_kkm_receipt ({listed}, external_id, vendor_uuid, poll_count, part, "
                f"part_count, request_payload) SELECT {listed}, %s, %s, 0, %s, %s, "
                "jsonb_set(request_payload, '{external_id}', to_jsonb(%s::text)) FROM l10n_ru_kkm_receipt WHERE id = %s",
                (external_id, answer["uuid"], number + 2, number + 2, external_id, template_id),
            )
        env.cr.execute("UPDATE l10n_ru_kkm_receipt SET next_poll_at = NULL WHERE state = 'sent'")


def drain(registry, company_id, workers):
    """Run the poll cron in ``workers`` threads until nothing is pending; (seconds, queries)."""
    queries = [0] * workers

    def work(index):
        thread = threading.current_thread()
        thread.query_count = 0
        while True:
            with common.environment(registry) as env:
                env["l10n_ru_kkm.receipt"]._cron_l10n_ru_kkm_poll()
            with common.environment(registry) as env:
                pending = env["l10n_ru_kkm.receipt"].search_count(
                    [("company_id", "=", company_id), ("state", "=", "sent")]
                )
            if not pending:
                break
        queries[index] = thread.query_count

    started = time.monotonic()
    threads = [threading.Thread(target=work, args=(index,)) for index in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.monotonic() - started, sum(queries)


DEPARTURES = []  # (monotonic time, group) of every status request as it leaves the client


def record_departures():
    """Note when each status request leaves (the pace is the client's; the sandbox shares this
    process's CPU with the workers, and its own clock adds its queueing)."""
    import requests.adapters

    send = requests.adapters.HTTPAdapter.send

    def noted(adapter, request, *args, **kwargs):
        segments = request.path_url.split("?")[0].strip("/").split("/")
        if request.method == "GET" and "report" in segments[1:]:
            DEPARTURES.append((time.monotonic(), segments[segments.index("report") - 1]))
        return send(adapter, request, *args, **kwargs)

    requests.adapters.HTTPAdapter.send = noted


def narrowest_gap(moments):
    last, narrowest = {}, float("inf")
    for moment, group in sorted(moments):
        if group in last:
            narrowest = min(narrowest, moment - last[group])
        last[group] = moment
    return narrowest


def main():
    args = parse_args()
    registry = common.boot_odoo(args)
    sys.path.insert(0, REPO)
    from sandbox.server import Sandbox

    logging.getLogger("kkm_sandbox").setLevel(logging.WARNING)  # one line per exchange otherwise
    with Sandbox(seed=9, done_delay=0, quiet=True) as sandbox:
        setup_ids = throughput.setup(registry, sandbox, args.groups)
        company_id = setup_ids[0]
        try:
            throughput.clean(registry, company_id)
            rows = templates(registry, sandbox, setup_ids, args.groups)
            copy_receipts(registry, sandbox, rows, args.receipts - len(rows))
            with common.environment(registry) as env:
                total = env["l10n_ru_kkm.receipt"].search_count(
                    [("company_id", "=", company_id), ("state", "=", "sent")]
                )
            sandbox.report_log.clear()
            record_departures()
            seconds, queries = drain(registry, company_id, args.workers)
            with common.environment(registry) as env:
                done = env["l10n_ru_kkm.receipt"].search_count(
                    [("company_id", "=", company_id), ("state", "=", "done")]
                )
            minimum = total / (args.groups * ATOL_RATE)
            gap = narrowest_gap(DEPARTURES)
            arrived = narrowest_gap(sandbox.report_requests())
            asked = len(DEPARTURES)
            print(
                f"polling {total} receipts over {args.groups} groups with {args.workers} cron workers: drained in "
                f"{seconds:.0f} s vs {minimum:.0f} s minimum at ATOL's pace (x{seconds / minimum:.2f}); "
                f"{asked} status requests, {queries / max(1, total):.2f} SQL queries per receipt; "
                f"narrowest gap between two requests of one group {gap:.3f} s as they left "
                f"({arrived:.3f} s as the in-process sandbox saw them arrive); {done}/{total} done",
                flush=True,
            )
            ok = done == total and gap >= 1.0 - 0.02
        finally:
            throughput.clean(registry, company_id)
            common.cleanup(registry, company_id)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
