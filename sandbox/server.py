"""The ``Sandbox`` object, the Python API of tests and the CLI (HTTP plumbing: ``httpd.py``).

One threaded HTTP server on loopback serves both vendors under their real paths, so a client
only changes the host:

- ATOL:        /possystem/{v4|v5}/getToken, /possystem/{v4|v5}/{group}/{operation},
               /possystem/{v4|v5}/{group}/report/{uuid}
- Checkonline: /fr/api/v2/Complex
- Admin:       /sandbox/faults, /sandbox/ledger, /sandbox/documents, /sandbox/reset,
               /sandbox/expire-tokens, /sandbox/accounts, /sandbox/config

With ``tls_cert``/``tls_key`` the server speaks HTTPS; with ``tls_client_ca`` too, every
client must present a certificate signed by that CA (Checkonline's mutual TLS).
"""

import logging
import random
import ssl
import threading
import time
from urllib.parse import parse_qs, unquote, urlsplit

from . import admin, atol_errors
from .accounts import DEFAULT_ACCOUNTS, Account, TokenStore
from .atol import AtolService
from .atol_schemas import NEW_VAT_CODES
from .atol_validation import Schemas
from .checkonline import CheckonlineService, other_command
from .checkonline_validation import DEFAULT_TAX_IDS
from .exchange import JSON_TYPE, Request, Response, json_response
from .faults import TARGETS, Decision, Faults
from .fiscal import Registers
from .httpd import Handler, Server, enable_stderr_log, hang_up, read_body, write
from .ledger import Ledger
from .marking import TARGETS as MARKING_TARGETS
from .marking import MarkingService
from .util import dumps, plain
from .worker import CallbackSender, Processor

_logger = logging.getLogger("kkm_sandbox")

# latency/jitter: every answer waits latency ± jitter seconds (seeded), as a real service over the
# internet does (bench/throughput.py).
SETTINGS = ("done_delay", "fail_share", "token_ttl", "checkonline_delay", "latency", "jitter")
BAD_GATEWAY_HTML = (
    "<html>\r\n<head><title>{status} {reason}</title></head>\r\n<body>\r\n"
    "<center><h1>{status} {reason}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
)


class Sandbox:
    """ATOL Online v4/v5 + Checkonline emulator on loopback.

    >>> with Sandbox(seed=1, done_delay=0) as sb:
    ...     requests.post(sb.url + "/possystem/v4/getToken", json={...})
    """

    def __init__(
        self,
        host="127.0.0.1",
        port=0,
        *,
        seed=0,
        done_delay=2.0,
        fail_share=0.0,
        token_ttl=86400.0,
        faults=None,
        accounts=DEFAULT_ACCOUNTS,
        extra_vat_codes=NEW_VAT_CODES,
        checkonline_groups=("GROUP0",),
        checkonline_tax_ids=DEFAULT_TAX_IDS,
        checkonline_tax_modes=63,
        checkonline_delay=0.0,
        latency=0.0,
        jitter=0.0,
        callback_timeout=3.0,
        tls_cert=None,
        tls_key=None,
        tls_client_ca=None,
        quiet=False,
    ):
        self.host = host
        self.port = port
        self.seed = seed
        self.tls = (tls_cert, tls_key, tls_client_ca)
        if bool(tls_cert) != bool(tls_key) or (tls_client_ca and not tls_cert):
            raise ValueError("TLS needs tls_cert and tls_key (and tls_client_ca only with them)")
        self.lock = threading.RLock()
        self.settings = {
            "done_delay": float(done_delay),
            "fail_share": float(fail_share),
            "token_ttl": float(token_ttl),
            "checkonline_delay": float(checkonline_delay),
            "latency": float(latency),
            "jitter": float(jitter),
        }
        # When each ATOL status request arrived, and for which group: the pace the clients keep.
        self.report_log = []
        self.accounts = {account.login: account for account in accounts}
        self.checkonline_groups = set(checkonline_groups)
        self.checkonline_tax_ids = tuple(checkonline_tax_ids)
        self.checkonline_tax_modes = int(checkonline_tax_modes)
        self.schemas = Schemas(tuple(extra_vat_codes))
        self.tokens = TokenStore(self.settings["token_ttl"])
        self.records = Ledger()
        self.registers = Registers(seed)
        self.fault_plan = Faults(seed, faults)
        self._seed_rngs(seed)
        self.atol = AtolService(self)
        self.checkonline = CheckonlineService(self)
        self.marking = MarkingService(self)
        self.callbacks = CallbackSender(callback_timeout)
        self.processor = Processor(self.lock, self.atol.finalize, self.atol.after)
        self.server = None
        self.thread = None
        self.devices = {}
        if not quiet:
            enable_stderr_log()

    def _seed_rngs(self, seed):
        # Separate streams, so that e.g. an error answer does not shift the next document uuid.
        self.rng_ids = random.Random(f"ids:{seed}")  # document uuids
        self.rng_errors = random.Random(f"errors:{seed}")  # error_id, LogRequestId
        self.rng_outcomes = random.Random(f"outcomes:{seed}")  # fail_share draws
        self.rng_latency = random.Random(f"latency:{seed}")  # latency jitter

    # -- life cycle -----------------------------------------------------------------------

    def start(self):
        """Bind (port 0 = an ephemeral port) and serve in background threads."""
        self.server, self.thread = self._listen(self.port, "kkm-sandbox-http")
        self.port = self.server.server_address[1]
        self.processor.start()
        _logger.info("listening on %s", self.url)
        return self

    def _listen(self, port, name):
        server = Server((self.host, port), Handler)
        server.app = self
        cert, key, client_ca = self.tls
        if cert:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(cert, key)
            if client_ca:
                context.load_verify_locations(client_ca)
                context.verify_mode = ssl.CERT_REQUIRED
            server.ssl_context = context
        thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.1}, name=name, daemon=True
        )
        thread.start()
        return server, thread

    @staticmethod
    def _close(server, thread):
        server.shutdown()
        server.server_close()
        if thread:
            thread.join(timeout=5)

    def stop(self):
        if self.server is None:
            return
        server, self.server = self.server, None
        for name in list(self.devices):
            self.set_reachable(name, False)
        self._close(server, None)
        self.processor.stop()
        if self.thread:
            self.thread.join(timeout=5)
        _logger.info("stopped")

    # -- devices: the same services at other addresses, each reachable or not -------------------

    def add_device(self, name):
        """Another address of this sandbox, as a second cash register's host: the same accounts,
        groups and ledger, on its own port, which ``set_reachable`` can close (connection
        refused: a request certainly never reaches it) and open again. Returns its URL."""
        server, thread = self._listen(0, f"kkm-sandbox-{name}")
        self.devices[name] = {"port": server.server_address[1], "server": server, "thread": thread}
        return self.device_url(name)

    def device_url(self, name):
        scheme = "https" if self.tls[0] else "http"
        return f"{scheme}://{self.host}:{self.devices[name]['port']}"

    def set_reachable(self, name, reachable):
        device = self.devices[name]
        if not reachable and device["server"] is not None:
            self._close(device["server"], device["thread"])
            device["server"] = device["thread"] = None
        elif reachable and device["server"] is None:
            device["server"], device["thread"] = self._listen(device["port"], f"kkm-sandbox-{name}")
        _logger.info("device %s %s", name, "reachable" if reachable else "unreachable")

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()

    @property
    def url(self):
        scheme = "https" if self.tls[0] else "http"
        return f"{scheme}://{self.host}:{self.port}"

    # -- Python API -----------------------------------------------------------------------

    def set_faults(self, config):
        """Replace the fault configuration (see ``faults`` for the format)."""
        self.fault_plan.configure(config)
        return self.get_faults()

    def get_faults(self):
        """``{"seed", "config", "fired"}``: the configuration left and the faults fired so far."""
        return self.fault_plan.snapshot()

    def clear_faults(self):
        self.fault_plan.clear()

    def ledger(self):
        """Every registered document with the duplicate counts (``GET /sandbox/ledger``)."""
        with self.lock:
            return self.records.summary()

    ledger_summary = ledger

    def documents(self, vendor=None):
        """Full documents: ledger row plus request body and, for ATOL, the report body."""
        with self.lock:
            rows = []
            for document in self.records.documents.values():
                if vendor and document.vendor != vendor:
                    continue
                row = document.summary(self.records.submissions[document.id_key])
                row["request"] = document.request
                if document.vendor == "atol" and document.status != "wait":
                    row["report"] = self.atol.report_body(document)
                rows.append(row)
            return plain(rows)

    def document(self, uuid):
        for row in self.documents():
            if row["uuid"] == uuid:
                return row
        return None

    def forget(self, uuid):
        """The service loses a document: its report answers error 30 (reconciliation tests)."""
        with self.lock:
            document = self.records.documents.pop(uuid)
            self.records.by_id[document.id_key].remove(uuid)

    def alter(self, uuid, **payload):
        """Change what the service reports of a document's fiscal data (reconciliation tests)."""
        with self.lock:
            document = self.records.documents[uuid]
            document.payload = dict(document.payload or {}, **payload)

    def expire_tokens(self):
        """Make every issued ATOL token expired now (they answer 11, HTTP 401)."""
        with self.lock:
            return self.tokens.expire_all()

    def reset(self):
        """Forget documents, tokens, caches, faults and counters; restart the RNGs from the seed."""
        with self.lock:
            self.records.clear()
            self.tokens.clear()
            self.registers.clear()
            self.checkonline.clear()
            self.marking.clear()
            self.processor.clear()
            self._seed_rngs(self.seed)
            self.fault_plan.reset(self.seed)
            self.report_log.clear()

    def add_account(self, login, password, group, inn, versions=("v5",), payment_address=""):
        account = Account(login, password, group, inn, tuple(versions), payment_address)
        with self.lock:
            self.accounts[login] = account
        return account

    def account_list(self):
        with self.lock:
            return [account.public() for account in self.accounts.values()]

    def configure(self, **settings):
        """Change any of SETTINGS while running."""
        unknown = set(settings) - set(SETTINGS)
        if unknown:
            raise ValueError(f"unknown settings {sorted(unknown)}; known: {', '.join(SETTINGS)}")
        with self.lock:
            for name, value in settings.items():
                self.settings[name] = float(value)
            self.tokens.ttl = self.settings["token_ttl"]
        return self.settings_snapshot()

    def settings_snapshot(self):
        with self.lock:
            return dict(self.settings, seed=self.seed)

    def wait_settled(self, timeout=5.0):
        """Wait until every due document has left ``wait`` and every callback was posted."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.processor.due_count() == 0 and self.callbacks.idle():
                return True
            time.sleep(0.005)
        return False

    # -- HTTP -----------------------------------------------------------------------------

    def serve(self, handler):
        """Handle one HTTP exchange: route, apply faults, answer, log one line."""
        started = time.monotonic()
        parts = urlsplit(handler.path)
        query = {key: values[0] for key, values in parse_qs(parts.query, keep_blank_values=True).items()}
        request = Request(handler.command, parts.path, query, handler.headers, read_body(handler))
        target, action = self._route(request)
        decision = self.fault_plan.decide(target) if target in TARGETS else Decision(0, target)
        request.faults = decision
        if target == "report":
            self._note_report(parts.path)
        self._wait_latency()

        if "token_expiry" in decision:
            self.expire_tokens()
        if "latency" in decision:
            time.sleep(decision.get("latency")["seconds"])
        # Each exchange is logged before the client can see its end, so a log reader
        # never lags behind the client.
        if "drop" in decision:
            self._log(request, None, "connection dropped before processing", started, decision)
            hang_up(handler)
            return
        if "http_5xx" in decision:
            response = self._gateway_error(target, decision.get("http_5xx"))
        else:
            response = self._run(action, request)
            if "lost_answer" in decision:
                self._log(
                    request, None, f"answer lost after processing: {response.outcome}", started, decision
                )
                hang_up(handler)
                return
            if "malformed" in decision:
                cut = max(1, len(response.body) // 2)
                response = Response(
                    200, response.body[:cut], f"malformed answer ({response.outcome})", JSON_TYPE
                )
        self._log(request, response.status, response.outcome, started, decision)
        write(handler, response)

    def _note_report(self, path):
        segments = path.strip("/").split("/")
        group = segments[segments.index("report") - 1] if "report" in segments[1:] else ""
        with self.lock:
            self.report_log.append((time.monotonic(), group))

    def report_requests(self):
        """(monotonic time, group) of every ATOL status request received, in order."""
        with self.lock:
            return list(self.report_log)

    def _wait_latency(self):
        with self.lock:
            latency, jitter = self.settings["latency"], self.settings["jitter"]
            if latency or jitter:
                latency = max(0.0, latency + self.rng_latency.uniform(-jitter, jitter))
        if latency:
            time.sleep(latency)

    def _run(self, action, request):
        """The handler's answer; a sandbox bug becomes a logged HTTP 500, not a hang-up."""
        try:
            return action(request)
        except Exception:
            _logger.exception("sandbox error on %s %s", request.method, request.path)
            return json_response(500, {"error": "sandbox internal error (see its log)"}, "internal error")

    def _route(self, request):
        """(fault target or None, handler of the request)."""
        path, method = request.path, request.method
        if path.startswith("/possystem/"):
            segments = [unquote(part) for part in path[len("/possystem/") :].split("/")]
            version, rest = segments[0], segments[1:]
            if version in ("v4", "v5"):
                if rest == ["getToken"] and method in ("GET", "POST"):
                    return "get_token", lambda req: self.atol.get_token(req, version)
                if len(rest) == 3 and rest[1] == "report" and method == "GET":
                    return "report", lambda req: self.atol.report(req, version, rest[0], rest[2])
                if len(rest) == 2 and rest[1] != "report" and method == "POST":
                    return "register", lambda req: self.atol.register(req, version, rest[0], rest[1])
            return None, self._atol_bad_request
        if path == "/fr/api/v2/Complex":
            return "complex", self.checkonline.complex
        if path.startswith("/fr/api/v2/"):
            command = path.rsplit("/", 1)[-1]
            return None, lambda req: other_command(req, self.checkonline, command)
        marking = self.marking.route(path, method)
        if marking:
            return marking
        if path.startswith("/sandbox/"):
            name = path[len("/sandbox/") :].strip("/")
            return "admin", lambda req: admin.handle(self, req, name)
        return None, lambda req: json_response(
            404, {"error": f"no such endpoint {req.method} {req.path}"}, "404"
        )

    def _atol_bad_request(self, request):
        return self.atol._error(40, outcome=f"error 40 {request.method} {request.path}")

    def _gateway_error(self, target, spec):
        status, kind = spec["status"], spec["body"]
        reason = {
            500: "Internal Server Error",
            502: "Bad Gateway",
            503: "Service Temporarily Unavailable",
        }.get(status, "Server Error")
        outcome = f"injected HTTP {status} ({kind})"
        if kind == "empty":
            return Response(status, b"", outcome, "text/plain")
        if kind == "html":
            return Response(
                status, BAD_GATEWAY_HTML.format(status=status, reason=reason).encode(), outcome, "text/html"
            )
        if target in MARKING_TARGETS:
            body = {"code": status, "description": reason}
        elif target == "complex":
            body = self.checkonline._fce_body(5, "injected")
        else:
            with self.lock:  # ErrorServerConfiguration: the documented HTTP 500 / code 50
                _status, body = atol_errors.service_error(self.rng_errors, 50)
        return Response(status, dumps(body), outcome, JSON_TYPE)

    @staticmethod
    def _log(request, status, outcome, started, decision):
        faults = f" faults={','.join(sorted(decision.fired))}" if decision.fired else ""
        elapsed = (time.monotonic() - started) * 1000
        # The path only: query strings may carry ?token= or ?pass=.
        _logger.info(
            "%s %s %s %s (%.0f ms)%s", request.method, request.path, status or "---", outcome, elapsed, faults
        )
