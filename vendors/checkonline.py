"""Checkonline client (ЧЕК онлайн: RP-System/Starrys "FCE" JSON API), the ``Complex`` command.

Plain Python, no Odoo, behind the same interface as the ATOL clients: a configuration, an
injected ``requests.Session``, ``build_payload(receipt)``, ``register(operation, payload)``,
``report(reference)``, ``check_connection()`` and an ``on_exchange`` callback for the attempt log.

Facts: shared/docs/vendor-api.md PART B (§8) and the official protocol text ST32
(shared/vendor-docs/starrys-fce-protocol-3.2.0.txt), which is the authority.

The service is synchronous: one POST registers the receipt and answers with its fiscal data.
There is no token; the client authenticates with a TLS client certificate (mutual TLS).

Idempotency (ST32 §3.5, §3.6.4): the FCE server caches answers by (Group, RequestId, ClientId)
for at least 31 days -- every success, the deterministic device errors 51, 52, 55, 69, 73, 77,
94, 142, 208, 241-246 and FCE error 6. Hence:

- ``RequestId`` is the receipt's ``external_id``: a re-send after a timeout, a dropped
  connection or any transient error uses the same one and gets the cached answer, never a
  second document;
- a cached error comes back for ever under its RequestId: once the data is fixed, a NEW
  RequestId is needed (``Outcome.new_id_needed``);
- errors that are not cached (device busy, no OFD connection, shift over 24 h, FCE 5/18/24...)
  are retried with the same RequestId.
"""

import os
import shutil
import stat
import tempfile
import time
from collections.abc import Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import requests
from cryptography.hazmat.primitives import serialization

from . import outcome as oc
from . import receipt as rd
from .errors import PARSE_ERRORS, TransientError, UnreadableAnswer

# vendor-api.md §8.1: kkt4 is the current production host (kkt.chekonline.ru is the older
# one, still used by some clients); the test cash register answers on fce.chekonline.ru:4443.
PRODUCTION_URL = "https://kkt4.chekonline.ru"
LEGACY_PRODUCTION_URL = "https://kkt.chekonline.ru"
TEST_URL = "https://fce.chekonline.ru:4443"
API_PATH = "/fr/api/v2"
COMMAND = "Complex"

DEFAULT_GROUP = "GROUP0"  # ST32 §3.3.1
# ST32 Табл.29: passwords 1..27 cashiers, 28 senior cashier, 29 administrator, 30 system
# administrator, 31 super administrator.
PASSWORDS = range(1, 32)

# ST32 Табл.12 (Complex only takes DocumentType 0..3; corrections need another command, §8.6).
DOCUMENT_TYPES = {rd.SELL: 0, rd.SELL_REFUND: 2}
# Tag 1054 "признак расчета" of each DocumentType, for the QR string (ST32 §5.26.3).
OPERATION_SIGNS = {0: 1, 1: 3, 2: 2, 3: 4}

# ST32 Табл.11 "Режим налогообложения": one bit per system.
TAX_MODES = {
    "osn": 1,
    "usn_income": 2,
    "usn_income_outcome": 4,
    "envd": 8,
    "esn": 16,
    "patent": 32,
}

# TaxId per VAT code. 1..6: ST32 Табл.33 (18 % relabelled 20 % in 2019 under the same codes,
# official SDK chekonline-sdk-php TaxId.php). 7..10: Platron/starrys Taxes.php (2024-12-20).
# 11/12 for 22 % and 22/122 are an INFERENCE (FFD tag 1199 values 11/12): no source states
# them; confirm with Checkonline and override through ``CheckonlineConfig.tax_ids``.
DEFAULT_TAX_IDS = {
    "vat20": 1,
    "vat10": 2,
    "vat0": 3,
    "none": 4,
    "vat120": 5,
    "vat110": 6,
    "vat5": 7,
    "vat7": 8,
    "vat105": 9,
    "vat107": 10,
    "vat22": 11,
    "vat122": 12,
}

# Tag 1214, ST32 Табл.9 (official SDK PayAttribute.php). 7 must be the only line.
PAY_ATTRIBUTES = {
    "full_prepayment": 1,
    "prepayment": 2,
    "advance": 3,
    "full_payment": 4,
    "partial_payment": 5,
    "credit": 6,
    "credit_payment": 7,
}
CREDIT_PAYMENT = 7

# Tag 1212 (official SDK Line.php): the FFD values, rd.FFD12_PAYMENT_OBJECTS.

# Payment types of the neutral receipt -> Complex money fields (ST32 §2.4).
PAYMENT_FIELDS = {
    rd.PAYMENT_CASH: "Cash",
    rd.PAYMENT_ELECTRONIC: "NonCash",
    rd.PAYMENT_ADVANCE: "AdvancePayment",
    rd.PAYMENT_CREDIT: "Credit",
    rd.PAYMENT_OTHER: "Consideration",
}

# The database keeps 32-bit integers; a fiscal number above is not a number this client trusts.
INTEGER_MAX = 2**31 - 1
MAX_DESCRIPTION = 128  # FFD tag 1030 (the binary protocol would take 200 bytes)
MAX_CONTACT = 64  # tag 1008
MAX_PLACE = 256  # tag 1187
ZERO_PRICE_POLICIES = ("send", "drop", "refuse")

# Device errors (ST32 Табл.25) the FCE server caches (§3.5): the same RequestId gets the same
# answer for at least 31 days, so a new RequestId is needed once the cause is fixed.
CACHED_DEVICE_ERRORS = {51, 52, 55, 69, 73, 77, 94, 142, 208, 241, 242, 243, 244, 245, 246}
VALIDATION_DEVICE_ERRORS = {51, 52, 69, 77, 142, 208}  # the receipt data; others: protocol use
AUTH_DEVICE_ERRORS = {79, 239}  # wrong password; device lease expired
CONFIG_DEVICE_ERRORS = {238}  # group of the FCE server does not match the device's
DEVICE_ERROR_TEXTS = {
    17: "Нет транспортного соединения с ОФД",
    22: "Продолжительность смены более 24 часов",
    51: "Параметр команды содержит неверные данные",
    52: "Отсутствуют данные для команды",
    55: "Команда не реализована",
    57: "Внутренняя ошибка устройства",
    61: "Смена не открыта",
    69: "Сумма всех оплат меньше итога чека",
    73: "Неверный тип документа для данной команды",
    77: "Сумма электронных видов оплаты больше итога чека",
    79: "Неверный пароль для данной команды",
    94: "Неверная команда",
    142: "Нулевой итог чека",
    208: "Документ не содержит товарных позиций",
    238: "Группа сервера FCE не соответствует группе устройства",
    239: "Истёк срок аренды устройства",
    240: "Ошибка при выполнении комплексной команды",
    255: "Фатальная ошибка устройства",
}

# FCE server errors (ST32 Табл.4, §3.6), HTTP 500 with FCEError/ErrorDescription/Fatal.
FCE_RETRYABLE = {5, 18, 24}  # used when an answer lacks "Fatal"
FCE_UNDEFINED_STATE = {6, 16}  # the device may have executed the request (§3.6.4, §3.6.5)
FCE_IN_PROGRESS = 24  # the same RequestId is being processed right now (§3.6.9)
FCE_BAD_REQUEST = 2  # JSON or field types (§3.6.2)

# OFD receipt links (vendor-api.md §8.5): Checkonline returns no link, only the QR string.
OFD_URL_TEMPLATES = {
    "ofd.ru": "https://check.ofd.ru/rec/{fn}/{fd}/{fp}",
    "1-ofd": "https://consumer.1-ofd.ru/v1?fn={fn}&fp={fp}&i={fd}&t={t}&s={s}&n={n}",
}
_TEMPLATE_KEYS = ("fn", "fd", "fp", "t", "s", "n", "rn", "qr")

# TLS failures that prove the server refused the handshake (or we refused the server): the
# HTTP request was never processed. An EOF during the exchange proves nothing.
_TLS_REFUSALS = (
    "certificate",
    "unknown ca",
    "unknown_ca",
    "handshake failure",
    "handshake_failure",
    "access denied",
    "access_denied",
)


class CheckonlineDataError(ValueError):
    """The receipt cannot be sent as it is; nothing was sent.

    Found before sending on purpose: the device's answer to bad data (error 51...) is cached
    under the RequestId, which would then be burnt. ``problems`` lists ``(field, message)``;
    ``field`` and ``value`` describe the first one.
    """

    def __init__(self, problems):
        self.problems = list(problems)
        self.field, self.value = self.problems[0][0], self.problems[0][2]
        super().__init__("\n".join(f"{field}: {message}" for field, message, _value in self.problems))


class CheckonlineCertificateError(TransientError):
    """The TLS handshake failed on a certificate: the request was never processed.

    A transport error (same RequestId later), but one that needs an administrator: the client
    certificate is missing, expired or not Checkonline's, or the server's was not trusted.
    """


@dataclass(frozen=True)
class CheckonlineConfig:
    test_mode: bool = True
    base_url: str = ""  # overrides the official host, e.g. the sandbox
    group: str = DEFAULT_GROUP
    client_id: str = ""  # part of the cache key; a point of sale if one certificate serves several
    password: int = 1  # command password (cashier 1)
    device: str = "auto"  # or a device serial number
    tax_mode: int = None  # None: from the receipt's taxation system; 0: not sent (one registered)
    tax_ids: Mapping = None  # overrides of DEFAULT_TAX_IDS, e.g. {"vat22": 1}
    cert_file: str = ""  # client certificate (PEM), used unless the session has ``cert`` set
    key_file: str = ""  # its private key (PEM, unencrypted); never logged
    verify: object = None  # CA bundle path or bool; None: the session's setting
    connect_timeout: float = 10.0
    # FCE may look for a device for TryCount x 5 s and wait WaitForFree 60 s (ST32 §3.3.6-7).
    read_timeout: float = 120.0
    full_response: bool = True  # also returns shift number, FN and RN as fiscal tags
    send_internet: bool = True  # tag 1125 "Internet" (libraries only; mandatory since 09.2025)
    zero_price_lines: str = "send"  # send | drop | refuse
    ofd_url_template: str = ""  # e.g. OFD_URL_TEMPLATES["ofd.ru"]; empty: no link
    production_url: str = PRODUCTION_URL

    def __post_init__(self):
        problems = []
        if not self.group:
            problems.append("group is required (GROUP0 by default)")
        if not self.device:
            problems.append('device is required ("auto" or a serial number)')
        if isinstance(self.password, bool) or self.password not in PASSWORDS:
            problems.append(f"password must be an integer 1..31, not {self.password!r}")
        if self.tax_mode is not None and self.tax_mode != 0 and self.tax_mode not in TAX_MODES.values():
            problems.append(
                f"tax_mode must be one of {sorted(TAX_MODES.values())} or 0, not {self.tax_mode!r}"
            )
        for code, tax_id in dict(self.tax_ids or {}).items():
            if code not in rd.VAT_CODES or isinstance(tax_id, bool) or not isinstance(tax_id, int):
                problems.append(f"tax_ids: {code!r} -> {tax_id!r} is not a VAT code -> integer TaxId")
        if bool(self.cert_file) != bool(self.key_file):
            problems.append("cert_file and key_file go together")
        if self.zero_price_lines not in ZERO_PRICE_POLICIES:
            problems.append(f"zero_price_lines must be one of {ZERO_PRICE_POLICIES}")
        if self.ofd_url_template:
            try:
                self.ofd_url_template.format(**dict.fromkeys(_TEMPLATE_KEYS, "0"))
            except (KeyError, IndexError, ValueError) as exc:
                problems.append(f"ofd_url_template: unknown placeholder {exc}; known: {_TEMPLATE_KEYS}")
        if problems:
            raise ValueError("Checkonline configuration: " + "; ".join(problems))

    @property
    def root_url(self):
        return (self.base_url or (TEST_URL if self.test_mode else self.production_url)).rstrip("/")

    @property
    def command_url(self):
        return f"{self.root_url}{API_PATH}/{COMMAND}"

    @property
    def tax_id_map(self):
        return {**DEFAULT_TAX_IDS, **dict(self.tax_ids or {})}

    @property
    def cert(self):
        return (self.cert_file, self.key_file) if self.cert_file else None


# Typography that CP866 lacks, replaced by what the register can print (a name like
# Книга «Кассовая дисциплина» must not stop a receipt).
_TYPOGRAPHY = str.maketrans(
    {
        "«": '"',
        "»": '"',
        "“": '"',
        "”": '"',
        "„": '"',
        "‘": "'",
        "’": "'",
        "—": "-",
        "–": "-",
        "‑": "-",
        "…": "...",
        "\u00a0": " ",
        "\u202f": " ",
    }
)


def printable(text):
    """The text with typographic quotes, dashes and spaces made CP866-printable."""
    return (text or "").translate(_TYPOGRAPHY)


def unprintable(text):
    """The characters of ``text`` the register cannot print, even with its typography replaced."""
    return _not_cp866(printable(text))


@contextmanager
def certificate_files(cert_pem, key_pem, key_password=None):
    """A client certificate and its key as file paths for ``cert_file``/``key_file``.

    ``cert_pem``/``key_pem`` are PEM bytes or text (e.g. ``certificate.certificate.pem_certificate``
    and ``private_key_id.pem_key`` after base64 decoding). An encrypted key is decrypted with
    ``key_password`` (``requests`` cannot take a password and OpenSSL would prompt on a terminal).
    On Linux the files live in memory only (``memfd_create``): nothing reaches the disk, and
    they vanish with the process even if it is killed. Elsewhere they are private temporary
    files, removed on exit.
    """
    cert_bytes = cert_pem.encode() if isinstance(cert_pem, str) else bytes(cert_pem)
    key_bytes = key_pem.encode() if isinstance(key_pem, str) else bytes(key_pem)
    if b"ENCRYPTED" in key_bytes or key_password:
        if not key_password:
            raise ValueError("The client certificate's private key is encrypted: its password is needed.")
        password = key_password.encode() if isinstance(key_password, str) else key_password
        key = serialization.load_pem_private_key(key_bytes, password=password)
        key_bytes = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    contents = (("client.pem", cert_bytes), ("client.key", key_bytes))
    if _memory_files_supported():
        with _memory_files(contents) as paths:
            yield paths
        return
    with _private_files(contents) as paths:
        yield paths


def _memory_files_supported():
    return hasattr(os, "memfd_create") and os.path.isdir("/proc/self/fd")


@contextmanager
def _memory_files(contents):
    descriptors = []
    try:
        for name, content in contents:
            descriptor = os.memfd_create(f"kkm-checkonline-{name}", os.MFD_CLOEXEC)
            descriptors.append(descriptor)
            os.write(descriptor, content)
        yield tuple(f"/proc/self/fd/{descriptor}" for descriptor in descriptors)
    finally:
        for descriptor in descriptors:
            os.close(descriptor)


@contextmanager
def _private_files(contents):
    folder = tempfile.mkdtemp(prefix="kkm-checkonline-")
    try:
        os.chmod(folder, stat.S_IRWXU)
        paths = []
        for name, content in contents:
            path = os.path.join(folder, name)
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, stat.S_IRUSR | stat.S_IWUSR)
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(content)
            paths.append(path)
        yield tuple(paths)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


class CheckonlineClient:
    """One Checkonline account (certificate + group), the ``Complex`` command."""

    is_synchronous = True  # register() answers with the fiscal data; there is no report()
    # ST32 §2.4 sets no maximum number of Lines for Complex (vendor-api.md §8): one receipt.
    max_items = None

    def __init__(self, config, session=None, token_store=None, on_exchange=None):
        self.config = config
        self.session = session or requests.Session()
        self.token_store = token_store  # no token with mutual TLS; accepted for the interface
        self.on_exchange = on_exchange or (lambda exchange: None)

    # -- payload ---------------------------------------------------------------------

    def split(self, receipt):
        """The receipts that carry ``receipt``: always itself (no documented item limit)."""
        return rd.split(receipt, self.max_items)

    def build_payload(self, receipt):
        """The ``Complex`` request for a neutral ``receipt.Receipt``; raises CheckonlineDataError."""
        problems = []
        config = self.config
        document_type = DOCUMENT_TYPES.get(receipt.operation)
        if document_type is None:
            problems.append(
                (
                    "DocumentType",
                    f"operation {receipt.operation!r} cannot be sent with Complex (sell and "
                    "sell_refund only; corrections need MakeCorrectionDocument)",
                    receipt.operation,
                )
            )
        if not receipt.external_id:
            problems.append(("RequestId", "the receipt has no external_id (idempotency key)", ""))

        lines = self._lines(receipt.items, problems)
        money = self._payments(receipt, lines, problems)
        body = {
            "Device": config.device,
            "Group": config.group,
            "RequestId": receipt.external_id,
            "DocumentType": document_type,
            "Lines": lines,
        }
        if config.client_id:
            body["ClientId"] = config.client_id
        body.update(money)
        tax_mode = self._tax_mode(receipt.company, problems)
        if tax_mode:
            body["TaxMode"] = tax_mode
        contact = receipt.client.email or receipt.client.phone
        self._check_text(
            "PhoneOrEmail",
            contact,
            MAX_CONTACT,
            problems,
            required="the customer has neither an e-mail nor a phone (tag 1008 is required for an "
            "electronic receipt)",
        )
        body["PhoneOrEmail"] = contact
        place = receipt.company.payment_address
        if place:
            self._check_text("Place", place, MAX_PLACE, problems)
            body["Place"] = place
        if receipt.internet and config.send_internet:
            body["Internet"] = True
        body["FullResponse"] = bool(config.full_response)
        if problems:
            raise CheckonlineDataError(problems)
        return body

    def _lines(self, items, problems):
        policy = self.config.zero_price_lines
        tax_ids = self.config.tax_id_map
        lines = []
        for index, item in enumerate(items):
            where = f"Lines[{index}]"
            price = _exact(item.price, 2, f"{where}.Price", problems)
            quantity = _exact(item.quantity, 3, f"{where}.Qty", problems)
            line_sum = _exact(item.sum, 2, f"{where}.Sum", problems)
            if quantity is not None and quantity <= 0:
                problems.append(
                    (f"{where}.Qty", f"quantity must be above 0, not {item.quantity}", item.quantity)
                )
            if price is not None and quantity is not None and line_sum is not None:
                device_sum = _half_up(price * quantity, 1000)
                if device_sum != line_sum:
                    problems.append(
                        (
                            f"{where}.Price",
                            f"price {item.price} x quantity {item.quantity} gives "
                            f"{_rub(device_sum)} on the device, not the item sum {item.sum}",
                            item.price,
                        )
                    )
            if price == 0:
                if policy == "drop":
                    continue
                if policy == "refuse":
                    problems.append((f"{where}.Price", f'"{item.name}" has a zero price', item.price))
            # Cut after the typography is replaced: "…" becomes three characters (tag 1030).
            name = rd.shortened(printable(item.name), MAX_DESCRIPTION, ellipsis="...")
            self._check_text(
                f"{where}.Description",
                name,
                MAX_DESCRIPTION,
                problems,
                required="the item name is empty",
            )
            tax_id = tax_ids.get(item.vat)
            if tax_id is None:
                problems.append((f"{where}.TaxId", f"no TaxId for VAT code {item.vat!r}", item.vat))
            pay_attribute = PAY_ATTRIBUTES.get(item.payment_method)
            if pay_attribute is None:
                problems.append(
                    (
                        f"{where}.PayAttribute",
                        f"unknown payment method {item.payment_method!r}",
                        item.payment_method,
                    )
                )
            line_attribute = (
                rd.ffd12_payment_object(item) if item.payment_object in rd.FFD12_PAYMENT_OBJECTS else None
            )
            if line_attribute is None:
                problems.append(
                    (
                        f"{where}.LineAttribute",
                        f"unknown payment object {item.payment_object!r}",
                        item.payment_object,
                    )
                )
            lines.append(
                {
                    "Qty": quantity,
                    "Price": price,
                    "PayAttribute": pay_attribute,
                    "LineAttribute": line_attribute,
                    "TaxId": tax_id,
                    "Description": name,
                }
            )
        if not lines:
            problems.append(("Lines", "the receipt has no items (device error 208)", ()))
        if len(lines) > 1 and any(line["PayAttribute"] == CREDIT_PAYMENT for line in lines):
            problems.append(
                (
                    "Lines.PayAttribute",
                    "credit_payment (7) must be the only line of its receipt (ST32 Табл.9)",
                    CREDIT_PAYMENT,
                )
            )
        return lines

    def _payments(self, receipt, lines, problems):
        """Money fields in kopecks: this receipt's payments, which must add up to its total."""
        total = _exact(receipt.total, 2, "Total", problems)
        amounts = dict.fromkeys(PAYMENT_FIELDS.values(), 0)
        for index, payment in enumerate(receipt.payments):
            name = PAYMENT_FIELDS.get(payment.type)
            amount = _exact(payment.sum, 2, f"Payments[{index}]", problems)
            if name is None:
                problems.append(
                    (
                        f"Payments[{index}]",
                        f"payment type {payment.type} has no Checkonline field",
                        payment.type,
                    )
                )
            elif amount is not None:
                amounts[name] += amount
        if total is None:
            return {"NonCash": [amounts["NonCash"], 0, 0]}
        if total <= 0:
            problems.append(
                (
                    "Total",
                    f"the receipt total must be above 0, not {receipt.total} (device error 142)",
                    receipt.total,
                )
            )
        if all(line["Qty"] is not None and line["Price"] is not None for line in lines):
            lines_total = sum(_half_up(line["Price"] * line["Qty"], 1000) for line in lines)
            if lines_total != total:
                problems.append(
                    (
                        "Total",
                        f"the items add up to {_rub(lines_total)}, not to the total {receipt.total}",
                        receipt.total,
                    )
                )
        paid = sum(amounts.values())
        if paid != total:
            problems.append(
                (
                    "Payments",
                    f"the payments add up to {_rub(paid)}, not to the receipt total {receipt.total}",
                    _rub(paid),
                )
            )
        # NonCash is always the 3-element array of ST32 §2.4; everything goes to the first type.
        money = {"NonCash": [amounts["NonCash"], 0, 0]}
        money.update({name: amount for name, amount in amounts.items() if name != "NonCash" and amount})
        return money

    def _tax_mode(self, company, problems):
        if self.config.tax_mode is not None:
            return self.config.tax_mode
        tax_mode = TAX_MODES.get(company.sno)
        if tax_mode is None:
            problems.append(("TaxMode", f"unknown taxation system {company.sno!r}", company.sno))
        return tax_mode

    @staticmethod
    def _check_text(field, text, limit, problems, required=""):
        """CP866 (ST32 §2.1.3: the fiscal storage keeps CP866), length, presence."""
        if not text or not text.strip():
            if required:
                problems.append((field, required, text))
            return
        if len(text) > limit:
            problems.append((field, f'"{text}" is {len(text)} characters long; {limit} at most', text))
        refused = _not_cp866(text)
        if refused:
            shown = ", ".join(f"{char!r} (U+{ord(char):04X})" for char in refused)
            problems.append(
                (field, f'"{text}" contains characters the fiscal storage cannot hold (CP866): {shown}', text)
            )

    # -- service calls ---------------------------------------------------------------

    def register(self, operation, payload, callback_url=""):
        """POST the Complex request; ``Outcome`` DONE with fiscal data, FAILED, or ATTENTION.

        Raises ``TransientError`` when the same payload (same RequestId) must be sent again
        later: ``uncertain`` tells whether the receipt may already be registered, in which
        case the re-send returns the cached answer. The cashier's password is added here, so
        that it is never kept in the frozen request; Checkonline has no callbacks.
        """
        expected = DOCUMENT_TYPES.get(operation)
        if expected is None or payload.get("DocumentType") != expected:
            raise CheckonlineDataError(
                [
                    (
                        "DocumentType",
                        f"operation {operation!r} does not match the payload",
                        payload.get("DocumentType"),
                    )
                ]
            )
        request_id = payload.get("RequestId") or ""
        payload = dict(payload, Password=self.config.password)
        response, body = self._exchange("register", "POST", self.config.command_url, payload)
        try:
            return self._registration(response, body, payload, request_id)
        except PARSE_ERRORS as exc:
            raise UnreadableAnswer(
                f"Checkonline's answer cannot be read: {exc}",
                uncertain=True,
                http_status=response.status_code,
            ) from exc

    def _registration(self, response, body, payload, request_id):
        status = response.status_code
        if isinstance(body, dict) and "FCEError" in body:
            return self._fce_failure(status, body, request_id, response)
        if status == 429:
            raise TransientError(
                "Checkonline: too many requests (HTTP 429)", uncertain=False, http_status=status
            )
        if status >= 500:
            # A proxy page or a broken FCE answer: whatever happened behind it is unknown.
            raise TransientError(
                f"Checkonline answered HTTP {status} without a usable body",
                uncertain=True,
                http_status=status,
            )
        if status >= 400:
            # Refused before the command ran (certificate not allowed at HTTP level, wrong URL).
            return oc.Outcome(
                oc.FAILED,
                vendor_id=request_id,
                error_code=f"HTTP-{status}",
                error_text=_text(body) or f"HTTP {status}: {response.text[:200]}",
                kind=oc.KIND_AUTH if status in (401, 403) else oc.KIND_CONFIG,
                http_status=status,
                raw=body if isinstance(body, dict) else {"text": response.text[:500]},
            )
        if not isinstance(body, dict):
            raise TransientError("Checkonline answer unreadable", uncertain=True, http_status=status)
        result = body.get("Response") or body.get("Reponse")  # 3.2.0 examples misspell it
        if (
            not isinstance(result, dict)
            or not isinstance(result.get("Error"), int)
            or isinstance(result.get("Error"), bool)
        ):
            raise TransientError(
                "Checkonline answered without a Response.Error", uncertain=True, http_status=status
            )
        if result["Error"]:
            return self._device_failure(status, body, result, request_id, _from_cache(response))
        return self._done(status, body, payload, request_id)

    def report(self, reference):
        """Not available: Checkonline has no status request for ``Complex``.

        The way to learn the fate of a request is to send the same payload again (same
        RequestId): the FCE cache returns the first answer without registering anything.
        The ORM never calls this for a client whose ``is_synchronous`` is True.
        """
        raise NotImplementedError(
            "Checkonline has no status request: send the same request again (same RequestId) "
            "to get its cached answer."
        )

    def check_connection(self):
        """GET on the Complex command (ST32 §2.1.7: the command describes its fields).

        Registers nothing. Any Checkonline answer after the TLS handshake proves the URL and
        the client certificate: DONE (``raw`` holds the answer); an unexpected answer is
        FAILED; TLS and network problems raise ``TransientError``
        (``CheckonlineCertificateError`` for a refused certificate).
        """
        response, body = self._exchange("check", "GET", self.config.command_url, None)
        status = response.status_code
        raw = body if isinstance(body, dict) else {"fields": body}
        if (status == 200 and isinstance(body, list)) or (isinstance(body, dict) and "FCEError" in body):
            return oc.Outcome(oc.DONE, http_status=status, raw=raw)
        if status == 200 and isinstance(body, dict) and ("Response" in body or "Path" in body):
            return oc.Outcome(oc.DONE, http_status=status, raw=raw)
        if status >= 500:
            raise TransientError(f"Checkonline answered HTTP {status}", uncertain=False, http_status=status)
        return oc.Outcome(
            oc.FAILED,
            error_code=f"HTTP-{status}",
            error_text=f"HTTP {status}: not a Checkonline answer (check the service URL)",
            kind=oc.KIND_AUTH if status in (401, 403) else oc.KIND_CONFIG,
            http_status=status,
            raw=raw if body is not None else {"text": response.text[:500]},
        )

    # -- answers ---------------------------------------------------------------------

    def _done(self, status, body, payload, request_id):
        fiscal = self._fiscal(body, payload)
        if not (fiscal.fiscal_document_number and fiscal.fiscal_document_attribute):
            raise ValueError("the answer has no fiscal document number or fiscal sign")
        expected = sum(
            _half_up(_int(line.get("Price")) * _int(line.get("Qty")), 1000)
            for line in payload.get("Lines") or ()
        )
        grand_total = _int(_lookup(_sources(body), "GrandTotal"))
        if grand_total and grand_total != expected:
            # The cache answered for another receipt under this RequestId: never take its data.
            return oc.Outcome(
                oc.ATTENTION,
                vendor_id=request_id,
                fiscal=fiscal,
                error_code="total_mismatch",
                error_text=(
                    f"Checkonline holds a receipt of {_rub(grand_total)} under RequestId {request_id}, "
                    f"this request is for {_rub(expected)}: the id was reused for other data. Check "
                    "the registered receipt before sending this one under a new id."
                ),
                http_status=status,
                raw=body,
            )
        return oc.Outcome(oc.DONE, vendor_id=request_id, fiscal=fiscal, http_status=status, raw=body)

    def _device_failure(self, status, body, result, request_id, from_cache):
        code = result["Error"]
        text = _device_text(code, result.get("ErrorMessages"))
        cached = code in CACHED_DEVICE_ERRORS or from_cache
        if code in AUTH_DEVICE_ERRORS:
            kind = oc.KIND_AUTH
        elif code in CONFIG_DEVICE_ERRORS:
            kind = oc.KIND_CONFIG
        elif code in VALIDATION_DEVICE_ERRORS:
            kind = oc.KIND_VALIDATION
        elif cached:
            kind = oc.KIND_CONFIG  # 55, 73, 94, 241-246: the protocol was misused
        else:
            # Not cached (no OFD connection, shift over 24 h, device busy or broken...):
            # nothing was registered; the same RequestId may be sent again later.
            raise TransientError(
                f"Checkonline device error {code}: {text}", uncertain=False, http_status=status
            )
        if cached:
            text += " (this answer is cached for the RequestId: send the corrected receipt under a new id)"
        return oc.Outcome(
            oc.FAILED,
            vendor_id=request_id,
            error_code=str(code),
            error_text=text,
            kind=kind,
            new_id_needed=cached,
            http_status=status,
            raw=body,
        )

    def _fce_failure(self, status, body, request_id, response):
        code = _int(body.get("FCEError"))
        text = _plain(body.get("ErrorDescription")) or f"FCE error {code}"
        fatal = body.get("Fatal")
        if not isinstance(fatal, bool):
            fatal = code not in FCE_RETRYABLE
        if not fatal and not _from_cache(response):
            # No device free, device busy, or the same request still being processed (24).
            raise TransientError(
                f"Checkonline FCE error {code}: {text}",
                uncertain=code in FCE_UNDEFINED_STATE or code == FCE_IN_PROGRESS,
                http_status=status,
            )
        if code in FCE_UNDEFINED_STATE:
            # The device may have printed the receipt (ST32 §3.6.4): only a person who checked the
            # Checkonline or OFD account may send it again, under a new id.
            status_kind = (oc.ATTENTION, "")
        elif code == FCE_BAD_REQUEST:
            status_kind = (oc.FAILED, oc.KIND_VALIDATION)
        else:
            # No Device/RequestId, unknown device, cache or queue failure...
            status_kind = (oc.FAILED, oc.KIND_CONFIG)
        return oc.Outcome(
            status_kind[0],
            vendor_id=request_id,
            error_code=f"FCE-{code}",
            error_text=text,
            kind=status_kind[1],
            http_status=status,
            raw=body,
        )

    def _fiscal(self, body, payload):
        sources = _sources(body)
        tags = _tags(body)
        fn_number = _plain(_lookup(sources, "FNSerialNumber") or tags.get(1041)).strip()
        document_number = _int(_lookup(sources, "FiscalDocNumber") or tags.get(1040))
        sign = _int(_lookup(sources, "FiscalSign"))
        moment = _moment(_lookup(sources, "Date"))
        total = _int(_lookup(sources, "GrandTotal") or tags.get(1020))
        document_type = _int(_lookup(sources, "DocumentType") or payload.get("DocumentType"))
        registration = _plain(_lookup(sources, "DeviceRegistrationNumber") or tags.get(1037)).strip()
        qr = _plain(_lookup(sources, "QR"))
        values = {
            "fn": fn_number,
            "fd": document_number or "",
            "fp": sign or "",
            "t": moment.strftime("%Y%m%dT%H%M") if moment else "",
            "s": _rub(total) if total else "",
            "n": OPERATION_SIGNS.get(document_type, 1),
            "rn": registration,
        }
        if not qr and all(values[key] for key in ("fn", "fd", "fp", "t", "s")):
            qr = "t={t}&s={s}&fn={fn}&i={fd}&fp={fp}&n={n}".format(**values)
        values["qr"] = qr
        url = ""
        if self.config.ofd_url_template and document_number and sign and fn_number:
            url = self.config.ofd_url_template.format(**values)
        return oc.FiscalData(
            fn_number=fn_number,
            fiscal_document_number=_stored(document_number, "FiscalDocNumber"),
            fiscal_document_attribute=str(sign or ""),
            shift_number=_stored(_int(_lookup(sources, "TurnNumber") or tags.get(1038)), "TurnNumber"),
            fiscal_receipt_number=_stored(_int(_lookup(sources, "DocNumber") or tags.get(1042)), "DocNumber"),
            receipt_datetime=moment.strftime("%d.%m.%Y %H:%M:%S") if moment else "",
            ecr_registration_number=registration,
            total=_rub(total) if total else "",
            ofd_receipt_url=url,
        )

    # -- plumbing --------------------------------------------------------------------

    def _exchange(self, action, method, url, payload):
        """One HTTP exchange, reported to ``on_exchange``; raises TransientError on transport trouble."""
        started = time.monotonic()
        logged_request = _masked(payload)
        options = {"timeout": (self.config.connect_timeout, self.config.read_timeout)}
        if payload is not None:
            options["json"] = payload
            options["headers"] = {"Content-Type": "application/json; charset=utf-8"}
        # The caller's session certificate (e.g. Odoo's CertificateAdapter) wins over the paths.
        if not getattr(self.session, "cert", None) and self.config.cert:
            options["cert"] = self.config.cert
        if self.config.verify is not None:
            options["verify"] = self.config.verify
        try:
            response = self.session.request(method, url, **options)
        except requests.exceptions.ConnectTimeout as exc:
            self._report(action, url, started, "transport", str(exc), logged_request)
            raise TransientError(f"Checkonline unreachable: {exc}", uncertain=False) from exc
        except requests.exceptions.SSLError as exc:
            self._report(action, url, started, "tls", str(exc), logged_request)
            if _tls_refusal(exc):
                raise CheckonlineCertificateError(
                    f"Checkonline refused the TLS handshake (client certificate missing, expired or "
                    f"not issued by Checkonline, or the server certificate not trusted): {exc}",
                    uncertain=False,
                ) from exc
            raise TransientError(f"Checkonline TLS connection failed: {exc}", uncertain=True) from exc
        except requests.exceptions.ConnectionError as exc:
            # A refused connection never reached the service; anything else may have.
            uncertain = not _refused(exc)
            self._report(action, url, started, "transport", str(exc), logged_request)
            raise TransientError(f"Checkonline connection failed: {exc}", uncertain=uncertain) from exc
        except requests.exceptions.Timeout as exc:
            self._report(action, url, started, "transport", str(exc), logged_request)
            raise TransientError(f"Checkonline did not answer in time: {exc}", uncertain=True) from exc
        body = _json(response)
        error_code, error_type, message = _summary(response.status_code, body)
        if body is None:
            message = response.text[:500]
        if _from_cache(response):
            message = f"{message} (answer from the FCE cache)".strip()
        self._report(
            action,
            url,
            started,
            error_type,
            message,
            logged_request,
            http_status=response.status_code,
            error_code=error_code,
            response=body if isinstance(body, dict) else ({"fields": body} if body is not None else None),
        )
        return response, body

    def _report(self, action, url, started, error_type, message, request, **values):
        duration = int((time.monotonic() - started) * 1000)
        self.on_exchange(
            oc.Exchange(
                action=action,
                url=url,
                duration_ms=duration,
                error_type=error_type,
                message=message,
                request=request,
                **values,
            )
        )


# -- helpers ---------------------------------------------------------------------------


def _exact(value, decimals, field, problems):
    """A Decimal amount as an exact integer of 10^-decimals units (kopecks, thousandths)."""
    if isinstance(value, bool) or not isinstance(value, (Decimal, int)):
        problems.append((field, f"{value!r} must be a Decimal (never a float)", value))
        return None
    scaled = Decimal(value).scaleb(decimals)
    if not scaled.is_finite():
        problems.append((field, f"{value} is not a number", value))
        return None
    if scaled != scaled.to_integral_value():
        problems.append((field, f"{value} has more than {decimals} decimals", value))
        return None
    if scaled < 0:
        problems.append((field, f"{value} is negative", value))
        return None
    return int(scaled)


def _half_up(numerator, denominator):
    """round(numerator / denominator) half up, for non-negative integers."""
    return (2 * numerator + denominator) // (2 * denominator)


def _rub(kopecks):
    return f"{kopecks // 100}.{kopecks % 100:02d}"


def _not_cp866(text):
    refused = []
    for char in text:
        try:
            char.encode("cp866")
        except UnicodeEncodeError:
            if char not in refused:
                refused.append(char)
    return refused


def _masked(payload):
    if payload is None:
        return None
    return {key: ("***" if key == "Password" else value) for key, value in payload.items()}


def _json(response):
    try:
        return response.json()
    except (ValueError, RecursionError):
        return None


def _plain(value):
    """A text field of an answer, or "" when it is not text."""
    return str(value)[:1000] if isinstance(value, (str, int)) and not isinstance(value, bool) else ""


def _from_cache(response):
    headers = response.headers
    return any((headers.get(name) or "").lower() == "true" for name in ("X-From-FCE-Cache", "X-From-Cache"))


def _summary(status, body):
    """(error code, error type, message) of an answer, for the attempt log."""
    if not isinstance(body, dict):
        return "", ("http" if status >= 400 else ""), ""
    if "FCEError" in body:
        return f"FCE-{body.get('FCEError')}", "fce", str(body.get("ErrorDescription") or "")
    result = body.get("Response") or body.get("Reponse")
    code = result.get("Error") if isinstance(result, dict) else None
    if isinstance(code, int) and not isinstance(code, bool) and code:
        return str(code), "device", _device_text(code, result.get("ErrorMessages"))
    return "", ("http" if status >= 400 else ""), ""


def _device_text(code, messages):
    if not isinstance(messages, list):
        messages = []
    details = "; ".join(_plain(message) for message in messages if message and message != "ERR_NO_ERROR")
    known = DEVICE_ERROR_TEXTS.get(code, f"device error {code}")
    return f"{known}: {details}" if details else known


def _text(body):
    if isinstance(body, dict):
        return _plain(body.get("error") or body.get("message") or body.get("ErrorDescription") or "")
    return ""


def _refused(exc):
    text = str(exc)
    return "Connection refused" in text or "NewConnectionError" in text


def _tls_refusal(exc):
    """True when the chain of ``exc`` shows a certificate/handshake refusal (not an EOF)."""
    seen, stack = set(), [exc]
    while stack:
        current = stack.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        text = f"{getattr(current, 'reason', '')} {current}".lower()
        if any(marker in text for marker in _TLS_REFUSALS) and "eof" not in text:
            return True
        stack.extend((current.__cause__, current.__context__))
        stack.extend(arg for arg in getattr(current, "args", ()) if isinstance(arg, BaseException))
        reason = getattr(current, "reason", None)
        if isinstance(reason, BaseException):
            stack.append(reason)
    return False


def _sources(body):
    """Where fiscal fields may be: top level, ``Response``, and the CloseDocument answer."""
    sources = [body]
    result = body.get("Response") or body.get("Reponse")
    if isinstance(result, dict):
        sources.append(result)
    responses = body.get("Responses")
    for item in responses if isinstance(responses, list) else ():
        if isinstance(item, dict) and str(item.get("Path", "")).endswith("/CloseDocument"):
            if isinstance(item.get("Response"), dict):
                sources.append(item["Response"])
    return sources


def _lookup(sources, name):
    for source in sources:
        value = source.get(name)
        if value not in (None, "", 0):
            return value
    return None


def _tags(body):
    """TLV tags of the fiscal document in a full response (ST32 §2.2): {TagID: Value}."""
    tags = {}
    for source in _sources(body):
        document = source.get("FiscalDocument")
        values = document.get("Value") if isinstance(document, dict) else None
        for tag in values if isinstance(values, list) else ():
            if isinstance(tag, dict) and isinstance(tag.get("TagID"), int):
                tags.setdefault(tag["TagID"], tag.get("Value"))
    return tags


def _int(value):
    """A non-negative integer, or 0."""
    if isinstance(value, bool):
        return 0
    try:
        number = int(value or 0)
    except (TypeError, ValueError, OverflowError):
        return 0
    return max(number, 0)


def _stored(number, name):
    """``number`` if the database can keep it as an integer; an unreadable answer otherwise."""
    if number > INTEGER_MAX:
        raise ValueError(f"{name} {number} is out of range")
    return number


def _moment(value):
    """ST32 §2.1.4 {"Date": {Day, Month, Year (2 digits)}, "Time": {...}} -> datetime or None."""
    if not isinstance(value, dict):
        return None
    date, clock = value.get("Date") or {}, value.get("Time") or {}
    try:
        year = int(date.get("Year") or 0)
        return datetime(
            year + 2000 if year < 100 else year,
            int(date.get("Month") or 0),
            int(date.get("Day") or 0),
            int(clock.get("Hour") or 0),
            int(clock.get("Minute") or 0),
            int(clock.get("Second") or 0),
        )
    except (TypeError, ValueError, OverflowError):
        return None
