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

import requests

from . import outcome as oc
from . import receipt as rd
from .errors import TransientError

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

    def __init__(self, config, session=None, token_store=None, on_exchange=None):
        self.config = config
        self.session = session or requests.Session()
        self.token_store = token_store or MemoryTokenStore()
        self.on_exchange = on_exchange or (lambda exchange: None)

    # -- payload ---------------------------------------------------------------------

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
        if receipt.callback_url:
            body["service"] = {"callback_url": receipt.callback_url}
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
        body = {
            "timestamp": receipt.timestamp.strftime(TIMESTAMP_FORMAT),
            "external_id": receipt.external_id,
            "correction": correction,
        }
        if receipt.callback_url:
            body["service"] = {"callback_url": receipt.callback_url}
        return body

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
            "name": item.name,
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

    def register(self, operation, payload):
        """Send a registration; ``Outcome`` ACCEPTED (with uuid) or FAILED."""
        url = f"{self._version_url()}/{self.config.group_code}/{operation}"
        answer = self._authorized("register", "POST", url, payload)
        if isinstance(answer, oc.Outcome):
            return answer
        http_status, body = answer
        error = body.get("error") or {}
        code = _code(error)
        uuid = body.get("uuid") or ""
        if code == ALREADY_EXISTS_CODE and uuid:
            # The vendor already holds this external_id: the first registration counts.
            return oc.Outcome(oc.ACCEPTED, vendor_id=uuid, http_status=http_status, raw=body)
        if not error and uuid:
            return oc.Outcome(oc.ACCEPTED, vendor_id=uuid, http_status=http_status, raw=body)
        return self._failure(http_status, body, error)

    def report(self, uuid):
        """Ask for the result of a registered document."""
        url = f"{self._version_url()}/{self.config.group_code}/report/{uuid}"
        answer = self._authorized("report", "GET", url, None)
        if isinstance(answer, oc.Outcome):
            return answer
        http_status, body = answer
        error = body.get("error") or {}
        status = body.get("status")
        if status == "done":
            return oc.Outcome(
                oc.DONE,
                vendor_id=uuid,
                fiscal=_fiscal(body.get("payload") or {}),
                http_status=http_status,
                raw=body,
            )
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
                error_text=error.get("text") or "",
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
        if code in AUTH_CODES:
            kind = oc.KIND_AUTH
        elif code in CONFIG_CODES:
            kind = oc.KIND_CONFIG
        elif code in VALIDATION_CODES:
            kind = oc.KIND_VALIDATION
        else:
            # Codes 0, 1, 50 and anything undocumented: the vendor could not process it now.
            raise TransientError(
                error.get("text") or f"ATOL error {code}", uncertain=False, http_status=http_status
            )
        return oc.Outcome(
            oc.FAILED,
            error_code=str(code),
            error_text=error.get("text") or "",
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
            if _code(body.get("error") or {}) in TOKEN_REFRESH_CODES and first_try:
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
        if token and not answer.get("error"):
            self.token_store.set(token, _now() + TOKEN_LIFETIME)
            return token
        return self._failure(http_status, answer, answer.get("error") or {})

    def _exchange(self, action, method, url, payload, token=None, mask=()):
        headers = {"Content-Type": "application/json; charset=utf-8"}
        if token:
            headers["Token"] = token
        started = time.monotonic()
        logged_request = {k: ("***" if k in mask else v) for k, v in payload.items()} if payload else None
        try:
            response = self.session.request(
                method,
                url,
                json=payload,
                headers=headers,
                timeout=(self.config.connect_timeout, self.config.read_timeout),
            )
        except requests.exceptions.ConnectTimeout as exc:
            self._report(action, url, started, message=str(exc), request=logged_request)
            raise TransientError(f"ATOL unreachable: {exc}", uncertain=False) from exc
        except requests.exceptions.ConnectionError as exc:
            # Refused connections never reached the vendor; anything else may have.
            # Only a registration can have been carried out; a refused connection never arrived.
            uncertain = action == "register" and not _refused(exc)
            self._report(action, url, started, message=str(exc), request=logged_request)
            raise TransientError(f"ATOL connection failed: {exc}", uncertain=uncertain) from exc
        except requests.exceptions.Timeout as exc:
            self._report(action, url, started, message=str(exc), request=logged_request)
            raise TransientError(
                f"ATOL did not answer in time: {exc}", uncertain=action == "register"
            ) from exc
        body = _json(response)
        error = (body or {}).get("error") or {}
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
            error_type=error.get("type") or "",
            message=error.get("text") or ("" if body is not None else response.text[:500]),
            request=logged_request,
            response=shown,
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
    try:
        return int(error.get("code"))
    except (TypeError, ValueError):
        return None


def _json(response):
    try:
        body = response.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def _refused(exc):
    text = str(exc)
    return "Connection refused" in text or "NewConnectionError" in text


def _fiscal(payload):
    return oc.FiscalData(
        fn_number=str(payload.get("fn_number") or ""),
        fiscal_document_number=int(payload.get("fiscal_document_number") or 0),
        fiscal_document_attribute=str(payload.get("fiscal_document_attribute") or ""),
        shift_number=int(payload.get("shift_number") or 0),
        fiscal_receipt_number=int(payload.get("fiscal_receipt_number") or 0),
        receipt_datetime=str(payload.get("receipt_datetime") or ""),
        ecr_registration_number=str(payload.get("ecr_registration_number") or ""),
        total=str(payload.get("total") or ""),
        ofd_inn=str(payload.get("ofd_inn") or ""),
        ofd_receipt_url=str(payload.get("ofd_receipt_url") or ""),
        fns_site=str(payload.get("fns_site") or ""),
    )
