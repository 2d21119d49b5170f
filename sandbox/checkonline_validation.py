"""Checks of a Checkonline ``Complex`` request (RP-System/Starrys FCE JSON API 3.2.0).

Two layers, as on the real service:
- ``type_errors``: the FCE server decodes JSON into typed fields (uint8/uint64 Money in kopecks,
  Quantity in thousandths, a 3-element NonCash array...). A value of the wrong type (1.5 for
  Qty, "100" for Price, 100 for NonCash) is FCE error 2, HTTP 500 (§3.6.2).
- ``device_error``: what the cash register answers (Табл.25) with HTTP 200 and
  ``Response.Error``: 51 bad parameter (PayAttribute, TaxId, DocumentType, TaxMode, text not
  encodable in CP866, empty name), 208 no lines, 142 zero total, 69 payments below the total,
  77 electronic payments above the total, 79 wrong password.
"""

from decimal import ROUND_HALF_UP, Decimal

UINT_LIMITS = {"uint8": 2**8, "uint16": 2**16, "uint32": 2**32, "uint64": 2**64}

# Request fields the sandbox decodes; unknown fields are ignored like Go's decoder does.
REQUEST_FIELDS = {
    "Device": "string",
    "Group": "string",
    "RequestId": "string",
    "ClientId": "string",
    "Password": "uint32",
    "DocumentType": "uint8",
    "Lines": "lines",
    "Cash": "uint64",
    "NonCash": "money3",
    "AdvancePayment": "uint64",
    "Credit": "uint64",
    "Consideration": "uint64",
    "TaxMode": "uint8",
    "PhoneOrEmail": "string",
    "Place": "string",
    "MaxDocumentsInTurn": "uint16",
    "FullResponse": "bool",
    "Callback": "object",
    "Duration": "uint32",
    "QueueLen": "uint32",
    "Durations": "array",
    "QueueLens": "array",
    "TryCount": "uint32",
    "WaitForFree": "uint32",
    "IgnoreActivity": "bool",
    "Errors": "array",
    "NotCacheErrors": "bool",
    "ResendToSameDevice": "bool",
    # FFD 1.2-era fields seen in client libraries (docs/architecture.rst, "Vendors").
    "Internet": "flag",
    "Timezone": "uint8",
    "CustomerName": "string",
    "CustomerINN": "string",
    "Address": "string",
    "Terminal": "string",
    "TaxCalculationMethod": "uint8",
    "PaymentAgentModes": "uint8",
    "UserRequisite": "object",
}
LINE_FIELDS = {
    "Qty": "uint64",
    "Price": "uint64",
    "SubTotal": "uint64",
    "PayAttribute": "uint8",
    "LineAttribute": "uint8",
    "TaxId": "uint8",
    "Description": "string",
    "AgentModes": "uint8",
    "AgentData": "object",
    "ProviderData": "object",
    "CGNFloat": "string",
}

DOCUMENT_TYPES = {0: "sell", 1: "buy", 2: "sell_refund", 3: "buy_refund"}
# TaxId 1..6 (Табл.33), 7..10 = 5 %, 7 %, 5/105, 7/107 (Platron SDK 2024); 11, 12 for 22 % and
# 22/122 are an inference from FFD tag 1199 values and must be confirmed with Checkonline.
DEFAULT_TAX_IDS = tuple(range(1, 13))
TAX_MODE_BITS = (1, 2, 4, 8, 16, 32)
CASHIER_PASSWORDS = range(1, 31)
MAX_NAME = 128
MAX_CONTACT = 64


class DeviceError(Exception):
    """A cash register error code (Табл.25) with its ErrorMessages."""

    def __init__(self, code, command, detail):
        super().__init__(code, command, detail)
        self.code = code
        self.command = command
        self.detail = detail


def _go_kind(value):
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, Decimal)):
        return f"number {value}"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return "value"


def _type_ok(value, kind):
    if value is None:
        return True  # Go leaves the zero value
    if kind in UINT_LIMITS:
        return isinstance(value, int) and not isinstance(value, bool) and 0 <= value < UINT_LIMITS[kind]
    if kind == "string":
        return isinstance(value, str)
    if kind == "bool":
        return isinstance(value, bool)
    if kind == "flag":
        return isinstance(value, bool) or (isinstance(value, int) and value in (0, 1))
    if kind == "object":
        return isinstance(value, dict)
    if kind == "array":
        return isinstance(value, list)
    if kind == "money3":
        return (
            isinstance(value, list)
            and len(value) <= 3
            and all(
                isinstance(item, int) and not isinstance(item, bool) and 0 <= item < 2**64 for item in value
            )
        )
    if kind == "lines":
        return isinstance(value, list) and all(isinstance(item, dict) for item in value)
    return True


def type_errors(body):
    """Go-style decoding errors (FCE 2); empty when every known field has its type."""
    errors = []
    for name, kind in REQUEST_FIELDS.items():
        if name in body and not _type_ok(body[name], kind):
            go_type = {"money3": "[3]uint64", "lines": "[]Line", "flag": "bool"}.get(kind, kind)
            errors.append(
                f"json: cannot unmarshal {_go_kind(body[name])} into Go struct field Complex.{name} of type {go_type}"
            )
    for index, line in enumerate(body.get("Lines") or []):
        if not isinstance(line, dict):
            continue
        for name, kind in LINE_FIELDS.items():
            if name in line and not _type_ok(line[name], kind):
                errors.append(
                    f"json: cannot unmarshal {_go_kind(line[name])} into Go struct field "
                    f"Line.Lines[{index}].{name} of type {kind}"
                )
    return errors


def line_total(line):
    """Kopecks of one line: SubTotal when given, else Qty (thousandths) × Price, rounded."""
    if line.get("SubTotal"):
        return int(line["SubTotal"])
    amount = Decimal(int(line.get("Qty") or 0)) * Decimal(int(line.get("Price") or 0)) / 1000
    return int(amount.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _cp866(text):
    try:
        text.encode("cp866")
    except UnicodeEncodeError:
        return False
    return True


def check(body, tax_ids=DEFAULT_TAX_IDS, tax_modes=63):
    """Device-level checks; raises ``DeviceError``, returns the document totals otherwise."""
    password = body.get("Password") or 0
    if password not in CASHIER_PASSWORDS:
        raise DeviceError(79, "Complex", f"MSGCODE: 68, Неизвестный пароль: {password}")

    document_type = body.get("DocumentType") or 0
    if document_type not in DOCUMENT_TYPES:
        raise DeviceError(51, "OpenDocument", f"MSGCODE: 8, Неправильный тип документа: {document_type}")

    lines = body.get("Lines") or []
    if not lines:
        raise DeviceError(208, "CloseDocument", "Документ не содержит товарных позиций")
    for index, line in enumerate(lines):
        _check_line(index, line, tax_ids)
    if len(lines) > 1 and any(line.get("PayAttribute") == 7 for line in lines):
        raise DeviceError(
            51,
            "AddLineToDocument",
            "MSGCODE: 54, Неправильный признак способа расчёта: 7 допустим только в единственной строке",
        )

    contact = body.get("PhoneOrEmail") or ""
    if not contact.strip():
        raise DeviceError(
            51,
            "AddPhoneOrEmailOfCustomer",
            "MSGCODE: 48, [PhoneOrEmail]: пусто (электронный чек без контакта)",
        )
    if len(contact) > MAX_CONTACT or not _cp866(contact):
        raise DeviceError(
            51,
            "AddPhoneOrEmailOfCustomer",
            "MSGCODE: 66, Ошибка при преобразовании в кодировку CP866 [PhoneOrEmail]",
        )

    tax_mode = body.get("TaxMode") or 0
    registered = [bit for bit in TAX_MODE_BITS if tax_modes & bit]
    if tax_mode == 0:
        if len(registered) != 1:
            raise DeviceError(
                51,
                "CloseDocument",
                "MSGCODE: 49, Неверный режим налогообложения (передано больше одного вида или не соответствуют заданным при регистрации)",
            )
    elif tax_mode not in registered:
        raise DeviceError(
            51, "CloseDocument", f"MSGCODE: 49, Неверный режим налогообложения [TaxMode]: {tax_mode}"
        )

    total = sum(line_total(line) for line in lines)
    if total == 0:
        raise DeviceError(142, "CloseDocument", "Нулевой итог чека")
    non_cash = sum(body.get("NonCash") or [])
    other = sum(int(body.get(name) or 0) for name in ("AdvancePayment", "Credit", "Consideration"))
    cash = int(body.get("Cash") or 0)
    if cash + non_cash + other < total:
        raise DeviceError(
            69, "CloseDocument", f"Сумма всех оплат {cash + non_cash + other} меньше итога чека {total}"
        )
    if non_cash + other > total:
        raise DeviceError(
            77,
            "CloseDocument",
            f"Сумма электронных видов оплаты {non_cash + other} больше итога чека {total}",
        )
    return {"total": total, "change": cash + non_cash + other - total}


def _check_line(index, line, tax_ids):
    where = f"Lines[{index}]"
    description = line.get("Description") or ""
    if not description.strip():
        raise DeviceError(
            51,
            "AddLineToDocument",
            f"MSGCODE: 48, [{where}.Description]: пустое наименование товарной позиции",
        )
    if not _cp866(description):
        raise DeviceError(
            51,
            "AddLineToDocument",
            f"MSGCODE: 66, Ошибка при преобразовании в кодировку CP866 [{where}.Description]",
        )
    if len(description) > MAX_NAME:
        raise DeviceError(
            51, "AddLineToDocument", f"MSGCODE: 48, [{where}.Description]: длина больше {MAX_NAME}"
        )
    if not line.get("Qty"):
        raise DeviceError(51, "AddLineToDocument", f"MSGCODE: 48, [{where}.Qty]: 0")
    pay_attribute = line.get("PayAttribute") or 0
    if not 1 <= pay_attribute <= 7:
        raise DeviceError(
            51,
            "AddLineToDocument",
            f"MSGCODE: 54, Неправильный признак способа расчёта: [{where}.PayAttribute]: {pay_attribute}",
        )
    tax_id = line.get("TaxId") or 0
    if tax_id not in tax_ids:
        raise DeviceError(
            51, "AddLineToDocument", f"MSGCODE: 55, Неправильный код налога: [{where}.TaxId]: {tax_id}"
        )
    attribute = line.get("LineAttribute")
    if attribute is not None and not (1 <= attribute <= 27 or 30 <= attribute <= 33):
        raise DeviceError(51, "AddLineToDocument", f"MSGCODE: 48, [{where}.LineAttribute]: {attribute}")
