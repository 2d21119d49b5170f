"""Validation of ATOL registration bodies: the published schema, then the documented rules
that a schema cannot express (sum = price × quantity, totals, the 18 % ban, contacts).

``validate()`` returns ``(code, errors)``: ``code`` is 32 (IncomingValidationException) when
something is wrong, else ``None``; each error is ``(field path, message)``.
"""

from decimal import ROUND_HALF_UP, Decimal

from . import atol_schemas
from .schema import validate as schema_validate

V4_OPERATIONS = ("sell", "sell_refund", "sell_correction", "buy", "buy_refund", "buy_correction")
V5_OPERATIONS = V4_OPERATIONS + ("sell_refund_correction", "buy_refund_correction")
OPERATIONS = {"v4": V4_OPERATIONS, "v5": V5_OPERATIONS}

KOPECK = Decimal("0.01")
PRICE_MAX = Decimal(atol_schemas.PRICE_MAX)
# Табл.2 (v4): "Сумму чека можно округлить, но не более, чем на 99 копеек".
V4_TOTAL_ROUNDING = Decimal("0.99")

VAT18_TEXT = (
    "Передана некорректная ставка налога. С 01.04.2019 ставки НДС 18 и 18/118 не могут "
    "использоваться в чеках sell(приход) и buy(расход)"
)


def is_correction(operation):
    return operation.endswith("_correction")


class Schemas:
    """The four request schemas, built once per accepted VAT list."""

    def __init__(self, extra_vat_codes=atol_schemas.NEW_VAT_CODES):
        self.by_kind = {
            ("v4", False): atol_schemas.v4_sell(extra_vat_codes),
            ("v4", True): atol_schemas.v4_correction(extra_vat_codes),
            ("v5", False): atol_schemas.v5_sell(extra_vat_codes),
            ("v5", True): atol_schemas.v5_correction(extra_vat_codes),
        }

    def get(self, version, operation):
        return self.by_kind[(version, is_correction(operation))]


def validate(version, operation, body, schemas):
    """Check one registration body; see the module docstring."""
    if not isinstance(body, dict):
        return 32, [("", "тело запроса должно быть JSON-объектом")]
    errors = schema_validate(body, schemas.get(version, operation))
    if errors:
        return 32, errors
    document = body["correction"] if is_correction(operation) else body["receipt"]
    if version == "v4" and is_correction(operation):
        # Табл.3: a v4 correction carries summary amounts only; the schema said it all.
        return None, []
    errors = _document_rules(version, operation, document)
    if version == "v4" and not is_correction(operation):
        errors += _v4_rules(operation, document)
    if version == "v5" and is_correction(operation):
        info = document["correction_info"]
        if info["type"] == "instruction" and not info.get("base_number"):
            # 1179 is filled when the correction follows a tax authority instruction.
            errors.append(("correction.correction_info.base_number", "обязательно для type=instruction"))
    if version == "v5":
        errors += _v5_mark_rules(operation, document)
    return (32 if errors else None), errors


def line_sum(price, quantity):
    return (Decimal(price) * Decimal(quantity)).quantize(KOPECK, rounding=ROUND_HALF_UP)


def _root(operation):
    return "correction" if is_correction(operation) else "receipt"


def _document_rules(version, operation, document):
    """Money consistency shared by receipts and v5 corrections."""
    root = _root(operation)
    errors = []
    items_total = Decimal(0)
    for index, item in enumerate(document["items"]):
        price, quantity, amount = Decimal(item["price"]), Decimal(item["quantity"]), Decimal(item["sum"])
        if price * quantity > PRICE_MAX:
            errors.append((f"{root}.items[{index}]", "price*quantity больше 42949672.95"))
        expected = line_sum(price, quantity)
        if amount != expected:
            # v5 §5.2: 1043 must equal 1079 × 1023; v4 5.12 dropped the automatic discount.
            errors.append((f"{root}.items[{index}].sum", f"должна быть равна price*quantity = {expected}"))
        items_total += amount
    total = Decimal(document["total"])
    difference = abs(total - items_total)
    allowed = V4_TOTAL_ROUNDING if version == "v4" else Decimal(0)
    if difference > allowed:
        errors.append((f"{root}.total", f"должна быть равна сумме позиций {items_total.quantize(KOPECK)}"))
    paid = Decimal(0)
    for payment in document["payments"]:
        paid += total if payment["sum"] is None else Decimal(payment["sum"])
    if paid != total:
        errors.append(
            (
                f"{root}.payments",
                f"сумма оплат {paid.quantize(KOPECK)} не равна total {total.quantize(KOPECK)}",
            )
        )
    return errors


def _v4_rules(operation, receipt):
    errors = []
    client = receipt["client"]
    if not client.get("email") and not client.get("phone"):
        errors.append(("receipt.client", "должно быть заполнено хотя бы одно из полей: email или phone"))
    if operation in ("sell", "buy"):
        used = [item["vat"]["type"] for item in receipt["items"]]
        used += [vat["type"] for vat in receipt.get("vats", [])]
        if {"vat18", "vat118"} & set(used):
            errors.append(("receipt.vat", VAT18_TEXT))
    return errors


def _v5_mark_rules(operation, document):
    root = _root(operation)
    errors = []
    for index, item in enumerate(document["items"]):
        if "mark_code" in item and item["measure"] != 0:
            errors.append((f"{root}.items[{index}].measure", "должна быть 0 при передаче mark_code"))
        if "mark_quantity" in item:
            fraction = item["mark_quantity"]
            if item["measure"] != 0:
                errors.append((f"{root}.items[{index}].mark_quantity", "допустимо только при measure = 0"))
            if fraction["numerator"] >= fraction["denominator"]:
                errors.append(
                    (f"{root}.items[{index}].mark_quantity", "numerator должен быть меньше denominator")
                )
    return errors


def error_text(errors):
    """ATOL's text: "Ошибка валидации входного чека. Ошибочные поля : {fields}" (+ why)."""
    for _path, message in errors:
        if message == VAT18_TEXT:
            return VAT18_TEXT
    fields = ", ".join(dict.fromkeys(path or "<body>" for path, _message in errors))
    details = "; ".join(f"{path or '<body>'}: {message}" for path, message in errors[:10])
    return f"Ошибка валидации входного чека. Ошибочные поля : {fields} ({details})"


def validate_token_request(body):
    """getToken body against §7.1; returns the errors list (code 13 when non-empty)."""
    if not isinstance(body, dict):
        return [("", "тело запроса должно быть JSON-объектом")]
    return schema_validate(body, atol_schemas.GET_TOKEN)
