"""Throughput at the service's bound, polling within the protocol, and several Odoo servers.

Usage (normally through ``bash bench/run.sh --throughput``, which makes a throwaway database)::

    python3 bench/throughput.py --db DB --addons-path PATHS [--receipts N] [--capacities 1,2,4,8]

DB must have l10n_ru_kkm installed and no Odoo server running on it. The benchmark starts the
project's sandbox in this process (ATOL v4 on 127.0.0.1, every answer ``--latency`` ± ``--jitter``
seconds, ``--groups`` cash register groups), then for each queue_job channel capacity C:

1. posts N invoices (one receipt each, routed round-robin to the groups' registers by product
   category) while no server runs: N send jobs wait;
2. starts a real ``odoo-bin`` server (``--workers``, one cron worker, queue_job's runner with
   ``root.l10n_ru_kkm:C``) and watches the database until every receipt is done;
3. prints the sending rate (posting to accepted) against the bound C ÷ latency, the draining
   rate (accepted to done, by the poll cron) against the protocol's bound (one status request
   per second per group), and the peak RSS of the server's processes;
4. checks the sandbox's ledger: one document per receipt, no duplicate.

Then ``--servers-receipts`` invoices are posted over XML-RPC to one server, then to two servers
(each with its workers and its own runner, queue_job's runners electing one master that
dispatches through a round-robin proxy to both), with sandbox faults on, and the rates are
compared; every invoice must be registered exactly once. Exit status 1 on any check failing.
"""

import argparse
import contextlib
import logging
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import xmlrpc.client

BENCH = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(BENCH)
sys.path.insert(0, BENCH)

import posting_overhead as common  # noqa: E402 (the bench folder is not a package)

SPACING = 1.2  # l10n_ru_kkm's POLL_SPACING: one status request per group every 1.2 s
FAULTS = {
    "http_5xx": {"probability": 0.03, "targets": ["register", "report"]},
    "lost_answer": {"probability": 0.03, "targets": ["register"]},
    "drop": {"probability": 0.02, "targets": ["register", "report"]},
}


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--db", required=True)
    parser.add_argument("--addons-path", required=True)
    parser.add_argument("--receipts", type=int, default=1000, help="receipts per capacity (default 1000)")
    parser.add_argument("--capacities", default="1,2,4,8", help="queue_job channel capacities")
    parser.add_argument("--latency", type=float, default=0.15, help="service latency, seconds")
    parser.add_argument("--jitter", type=float, default=0.03, help="latency jitter, ± seconds")
    parser.add_argument("--groups", type=int, default=20, help="cash register groups (registers)")
    parser.add_argument("--workers", type=int, default=0, help="HTTP workers (default capacity + 2)")
    parser.add_argument("--servers-receipts", type=int, default=1000, help="invoices of the two-server run")
    parser.add_argument("--servers-capacity", type=int, default=4)
    parser.add_argument("--odoo-bin", default="", help="odoo-bin to start (default: beside odoo)")
    parser.add_argument("--timeout", type=float, default=900, help="seconds per run before giving up")
    return parser.parse_args()


# -- set-up ------------------------------------------------------------------------------


def setup(registry, sandbox, groups):
    """The benchmark company pointed at the sandbox, one register per group, each taking the
    receipts of its own product category; returns (company_id, partner_id, product_ids)."""
    from odoo import Command

    company_id, partner_id, _product_id = common.setup_company(registry, sandbox.url)
    clean(registry, company_id)  # what an interrupted run left refers to the old registers
    product_ids = []
    with common.environment(registry) as env:
        company = env["res.company"].browse(company_id)
        # Faults are retried after a minute, not after the default longer intervals.
        company.write(
            {"l10n_ru_kkm_enabled": True, "l10n_ru_kkm_callback": False, "l10n_ru_kkm_retry_intervals": "1"}
        )
        env = env(context={"allowed_company_ids": [company_id]})
        tax = env["account.tax"].search(
            [("company_id", "=", company_id), ("l10n_ru_kkm_vat_code", "=", "vat22")]
        )
        registers = env["l10n_ru_kkm.register"].with_context(active_test=False)
        registers.search([("company_id", "=", company_id), ("name", "like", "bench group %")]).unlink()
        for number in range(groups):
            login, group = f"bench-{number}", f"bench-group-{number}"
            sandbox.add_account(login, "bench-pass", group, "5544332219", versions=("v4",))
            category = env["product.category"].create({"name": f"bench category {number}"})
            product_ids.append(
                env["product.product"]
                .create(
                    {
                        "name": f"Benchmark product {number}",
                        "type": "consu",
                        "categ_id": category.id,
                        "company_id": company_id,
                        "taxes_id": [Command.set(tax[:1].ids)],
                    }
                )
                .id
            )
            registers.create(
                {
                    "name": f"bench group {number}",
                    "company_id": company_id,
                    "vendor": "atol_v4",
                    "test_mode": True,
                    "service_url": f"{sandbox.url}/possystem",
                    "atol_login": login,
                    "atol_password": "bench-pass",
                    "atol_group_code": group,
                    "payment_address": "https://shop.example.ru",
                    "email": "shop@example.ru",
                    "callback": False,
                    "categ_ids": [Command.set(category.ids)],
                }
            )
    return company_id, partner_id, product_ids


def create_drafts(registry, company_id, partner_id, product_ids, count, offset):
    from odoo import Command

    with common.environment(registry) as env:
        env = env(context={"allowed_company_ids": [company_id]})
        return (
            env["account.move"]
            .create(
                [
                    {
                        "move_type": "out_invoice",
                        "partner_id": partner_id,
                        "invoice_date": common.SALE_DATE,
                        "invoice_line_ids": [
                            Command.create(
                                {
                                    "product_id": product_ids[number % len(product_ids)],
                                    "quantity": 1,
                                    "price_unit": 100 + number % 5000,
                                }
                            )
                        ],
                    }
                    for number in range(offset, offset + count)
                ]
            )
            .ids
        )


def post_in_process(registry, company_id, move_ids, batch=100):
    for start in range(0, len(move_ids), batch):
        with common.environment(registry) as env:
            env = env(context={"allowed_company_ids": [company_id]})
            env["account.move"].browse(move_ids[start : start + batch]).action_post()


def counts(registry, company_id):
    with common.environment(registry) as env:
        env.cr.execute(
            "SELECT state, count(*) FROM l10n_ru_kkm_receipt WHERE company_id = %s GROUP BY state",
            (company_id,),
        )
        return dict(env.cr.fetchall())


def clean(registry, company_id):
    """Receipts, jobs, invoices and pace of earlier runs: each run starts from nothing pending."""
    with common.environment(registry) as env:
        env.cr.execute(
            "DELETE FROM queue_job WHERE model_name = 'l10n_ru_kkm.receipt'; DELETE FROM l10n_ru_kkm_poll_pace;"
        )
        receipts = env["l10n_ru_kkm.receipt"].search([("company_id", "=", company_id)])
        receipts.unlink()
        moves = env["account.move"].search([("company_id", "=", company_id)])
        moves.filtered(lambda move: move.state != "draft").button_draft()
        moves.unlink()


# -- servers -----------------------------------------------------------------------------


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """``odoo-bin`` with workers, one cron worker and queue_job's runner, on ``db``."""

    def __init__(self, args, capacity, workers, runner_port=None, name="server"):
        self.port, self.gevent_port = free_port(), free_port()
        self.folder = tempfile.mkdtemp(prefix=f"kkm-{name}-")
        self.log = os.path.join(self.folder, "odoo.log")
        config = os.path.join(self.folder, "odoo.conf")
        with open(config, "w", encoding="utf-8") as handle:
            handle.write(
                "\n".join(
                    [
                        "[options]",
                        f"db_name = {args.db}",
                        f"addons_path = {args.addons_path}",
                        "http_interface = 127.0.0.1",
                        f"http_port = {self.port}",
                        f"gevent_port = {self.gevent_port}",
                        f"workers = {workers}",
                        "max_cron_threads = 1",
                        "server_wide_modules = base,web,queue_job",
                        "limit_time_real = 1200",
                        "limit_time_cpu = 1200",
                        "limit_memory_soft = 4294967296",
                        "limit_memory_hard = 6442450944",
                        "log_level = warn",
                        f"logfile = {self.log}",
                        "[queue_job]",
                        f"channels = root:{capacity},root.l10n_ru_kkm:{capacity}",
                        "scheme = http",
                        "host = 127.0.0.1",
                        f"port = {runner_port or self.port}",
                    ]
                )
                + "\n"
            )
        odoo_bin = args.odoo_bin or os.path.join(_odoo_root(), "odoo-bin")
        self.process = subprocess.Popen(
            [sys.executable, odoo_bin, "-c", config], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT
        )
        self.peak_rss = 0

    def wait_ready(self, timeout=120):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), timeout=1):
                return
            if self.process.poll() is not None:
                raise RuntimeError(f"odoo-bin stopped; see {self.log}")
            time.sleep(0.2)
        raise RuntimeError(f"odoo-bin did not listen in {timeout} s; see {self.log}")

    def sample_rss(self):
        """Peak resident memory (VmHWM) of the server's processes so far, in MiB."""
        for pid in [self.process.pid, *_children(self.process.pid)]:
            with contextlib.suppress(OSError), open(f"/proc/{pid}/status", encoding="ascii") as status:
                for line in status:
                    if line.startswith("VmHWM:"):
                        self.peak_rss = max(self.peak_rss, int(line.split()[1]) // 1024)
        return self.peak_rss

    def stop(self):
        self.sample_rss()
        self.process.terminate()
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)


def _odoo_root():
    import odoo

    return os.path.dirname(os.path.abspath(odoo.__path__[0]))


def _children(pid):
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError), open(f"/proc/{entry}/stat", encoding="ascii") as stat:
                if int(stat.read().rsplit(")", 1)[1].split()[1]) == pid:
                    found.append(int(entry))
    return found


class RoundRobinProxy:
    """A TCP load balancer on loopback, as nginx would be in front of several Odoo servers."""

    def __init__(self, ports):
        self.ports, self.turn = ports, 0
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                client, _address = self.listener.accept()
            except OSError:
                return
            port = self.ports[self.turn % len(self.ports)]
            self.turn += 1
            threading.Thread(target=self._pipe_pair, args=(client, port), daemon=True).start()

    def _pipe_pair(self, client, port):
        try:
            upstream = socket.create_connection(("127.0.0.1", port))
        except OSError:
            client.close()
            return
        for source, target in ((client, upstream), (upstream, client)):
            threading.Thread(target=_pipe, args=(source, target), daemon=True).start()

    def close(self):
        self.listener.close()


def _pipe(source, target):
    with contextlib.suppress(OSError):
        while data := source.recv(65536):
            target.sendall(data)
    for sock in (source, target):
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


# -- runs --------------------------------------------------------------------------------


def watch(registry, company_id, total, servers, timeout):
    """Seconds until every receipt is accepted and until every receipt is done, from now."""
    started = time.monotonic()
    sent_at = done_at = None
    while time.monotonic() - started < timeout:
        states = counts(registry, company_id)
        for server in servers:
            server.sample_rss()
        elapsed = time.monotonic() - started
        if sent_at is None and states.get("to_send", 0) == 0 and sum(states.values()) >= total:
            sent_at = elapsed
        if states.get("done", 0) >= total:
            done_at = elapsed
            break
        time.sleep(0.25)
    return sent_at, done_at, counts(registry, company_id)


def timings(registry, company_id):
    """(first registration request, last one answered, last receipt done), from the database:
    the pipeline's own clock, not the server's start-up."""
    with common.environment(registry) as env:
        env.cr.execute(
            """
            SELECT min(attempt.create_date), max(attempt.write_date)
              FROM l10n_ru_kkm_receipt_attempt attempt
              JOIN l10n_ru_kkm_receipt receipt ON receipt.id = attempt.receipt_id
             WHERE receipt.company_id = %s AND attempt.action = 'register'
            """,
            (company_id,),
        )
        first, last_sent = env.cr.fetchone()
        env.cr.execute(
            "SELECT max(write_date) FROM l10n_ru_kkm_receipt WHERE company_id = %s AND state = 'done'",
            (company_id,),
        )
        (last_done,) = env.cr.fetchone()
    return first, last_sent, last_done


def accepted_p95(registry, company_id):
    """Seconds from the first registration request until 95 % of the receipts were accepted
    (a fault's retry waits a minute: the last few say nothing of the throughput)."""
    with common.environment(registry) as env:
        env.cr.execute(
            """
            WITH firsts AS (
                SELECT attempt.receipt_id, min(attempt.write_date) AS accepted
                  FROM l10n_ru_kkm_receipt_attempt attempt
                  JOIN l10n_ru_kkm_receipt receipt ON receipt.id = attempt.receipt_id
                 WHERE receipt.company_id = %s AND attempt.action = 'register' AND attempt.http_status = 200
                 GROUP BY attempt.receipt_id
            )
            SELECT EXTRACT(EPOCH FROM percentile_disc(0.95) WITHIN GROUP (ORDER BY accepted) - (
                       SELECT min(attempt.create_date) FROM l10n_ru_kkm_receipt_attempt attempt
                         JOIN l10n_ru_kkm_receipt receipt ON receipt.id = attempt.receipt_id
                        WHERE receipt.company_id = %s AND attempt.action = 'register'))
              FROM firsts
            """,
            (company_id, company_id),
        )
        (seconds,) = env.cr.fetchone()
    return float(seconds or 0.0)


def ledger_check(sandbox, before, expected):
    ledger = sandbox.ledger()
    registered = ledger["count"] - before
    duplicates = ledger["duplicates_by_id"]["count"] + ledger["duplicates_by_content"]["count"]
    ok = registered == expected and duplicates == 0
    return ok, f"sandbox: {registered} documents for {expected} receipts, {duplicates} duplicates"


def run_capacity(args, registry, sandbox, setup_ids, capacity):
    company_id, partner_id, product_ids = setup_ids
    clean(registry, company_id)
    moves = create_drafts(registry, company_id, partner_id, product_ids, args.receipts, capacity * 100000)
    post_in_process(registry, company_id, moves)
    sandbox.reset()  # this run's documents only (accounts stay; tokens are asked again)
    before = 0
    server = Server(args, capacity, args.workers or capacity + 2, name=f"c{capacity}")
    try:
        server.wait_ready()
        sent_at, done_at, states = watch(registry, company_id, args.receipts, [server], args.timeout)
    finally:
        server.stop()
    ok, ledger = ledger_check(sandbox, before, args.receipts)
    first, last_sent, last_done = timings(registry, company_id)
    bound = capacity / args.latency
    pace_bound = args.groups / SPACING
    line = f"C={capacity}: "
    if sent_at and first and last_sent:
        seconds = (last_sent - first).total_seconds()
        rate = args.receipts / seconds
        line += f"sent {rate:5.1f}/s vs bound C/latency {bound:5.1f}/s ({100 * rate / bound:3.0f} %); "
    if done_at and first and last_done:
        seconds = (last_done - first).total_seconds()
        line += (
            f"all done {seconds:4.0f} s after the first send ({args.receipts / seconds:5.1f}/s; ATOL's pace "
            f"allows {pace_bound:4.1f}/s over {args.groups} groups); "
        )
    line += f"peak RSS {server.peak_rss} MiB; {ledger}"
    if not (sent_at and done_at and ok):
        line += f"; FAILED (states {states}, log {server.log})"
    print(line, flush=True)
    return ok and bool(done_at)


def run_servers(args, registry, sandbox, setup_ids, count):
    """``count`` servers, invoices posted over XML-RPC spread over them, faults on."""
    company_id, partner_id, product_ids = setup_ids
    clean(registry, company_id)
    total = args.servers_receipts
    moves = create_drafts(registry, company_id, partner_id, product_ids, total, 900000 + count * 100000)
    sandbox.reset()
    before = 0
    sandbox.set_faults(FAULTS)
    proxy, servers = None, []
    try:
        if count == 1:
            servers = [Server(args, args.servers_capacity, args.servers_capacity + 2, name="single")]
        else:
            ports = [free_port() for _ in range(count)]
            proxy = RoundRobinProxy(ports)
            for number in range(count):
                server = Server(
                    args, args.servers_capacity, args.servers_capacity + 2, proxy.port, f"s{number}"
                )
                servers.append(server)
            # The proxy needs the servers' real ports, known once they are chosen.
            proxy.ports = [server.port for server in servers]
        for server in servers:
            server.wait_ready()
        started = time.monotonic()
        _post_over_xmlrpc(args, servers, company_id, moves)
        posted = time.monotonic() - started
        sent_at, done_at, states = watch(registry, company_id, total, servers, args.timeout)
    finally:
        for server in servers:
            server.stop()
        if proxy:
            proxy.close()
        sandbox.clear_faults()
    ok, ledger = ledger_check(sandbox, before, total)
    p95 = accepted_p95(registry, company_id)
    sent_rate = 0.95 * total / p95 if p95 else 0.0
    print(
        f"{count} server(s), C={args.servers_capacity} each, faults on: {total} invoices posted over XML-RPC in "
        f"{posted:4.0f} s; 95 % accepted {p95:4.0f} s after the first send ({sent_rate:5.1f}/s), all done after "
        f"{posted + (done_at or 0):4.0f} s (retries wait a minute); peak RSS "
        f"{max(s.peak_rss for s in servers)} MiB; {ledger}"
        + ("" if ok and done_at else f"; FAILED (states {states})"),
        flush=True,
    )
    return (ok and bool(done_at)), sent_rate


def _post_over_xmlrpc(args, servers, company_id, move_ids, batch=20):
    """Post the invoices in batches, each server taking its share from a thread of its own."""
    chunks = [move_ids[start : start + batch] for start in range(0, len(move_ids), batch)]
    errors = []

    def post(server, share):
        try:
            models = xmlrpc.client.ServerProxy(
                f"http://127.0.0.1:{server.port}/xmlrpc/2/object", allow_none=True
            )
            for chunk in share:
                models.execute_kw(
                    args.db, 2, "admin", "account.move", "action_post", [chunk],
                    {"context": {"allowed_company_ids": [company_id]}},
                )  # fmt: skip
        except Exception as error:
            errors.append(error)

    threads = [
        threading.Thread(target=post, args=(server, chunks[number :: len(servers)]))
        for number, server in enumerate(servers)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise RuntimeError(f"posting over XML-RPC failed: {errors[0]}")


def main():
    args = parse_args()
    registry = common.boot_odoo(args)
    sys.path.insert(0, REPO)
    from sandbox.server import Sandbox

    logging.getLogger("kkm_sandbox").setLevel(logging.WARNING)  # one line per exchange otherwise
    capacities = [int(value) for value in args.capacities.split(",") if value]
    ok = True
    with Sandbox(seed=5, done_delay=0.5, latency=args.latency, jitter=args.jitter, quiet=True) as sandbox:
        setup_ids = setup(registry, sandbox, args.groups)
        _admin_for_xmlrpc(registry, setup_ids[0])
        print(
            f"l10n_ru_kkm throughput on {args.db}: {args.receipts} receipts per run, service latency "
            f"{args.latency * 1000:.0f} ± {args.jitter * 1000:.0f} ms, {args.groups} register groups, "
            f"{os.cpu_count()} CPU cores",
            flush=True,
        )
        try:
            for capacity in capacities:
                ok = run_capacity(args, registry, sandbox, setup_ids, capacity) and ok
            if args.servers_receipts:
                one_ok, one = run_servers(args, registry, sandbox, setup_ids, 1)
                two_ok, two = run_servers(args, registry, sandbox, setup_ids, 2)
                ok = ok and one_ok and two_ok
                print(f"two servers vs one: x{two / one if one else 0:.2f} receipts/s", flush=True)
        finally:
            clean(registry, setup_ids[0])
            common.cleanup(registry, setup_ids[0])
    return 0 if ok else 1


def _admin_for_xmlrpc(registry, company_id):
    """XML-RPC as admin/admin on this throwaway database, allowed in the benchmark company."""
    from odoo import Command

    with common.environment(registry) as env:
        env.ref("base.user_admin").write({"password": "admin", "company_ids": [Command.link(company_id)]})


if __name__ == "__main__":
    sys.exit(main())
