"""ATOL Online v4/v5: getToken, document registration and the result report.

Order of checks on a registration, as the service documents its errors: Content-Type (41),
token (10 missing/unknown, 11 expired), group (20 not the token's, 21 wrong protocol
version), operation (31), JSON (40), schema and rules (32), external_id already known (33,
with the existing uuid). The document then waits ``done_delay`` seconds and becomes ``done``
with fiscal data or ``fail`` with a device error; a valid ``service.callback_url`` receives
the report body by POST.
"""

import re
import time
from decimal import Decimal

from . import atol_errors as errors
from . import atol_schemas
from . import atol_validation as validation
from .exchange import json_response
from .ledger import Document, fingerprint
from .util import atol_timestamp, dumps, loads, mask, seeded_uuid

CALLBACK_MASK = re.compile(atol_schemas.CALLBACK_URL)
CALLBACK_WARNING = "callback_url не соответствует маске"
DAEMON_CODE = "prod-agent-1"


class AtolService:
    def __init__(self, app):
        self.app = app

    # -- helpers --------------------------------------------------------------------------

    def _error(self, code, *args, text=None, outcome=None, **extra):
        with self.app.lock:
            status, body = errors.service_error(self.app.rng_errors, code, *args, text=text, **extra)
        return json_response(status, body, outcome or f"error {code}")

    def _authorize(self, request, version, group):
        """The caller's account, or an error response (10, 11, 20, 21)."""
        app = self.app
        value = request.headers.get("Token") or request.query.get("token") or ""
        with app.lock:
            token, code = app.tokens.lookup(value)
            account = app.accounts.get(token.login) if token else None
        if code:
            return None, self._error(code, outcome=f"error {code} token={mask(value)}")
        if account is None or account.group != group:
            return None, self._error(20, outcome=f"error 20 group={group}")
        if version not in account.versions:
            return None, self._error(21, outcome=f"error 21 {version} group={group}")
        return account, None

    # -- getToken -------------------------------------------------------------------------

    def get_token(self, request, version):
        app = self.app
        if request.method == "GET":
            credentials = {
                key: request.query[key] for key in ("login", "pass", "source") if key in request.query
            }
        else:
            if not request.content_type_ok():
                return self._error(41, request.headers.get("Content-Type") or "")
            try:
                credentials = loads(request.body)
            except (ValueError, UnicodeDecodeError):
                return self._error(40, outcome="error 40 malformed JSON")
        problems = validation.validate_token_request(credentials)
        if problems:
            fields = ", ".join(path or "<body>" for path, _message in problems)
            return self._error(13, fields, outcome=f"error 13 {fields}")
        login = credentials["login"]
        with app.lock:
            account = app.accounts.get(login)
            if account is None or account.password != credentials["pass"]:
                return self._error(12, outcome=f"error 12 login={login}")
            if version not in account.versions:
                return self._error(21, outcome=f"error 21 login={login} {version}")
            token = app.tokens.issue(login)
        body = {"error": None, "token": token.value, "timestamp": atol_timestamp()}
        return json_response(200, body, f"token for {login} {mask(token.value)}")

    # -- registration ---------------------------------------------------------------------

    def register(self, request, version, group, operation):
        app = self.app
        if not request.content_type_ok():
            return self._error(41, request.headers.get("Content-Type") or "")
        account, refusal = self._authorize(request, version, group)
        if refusal:
            return refusal
        if operation not in validation.OPERATIONS[version]:
            return self._error(31, operation)
        try:
            body = loads(request.body)
        except (ValueError, UnicodeDecodeError):
            return self._error(40, outcome="error 40 malformed JSON")
        code, problems = validation.validate(version, operation, body, app.schemas)
        if code:
            text = validation.error_text(problems)
            fields = ",".join(dict.fromkeys(path for path, _message in problems))[:120]
            return self._error(code, text=text, outcome=f"error {code} {fields}")

        external_id = body["external_id"]
        key = ("atol", group, "", external_id)
        with app.lock:
            app.records.submitted(key)
            existing = app.records.find(key)
            if existing is not None:
                # §8.1 code 33, status Wait; the body carries the first document's uuid.
                return self._error(
                    33,
                    external_id,
                    group,
                    uuid=existing.uuid,
                    outcome=f"error 33 ext={external_id} uuid={existing.uuid}",
                )
            document = self._new_document(request, version, group, operation, body, account)
            app.records.add(document)
        app.processor.schedule(document)
        answer = {"uuid": document.uuid, "timestamp": document.timestamp, "error": None, "status": "wait"}
        return json_response(200, answer, f"registered {operation} ext={external_id} uuid={document.uuid}")

    def _new_document(self, request, version, group, operation, body, account):
        """Build the document (under the lock): failure and delay are decided now, so that
        a seeded run gives the same outcomes whatever the thread timing."""
        app = self.app
        settings = app.settings
        correction = validation.is_correction(operation)
        content = body["correction"] if correction else body["receipt"]
        if "total" in content:
            total = Decimal(content["total"])
        else:  # v4 correction: the amounts are the payments
            total = sum((Decimal(payment["sum"] or 0) for payment in content["payments"]), Decimal(0))
        draw = app.rng_outcomes.random()
        planned = None
        forced = request.faults.get("fiscal_fail") if request.faults else None
        if forced:
            code = int(forced.get("code") or app.rng_outcomes.choice(sorted(errors.DEVICE_FAILURES)))
            planned = (code, *errors.failure(code))
        elif content["company"]["inn"] != account.inn:
            planned = (errors.INN_MISMATCH, *errors.failure(errors.INN_MISMATCH))
        elif draw < settings["fail_share"]:
            code = app.rng_outcomes.choice(sorted(errors.DEVICE_FAILURES))
            planned = (code, *errors.failure(code))
        long_wait = request.faults.get("long_wait") if request.faults else None
        delay = long_wait["seconds"] if long_wait else settings["done_delay"]
        callback_url = (body.get("service") or {}).get("callback_url") or ""
        now = time.monotonic()
        fields = ("client", "items", "payments", "total", "vats", "correction_info")
        return Document(
            vendor="atol",
            version=version,
            group=group,
            operation=operation,
            ext_id=body["external_id"],
            uuid=seeded_uuid(app.rng_ids),
            total=total,
            fingerprint=fingerprint("atol", group, operation, {name: content.get(name) for name in fields}),
            request=body,
            timestamp=atol_timestamp(),
            registered_at=now,
            due_at=now + delay,
            callback_url=callback_url,
            callback_warning=bool(callback_url) and not CALLBACK_MASK.search(callback_url),
            planned_failure=planned,
            long_wait=bool(long_wait),
        )

    # -- processing -----------------------------------------------------------------------

    def finalize(self, document):
        """wait -> done | fail (called under the lock by the processor)."""
        app = self.app
        if document.planned_failure:
            code, error_type, text = document.planned_failure
            document.status = "fail"
            document.error = errors.error_object(app.rng_errors, code, text, error_type)
            document.payload = None
        else:
            register = app.registers.get("atol", document.group)
            document.fiscal = register.issue(document.operation, document.total)
            document.payload = document.fiscal.atol_payload()
            document.status = "done"
            content = document.request.get("receipt") or {}
            app.marking.registered(document.operation, content.get("items"))
            marks = app.marking.marks_result(content.get("items")) if document.version == "v5" else []
            if marks:  # tag 2106: what the register found of each code (v5 §5.3)
                document.payload["marks_result"] = marks

    def report_body(self, document):
        """The result package (v4 Табл.5 / v5 §5.3), the same for GET and callback."""
        register = self.app.registers.get("atol", document.group)
        body = {
            "uuid": document.uuid,
            "error": document.error,
            "status": document.status,
            "payload": document.payload,
            "timestamp": document.timestamp,
            "group_code": document.group,
            "daemon_code": DAEMON_CODE,
            "device_code": register.device_code,
            "external_id": document.ext_id,
            "callback_url": document.callback_url,
        }
        if document.callback_warning:
            body["warnings"] = {"callback_url": CALLBACK_WARNING}
        return body

    def after(self, document):
        """Post the result to the document's callback URL, if it has a valid one."""
        if document.vendor != "atol" or not document.callback_url or document.callback_warning:
            return
        with self.app.lock:
            body = dumps(self.report_body(document))

        def done(outcome):
            with self.app.lock:
                document.callback = outcome

        self.app.callbacks.send(document.callback_url, body, done)

    # -- report ---------------------------------------------------------------------------

    def report(self, request, version, group, uuid):
        app = self.app
        _account, refusal = self._authorize(request, version, group)
        if refusal:
            return refusal
        with app.lock:
            document = app.records.documents.get(uuid)
        if document is None or document.vendor != "atol" or document.group != group:
            return self._error(30, uuid, outcome=f"error 30 uuid={uuid}")
        app.processor.settle(document)
        with app.lock:
            if document.status == "wait":
                # §6.3: code 34 with HTTP 200, no uuid or payload.
                status, body = errors.service_error(app.rng_errors, 34, callback_url=document.callback_url)
                return json_response(status, body, f"wait uuid={uuid}")
            body = self.report_body(document)
        code = f" code={document.error['code']}" if document.error else ""
        return json_response(200, body, f"{document.status}{code} uuid={uuid}")
