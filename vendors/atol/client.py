"""ATOL Online clients: protocol v4 (FFD 1.05) and v5 (FFD 1.2).

Plain Python, no Odoo. The caller injects the configuration, a ``requests.Session``, a token
store shared by all workers, and an ``on_exchange`` callback for its attempt log. Facts:
shared/vendor-docs/ (the protocol texts) and docs/architecture.rst, "Vendors".
"""

from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

from .. import outcome as oc
from ..base import Client
from ..errors import PARSE_ERRORS, TransientError, UnreadableAnswer
from . import answers
from .payload import V4Payload, V5Payload
from .protocol import (
    MAX_ITEMS,
    MAX_PAYMENTS,
    PRODUCTION_URL,
    TEST_URL,
    TOKEN_LIFETIME,
    TOKEN_MARGIN,
    TOKEN_PATTERN,
    TOKEN_REFRESH_CODES,
    V4_RAW_MARK_CODE,
    VERSION_NOT_SUPPORTED_CODE,
    v4_nomenclature_code,
)


@dataclass(frozen=True)
class AtolConfig:
    login: str
    password: str
    group_code: str
    test_mode: bool = True
    base_url: str = ""  # overrides the official host, e.g. the sandbox
    connect_timeout: float = 5.0
    read_timeout: float = 30.0
    source: str = "odoo-l10n_ru_kkm"

    @property
    def root_url(self):
        return (self.base_url or (TEST_URL if self.test_mode else PRODUCTION_URL)).rstrip("/")


class MemoryTokenStore:
    """Token store for a single process; the ORM injects one shared by every worker."""

    def __init__(self):
        self.token, self.expiry = "", None

    def get(self):
        return self.token, self.expiry

    def set(self, token, expiry):
        self.token, self.expiry = token, expiry

    @contextmanager
    def renewal(self):
        """While renewing, other renewals wait (nothing to wait for in one process)."""
        yield


def _now():
    return datetime.now(UTC).replace(tzinfo=None)


class AtolV4Client(V4Payload, Client):
    code = "atol_v4"
    label = "ATOL Online v4 (FFD 1.05)"
    service = "ATOL"
    api_version = "v4"
    supports_callbacks = True
    correction_operations = ("sell_correction",)
    correction_number_always = True  # v4 names the seller's own act too
    supports_credit = True
    supports_agents = True
    marking = "gtin_serial"
    max_items = MAX_ITEMS
    max_payments = MAX_PAYMENTS
    needs_group_code = True
    other_version = "atol_v5"

    def __init__(self, config, session=None, token_store=None, on_exchange=None):
        super().__init__(
            config,
            session=session,
            on_exchange=on_exchange,
            token_store=token_store or MemoryTokenStore(),
        )

    @classmethod
    def configure(cls, settings):
        return AtolConfig(
            login=settings.login,
            password=settings.password,
            group_code=settings.group_code,
            test_mode=settings.test_mode,
            base_url=settings.base_url,
        )

    # -- receipts ------------------------------------------------------------------------

    def split(self, receipt):
        """The receipts that carry ``receipt`` within the protocol's limits (one, usually).

        A v4 correction carries VAT totals, not items: it is never split.
        """
        if len(receipt.payments) > self.max_payments:
            raise ValueError(f"{len(receipt.payments)} payments: ATOL takes {self.max_payments} at most")
        if receipt.correction and self.api_version == "v4":
            return [receipt]
        return super().split(receipt)

    @classmethod
    def mark_code_accepted(cls, code):
        # FFD 1.05 takes the GTIN and serial only, as the raw GS1 start of the code (table 2).
        return bool(V4_RAW_MARK_CODE.match(v4_nomenclature_code(code)))

    @classmethod
    def wrong_version(cls, outcome):
        return getattr(outcome, "error_code", "") == str(VERSION_NOT_SUPPORTED_CODE)

    # -- service calls -------------------------------------------------------------------

    def check_connection(self):
        """Obtain a fresh token; raises or returns a failed outcome on error."""
        return self._fetch_token()

    def register(self, operation, payload, callback_url=""):
        """Send a registration; ``Outcome`` ACCEPTED (with uuid) or FAILED.

        ``callback_url`` is added at send time: it carries a secret token and is not kept in
        the frozen request. An answer that cannot be read raises ``UnreadableAnswer``
        (uncertain: the same id is sent again).
        """
        url = f"{self._version_url()}/{self.config.group_code}/{operation}"
        if callback_url:
            payload = dict(payload, service={"callback_url": callback_url})
        answer = self._authorized("register", "POST", url, payload)
        if isinstance(answer, oc.Outcome):
            return answer
        http_status, body = answer
        try:
            return answers.registration(http_status, body)
        except PARSE_ERRORS as exc:
            raise UnreadableAnswer(
                f"ATOL's answer to the registration cannot be read: {exc}",
                uncertain=True,
                http_status=http_status,
            ) from exc

    def report(self, reference, payload=None):
        """The result of the document ``reference`` (its uuid), compared with ``payload``."""
        url = f"{self._version_url()}/{self.config.group_code}/report/{reference}"
        answer = self._authorized("report", "GET", url, None)
        if isinstance(answer, oc.Outcome):
            return answer
        http_status, body = answer
        try:
            return answers.result(reference, http_status, body, payload)
        except PARSE_ERRORS as exc:
            raise UnreadableAnswer(
                f"ATOL's answer to the status request cannot be read: {exc}", http_status=http_status
            ) from exc

    # -- plumbing ------------------------------------------------------------------------

    def _version_url(self):
        return f"{self.config.root_url}/{self.api_version}"

    def _authorized(self, action, method, url, payload):
        """Call with a valid token; renew it once on errors 10/11."""
        rejected = ""
        for first_try in (True, False):
            token = self._valid_token(rejected)
            if isinstance(token, oc.Outcome):
                return token
            http_status, body = self._exchange(action, method, url, payload, token=token)
            if answers._code(answers._dict(body.get("error"))) in TOKEN_REFRESH_CODES and first_try:
                rejected = token
                continue
            return http_status, body
        return http_status, body

    def _valid_token(self, rejected=""):
        """The stored token, or a new one: one worker renews it while the others wait for its
        token instead of asking ATOL too (docs/architecture.rst, "Speed and scale")."""
        token = self._usable_token(rejected)
        if token:
            return token
        with self.token_store.renewal():
            return self._usable_token(rejected) or self._fetch_token()

    def _usable_token(self, rejected):
        token, expiry = self.token_store.get()
        if token and token != rejected and expiry and expiry - TOKEN_MARGIN > _now():
            return token
        return ""

    def _fetch_token(self):
        url = f"{self._version_url()}/getToken"
        body = {"login": self.config.login, "pass": self.config.password, "source": self.config.source}
        http_status, answer = self._exchange("token", "POST", url, body)
        token = answer.get("token")
        error = answers._dict(answer.get("error"))
        if token and not error:
            if not isinstance(token, str) or not TOKEN_PATTERN.match(token):
                raise UnreadableAnswer("ATOL answered a token that cannot be used", http_status=http_status)
            self.token_store.set(token, _now() + TOKEN_LIFETIME)
            return token
        return answers.failure(http_status, answer, error)

    def _exchange(self, action, method, url, payload, token=None):
        headers = {"Content-Type": "application/json; charset=utf-8"}
        if token:
            headers["Token"] = token
        response, body = self.transport.exchange(
            action, method, url, payload, logged_request=_logged(payload), shown=_shown, headers=headers
        )
        body = body if isinstance(body, dict) else None
        if body and body.get("callback_url"):
            body = dict(body, callback_url="***")  # its token is a secret
        if body is None or response.status_code >= 500 or response.status_code == 429:
            # Whatever happened behind a 5xx or an unreadable answer is unknown.
            raise TransientError(
                f"ATOL answered HTTP {response.status_code} without a usable body",
                uncertain=action == "register",
                http_status=response.status_code,
            )
        return response.status_code, body


class AtolV5Client(V5Payload, AtolV4Client):
    """FFD 1.2: integer payment objects, mandatory measure, whole marking codes, corrections
    of refunds, corrections with items."""

    code = "atol_v5"
    label = "ATOL Online v5 (FFD 1.2)"
    api_version = "v5"
    correction_operations = ("sell_correction", "sell_refund_correction")
    correction_number_always = False
    marking = "full_code"
    industry_props = True  # sectoral_item_props
    other_version = "atol_v4"

    @classmethod
    def mark_code_accepted(cls, code):
        return True


def _logged(payload):
    """The request as the exchange log keeps it: no password, no callback token."""
    if not payload:
        return None
    logged = {k: ("***" if k == "pass" else v) for k, v in payload.items()}
    if isinstance(logged.get("service"), dict):
        logged["service"] = {"callback_url": "***"}
    return logged


def _shown(response, body):
    """What the exchange log keeps of an answer: no token, no callback URL."""
    if not isinstance(body, dict):
        return {"response": None}
    error = answers._dict(body.get("error"))
    shown = {k: ("***" if k in ("token", "callback_url") and v else v) for k, v in body.items()}
    return {
        "response": shown,
        "error_code": str(answers._code(error) or ""),
        "error_type": answers._text(error.get("type")),
        "message": answers._text(error.get("text")),
    }
