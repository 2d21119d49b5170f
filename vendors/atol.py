"""ATOL Online client: protocol v4 (FFD 1.05) and v5 (FFD 1.2).

Plain Python, no Odoo. The caller injects the configuration, a ``requests.Session``,
a token store shared by all workers, and an ``on_exchange`` callback for its attempt log.
Facts: shared/docs/vendor-api.md §1–7 and the official protocol texts.
"""

import base64
import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import requests

from . import outcome as oc
from . import receipt as rd
from .errors import PARSE_ERRORS, TransientError, UnreadableAnswer

PRODUCTION_URL = "https://online.atol.ru/possystem"
TEST_URL = "https://testonline.atol.ru/possystem"

TIMESTAMP_FORMAT = "%d.%m.%Y %H:%M:%S"

# ATOL service error codes (protocol §8.1) by what the receipt must do next.
TOKEN_REFRESH_CODES = {10, 11}
VALIDATION_CODES = {13, 32, 31, 40, 41}
AUTH_CODES = {12, 14}
CONFIG_CODES = {20, 21}
ALREADY_EXISTS_CODE = 33
NOT_READY_CODE = 34
VERSION_NOT_SUPPORTED_CODE = 21

# v4 nomenclature_code (tag 1162) as a raw GS1 code the service converts: GTIN and serial
# (protocol v4 table 2), i.e. a marking code up to its first separator.
V4_RAW_MARK_CODE = re.compile(r"^01\d{14}21[\x21-\x7e]{13,132}$|^\d{14}[\x21-\x7e]{15}$")


def v4_nomenclature_code(mark_code):
    return mark_code.split(rd.GROUP_SEPARATOR)[0]


VATS_MAX = 6

# What an answer's values must look like to be kept (the database's integers are 32-bit).
INTEGER_MAX = 2**31 - 1
IDENTIFIER_PATTERN = re.compile(r"^[\w.:-]{1,128}$")
TOKEN_PATTERN = re.compile(r"^[\x21-\x7e]{1,1024}$")

# Tokens live 24 h; renew a little early so that a token never expires mid-request.
TOKEN_LIFETIME = timedelta(hours=24)
TOKEN_MARGIN = timedelta(minutes=30)


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
    """Token store for a single process; the ORM injects one backed by the company."""

    def __init__(self):
        self.token, self.expiry = "", None

    def get(self):
        return self.token, self.expiry

    def set(self, token, expiry):
        self.token, self.expiry = token, expiry


def _now():
    return datetime.now(UTC).replace(tzinfo=None)


def _money(value):
    """Decimal kopecks to a JSON number with at most two decimals."""
    return float(value)


def _quantity(value):
    return float(value)


class AtolV4Client:
    api_version = "v4"
    # Protocol v4 §6.2: 1 to 100 items and 1 to 10 payments per receipt. v5 (3.5) sets no item
    # maximum, but its clients keep 100 (shared/docs/vendor-api.md); the sandbox enforces both.
    max_items = 100
    max_payments = 10

    def __init__(self, config, session=None, token_store=None, on_exchange=None):
        self.config = config
        self.session = session or requests.Session()
        self.token_store = token_store or MemoryTokenStore()
        self.on_exchange = on_exchange or (lambda exchange: None)

    # -- payload ---------------------------------------------------------------------

    def split(self, receipt):
        """The receipts that carry ``receipt`` within this protocol's limits (one, usually).

        A v4 correction carries VAT totals, not items: it is never split.
        """
        if len(receipt.payments) > self.max_payments:
            raise ValueError(f"{len(receipt.payments)} payments: ATOL takes {self.max_payments} at most")
        if receipt.correction and self.api_version == "v4":
            return [receipt]
        return rd.split(receipt, self.max_items)

    def build_payload(self, receipt):
        """The registration body for a neutral ``receipt.Receipt``."""
        if receipt.correction:
            return self._correction_payload(receipt)
        body = {
            "timestamp": receipt.timestamp.strftime(TIMESTAMP_FORMAT),
            "external_id": receipt.external_id,
            "receipt": {
                "client": self._client(receipt.client),
                "company": self._company(receipt.company),
                "items": [self._item(item) for item in receipt.items],
                "payments": [
                    {"type": payment.type, "sum": _money(payment.sum)} for payment in receipt.payments
                ],
                "total": _money(receipt.total),
            },
        }
        vats = rd.vat_totals(receipt.items)
        # The receipt holds at most six VAT totals; beyond, the register adds up the items' VAT.
        if 0 < len(vats) <= VATS_MAX:
            body["receipt"]["vats"] = [{"type": code, "sum": _money(amount)} for code, amount in vats.items()]
        if receipt.cashier:
            body["receipt"]["cashier"] = receipt.cashier
        return body

    def _correction_payload(self, receipt):
        """A correction document (protocol v4 §6.2 table 3): no items, VAT totals per rate."""
        company = self._company(receipt.company)
        company.pop("email", None)
        correction = {
            "company": company,
            "correction_info": self._correction_info(receipt.correction),
            "payments": [{"type": p.type, "sum": _money(p.sum)} for p in receipt.payments],
            "vats": self._vat_totals(receipt.items),
        }
        if receipt.cashier:
            correction["cashier"] = receipt.cashier
        return self._correction_envelope(receipt, correction)

    def _correction_envelope(self, receipt, correction):
        return {
            "timestamp": receipt.timestamp.strftime(TIMESTAMP_FORMAT),
            "external_id": receipt.external_id,
            "correction": correction,
        }

    @staticmethod
    def _correction_info(correction):
        info = {"type": correction.type, "base_date": correction.base_date.strftime("%d.%m.%Y")}
        if correction.base_number:
            info["base_number"] = correction.base_number
        return info

    @staticmethod
    def _vat_totals(items):
        """VAT per rate of the items, computed on each rate's total (tags 1102-1107)."""
        totals = {}
        for item in items:
            totals[item.vat] = totals.get(item.vat, 0) + item.sum
        vats = []
        for code, gross in totals.items():
            amount = rd.vat_amount(code, gross)
            vats.append({"type": code, "sum": _money(amount if amount is not None else 0)})
        return vats

    @staticmethod
    def _client(client):
        values = {"email": client.email, "phone": client.phone, "name": client.name, "inn": client.inn}
        return {key: value for key, value in values.items() if value}

    @staticmethod
    def _company(company):
        values = {
            "email": company.email,
            "sno": company.sno,
            "inn": company.inn,
            "payment_address": company.payment_address,
            "location": company.location,
        }
        return {key: value for key, value in values.items() if value}

    def _item(self, item):
        values = {
            "name": rd.shortened(item.name, rd.ITEM_NAME_MAX),
            "price": _money(item.price),
            "quantity": _quantity(item.quantity),
            "sum": _money(item.sum),
            "payment_method": item.payment_method,
            "payment_object": item.payment_object,
            "vat": self._vat(item),
        }
        if item.measurement_unit:
            values["measurement_unit"] = item.measurement_unit
        if item.mark_code:
            values["nomenclature_code"] = v4_nomenclature_code(item.mark_code)
        if item.agent:
            values.update(self._agent(item.agent))
        return values

    @staticmethod
    def _agent(agent):
        supplier = {"name": agent.supplier_name, "inn": agent.supplier_inn}
        if agent.supplier_phones:
            supplier["phones"] = list(agent.supplier_phones)
        return {"agent_info": {"type": agent.type}, "supplier_info": supplier}

    @staticmethod
    def _vat(item):
        vat = {"type": item.vat}
        if item.vat_sum is not None:
            vat["sum"] = _money(item.vat_sum)
        return vat

    # -- service calls ---------------------------------------------------------------

    def check_connection(self):
        """Obtain a fresh token; raises or returns a failed outcome on error."""
        return self._fetch_token()

    def register(self, operation, payload, callback_url=""):
        """Send a registration; ``Outcome`` ACCEPTED (with uuid) or FAILED.

        ``callback_url`` is added at send time: it carries a secret token and is not kept in
        the frozen request (design.md §9). An answer that cannot be read raises
        ``UnreadableAnswer`` (uncertain: the same id is sent again).
        """
        url = f"{self._version_url()}/{self.config.group_code}/{operation}"
        if callback_url:
            payload = dict(payload, service={"callback_url": callback_url})
        answer = self._authorized("register", "POST", url, payload)
        if isinstance(answer, oc.Outcome):
            return answer
        http_status, body = answer
        try:
            return self._registration(http_status, body)
        except PARSE_ERRORS as exc:
            raise UnreadableAnswer(
                f"ATOL's answer to the registration cannot be read: {exc}",
                uncertain=True,
                http_status=http_status,
            ) from exc

    def _registration(self, http_status, body):
        error = _dict(body.get("error"))
        code = _code(error)
        uuid = _identifier(body.get("uuid"))
        if code == ALREADY_EXISTS_CODE and uuid:
            # The vendor already holds this external_id: the first registration counts, once
            # its report shows that it is this request (see ``report``).
            return oc.Outcome(oc.ACCEPTED, vendor_id=uuid, http_status=http_status, raw=body)
        if not error and uuid:
            return oc.Outcome(oc.ACCEPTED, vendor_id=uuid, http_status=http_status, raw=body)
        return self._failure(http_status, body, error)

    def report(self, uuid, payload=None):
        """Ask for the result of a registered document.

        With the frozen request ``payload``, a done document that does not describe it (its
        external id or total differ) is not taken as this receipt: ATTENTION.
        """
        url = f"{self._version_url()}/{self.config.group_code}/report/{uuid}"
        answer = self._authorized("report", "GET", url, None)
        if isinstance(answer, oc.Outcome):
            return answer
        http_status, body = answer
        try:
            return self._result(uuid, http_status, body, payload)
        except PARSE_ERRORS as exc:
            raise UnreadableAnswer(
                f"ATOL's answer to the status request cannot be read: {exc}", http_status=http_status
            ) from exc

    def _result(self, uuid, http_status, body, payload):
        error = _dict(body.get("error"))
        status = body.get("status")
        if status == "done":
            fiscal = _fiscal(_dict(body.get("payload"), required=True))
            if not (fiscal.fiscal_document_number and fiscal.fiscal_document_attribute):
                raise ValueError("a done document without its fiscal document number or fiscal sign")
            mismatch = payload and _mismatch(payload, body, fiscal)
            if mismatch:
                return oc.Outcome(
                    oc.ATTENTION,
                    vendor_id=uuid,
                    fiscal=fiscal,
                    error_code="document_mismatch",
                    error_text=mismatch,
                    http_status=http_status,
                    raw=body,
                )
            return oc.Outcome(oc.DONE, vendor_id=uuid, fiscal=fiscal, http_status=http_status, raw=body)
        if status == "wait" or _code(error) == NOT_READY_CODE:
            return oc.Outcome(oc.WAIT, vendor_id=uuid, http_status=http_status, raw=body)
        if status == "fail" and error.get("type") != "system":
            # The document failed on the register (driver, agent, queue timeout): it stays
            # bound to its external_id, so a new id is needed. A "system" error is the
            # service's own (e.g. 30, unknown uuid in this group) and says nothing of it.
            return oc.Outcome(
                oc.FAILED,
                vendor_id=uuid,
                error_code=str(_code(error) or ""),
                error_text=_text(error.get("text"))
                or "ATOL reports the document failed, without saying why.",
                kind=oc.KIND_DEVICE,
                new_id_needed=True,
                http_status=http_status,
                raw=body,
            )
        return self._failure(http_status, body, error)

    # -- plumbing --------------------------------------------------------------------

    def _version_url(self):
        return f"{self.config.root_url}/{self.api_version}"

    def _failure(self, http_status, body, error):
        code = _code(error)
        text = _text(error.get("text"))
        if code in AUTH_CODES:
            kind = oc.KIND_AUTH
        elif code in CONFIG_CODES:
            kind = oc.KIND_CONFIG
        elif code in VALIDATION_CODES:
            kind = oc.KIND_VALIDATION
        else:
            # Codes 0, 1, 50 and anything undocumented: the vendor could not process it now.
            raise TransientError(text or f"ATOL error {code}", uncertain=False, http_status=http_status)
        return oc.Outcome(
            oc.FAILED,
            error_code=str(code),
            error_text=text,
            kind=kind,
            http_status=http_status,
            raw=body,
        )

    def _authorized(self, action, method, url, payload):
        """Call with a valid token; renew it once on errors 10/11."""
        for first_try in (True, False):
            token = self._valid_token()
            if isinstance(token, oc.Outcome):
                return token
            http_status, body = self._exchange(action, method, url, payload, token=token)
            if _code(_dict(body.get("error"))) in TOKEN_REFRESH_CODES and first_try:
                self.token_store.set("", None)
                continue
            return http_status, body
        return http_status, body

    def _valid_token(self):
        token, expiry = self.token_store.get()
        if token and expiry and expiry - TOKEN_MARGIN > _now():
            return token
        return self._fetch_token()

    def _fetch_token(self):
        url = f"{self._version_url()}/getToken"
        body = {"login": self.config.login, "pass": self.config.password, "source": self.config.source}
        http_status, answer = self._exchange("token", "POST", url, body, mask=("pass",))
        token = answer.get("token")
        error = _dict(answer.get("error"))
        if token and not error:
            if not isinstance(token, str) or not TOKEN_PATTERN.match(token):
                raise UnreadableAnswer("ATOL answered a token that cannot be used", http_status=http_status)
            self.token_store.set(token, _now() + TOKEN_LIFETIME)
            return token
        return self._failure(http_status, answer, error)

    def _exchange(self, action, method, url, payload, token=None, mask=()):
        headers = {"Content-Type": "application/json; charset=utf-8"}
        if token:
            headers["Token"] = token
        started = time.monotonic()
        logged_request = _logged(payload, mask)
        try:
            response = self.session.request(
                method,
                url,
                json=payload,
                headers=headers,
                timeout=(self.config.connect_timeout, self.config.read_timeout),
            )
        except requests.exceptions.ConnectTimeout as exc:
            self._report(action, url, started, message=str(exc), request=logged_request, reached=False)
            raise TransientError(f"ATOL unreachable: {exc}", uncertain=False) from exc
        except requests.exceptions.ConnectionError as exc:
            # Refused connections never reached the vendor; anything else may have.
            # Only a registration can have been carried out; a refused connection never arrived.
            refused = _refused(exc)
            uncertain = action == "register" and not refused
            self._report(
                action,
                url,
                started,
                message=str(exc),
                request=logged_request,
                reached=False if refused else None,
            )
            raise TransientError(f"ATOL connection failed: {exc}", uncertain=uncertain) from exc
        except requests.exceptions.Timeout as exc:
            self._report(action, url, started, message=str(exc), request=logged_request)
            raise TransientError(
                f"ATOL did not answer in time: {exc}", uncertain=action == "register"
            ) from exc
        body = _json(response)
        if body and body.get("callback_url"):
            body = dict(body, callback_url="***")  # its token is a secret (design.md §9)
        error = _dict((body or {}).get("error"))
        if action == "token":
            shown = {k: ("***" if k == "token" else v) for k, v in (body or {}).items()}
        else:
            shown = body
        self._report(
            action,
            url,
            started,
            http_status=response.status_code,
            error_code=str(_code(error) or ""),
            error_type=_text(error.get("type")),
            message=_text(error.get("text")) or ("" if body is not None else response.text[:500]),
            request=logged_request,
            response=shown,
            reached=True,
        )
        if body is None or response.status_code >= 500 or response.status_code == 429:
            # Whatever happened behind a 5xx or an unreadable answer is unknown.
            raise TransientError(
                f"ATOL answered HTTP {response.status_code} without a usable body",
                uncertain=action == "register",
                http_status=response.status_code,
            )
        return response.status_code, body

    def _report(self, action, url, started, **values):
        duration = int((time.monotonic() - started) * 1000)
        self.on_exchange(oc.Exchange(action=action, url=url, duration_ms=duration, **values))


class AtolV5Client(AtolV4Client):
    """FFD 1.2: integer payment objects, mandatory measure, no free-text unit."""

    api_version = "v5"

    def build_payload(self, receipt):
        body = super().build_payload(receipt)
        document = body["correction"] if receipt.correction else body["receipt"]
        if receipt.internet and not receipt.correction:
            document["internet"] = True  # tag 1125, mandatory for online sales since 09.2025
        if receipt.cashier_inn:
            document["cashier_inn"] = receipt.cashier_inn
        return body

    @staticmethod
    def _correction_info(correction):
        info = AtolV4Client._correction_info(correction)
        if correction.type != "instruction":
            info.pop("base_number", None)  # tag 1179 names the tax office's order only
        return info

    def _correction_payload(self, receipt):
        """FFD 1.2 correction (protocol v5): items, payments and total like a receipt."""
        correction = {
            "company": self._company(receipt.company),
            "correction_info": self._correction_info(receipt.correction),
            "items": [self._item(item) for item in receipt.items],
            "payments": [{"type": p.type, "sum": _money(p.sum)} for p in receipt.payments],
            "total": _money(receipt.total),
        }
        client = self._client(receipt.client)
        if client:
            correction["client"] = client
        if receipt.cashier:
            correction["cashier"] = receipt.cashier
        return self._correction_envelope(receipt, correction)

    def _item(self, item):
        values = super()._item(item)
        values.pop("measurement_unit", None)
        values["payment_object"] = rd.ffd12_payment_object(item)
        values["measure"] = item.measure
        if values.pop("nomenclature_code", None):
            # FFD 1.2 (tag 1163): the whole code, separators included, in base64; a marked
            # unit is counted in pieces.
            values["mark_code"] = {"gs1m": base64.b64encode(item.mark_code.encode()).decode()}
            values["mark_processing_mode"] = "0"
            values["measure"] = rd.MEASURE_PIECE
        return values


def _code(error):
    code = error.get("code")
    if isinstance(code, bool):
        return None
    try:
        return int(code)
    except (TypeError, ValueError, OverflowError):
        return None


def _dict(value, required=False):
    """``value`` if it is a JSON object; {} otherwise (or an error when ``required``)."""
    if isinstance(value, dict):
        return value
    if required:
        raise TypeError(f"an object was expected, not {type(value).__name__}")
    return {}


def _text(value, limit=1000):
    if value is None:
        return ""
    return str(value)[:limit] if isinstance(value, (str, int, float)) else ""


def _identifier(value):
    """A document id (uuid) the service gave, or "" when it is not one."""
    if isinstance(value, str) and IDENTIFIER_PATTERN.match(value):
        return value
    return ""


def _json(response):
    try:
        body = response.json()
    except (ValueError, RecursionError):
        return None
    return body if isinstance(body, dict) else None


def _logged(payload, mask):
    if not payload:
        return None
    logged = {k: ("***" if k in mask else v) for k, v in payload.items()}
    if isinstance(logged.get("service"), dict):
        # The callback URL carries the receipt's secret token.
        logged["service"] = {"callback_url": "***"}
    return logged


def _refused(exc):
    text = str(exc)
    return "Connection refused" in text or "NewConnectionError" in text


def _integer(payload, name, maximum=INTEGER_MAX):
    """A non-negative integer field of the fiscal data (a number or a string of digits)."""
    value = payload.get(name)
    if value in (None, ""):
        return 0
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise TypeError(f"{name} is not a number")
    if isinstance(value, float) and not value.is_integer():
        raise ValueError(f"{name} is not a whole number")
    if isinstance(value, str) and not value.strip().isdigit():
        raise ValueError(f"{name} is not a whole number")
    number = int(value)
    if not 0 <= number <= maximum:
        raise ValueError(f"{name} is out of range")
    return number


def _string(payload, name, limit=256):
    value = payload.get(name)
    if value in (None, ""):
        return ""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise TypeError(f"{name} is not text")
    text = str(value) if isinstance(value, str) or abs(value) < 10**20 else ""
    if len(text) > limit or any(ord(char) < 32 for char in text):
        raise ValueError(f"{name} is not a usable value")
    return text


def _fiscal(payload):
    """The fiscal data of a done document; raises on a field that cannot be stored as is."""
    total = payload.get("total")
    if total is not None and (isinstance(total, bool) or not isinstance(total, (int, float, str))):
        raise TypeError("total is not a number")
    return oc.FiscalData(
        fn_number=_string(payload, "fn_number", 32),
        fiscal_document_number=_integer(payload, "fiscal_document_number"),
        fiscal_document_attribute=_string(payload, "fiscal_document_attribute", 32),
        shift_number=_integer(payload, "shift_number"),
        fiscal_receipt_number=_integer(payload, "fiscal_receipt_number"),
        receipt_datetime=_string(payload, "receipt_datetime", 32),
        ecr_registration_number=_string(payload, "ecr_registration_number", 32),
        total=_string(payload, "total", 32) if not isinstance(total, float) else repr(total),
        ofd_inn=_string(payload, "ofd_inn", 12),
        ofd_receipt_url=_string(payload, "ofd_receipt_url", 1024),
        fns_site=_string(payload, "fns_site", 256),
    )


def _expected_total(payload):
    """The total of a frozen request: a receipt's, a v5 correction's, or a v4 correction's payments."""
    document = _dict(payload.get("receipt")) or _dict(payload.get("correction"))
    if "total" in document:
        return Decimal(str(document["total"]))
    return sum((Decimal(str(p.get("sum", 0))) for p in document.get("payments") or ()), Decimal(0))


def _mismatch(payload, body, fiscal):
    """Why a done document is not the one ``payload`` asked for, or ""."""
    external_id = body.get("external_id")
    if external_id and external_id != payload.get("external_id"):
        return (
            f"ATOL reports document {external_id!r} under this uuid, while this receipt's external id "
            f"is {payload.get('external_id')!r}."
        )
    if not fiscal.total:
        return "ATOL reports the document done without its total: it cannot be compared with this receipt."
    registered = Decimal(fiscal.total).quantize(rd.KOPECK)
    expected = _expected_total(payload).quantize(rd.KOPECK)
    if registered != expected:
        return (
            f"ATOL holds a document of {registered} under this receipt's external id, while this "
            f"receipt is for {expected}: the id was used for other data. Check the registered "
            "document before anything else is sent."
        )
    return ""
