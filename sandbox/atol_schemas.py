"""ATOL Online request schemas, transcribed from the protocol texts.

v4: "Описание протокола v4", doc 5.15, §7.2 (schemas) tightened by Табл.2/Табл.3 where the
table is stricter than the schema (company.email, item vat and name length, INN digits, the
1..100 items limit). v4 has no ``additionalProperties: false``: unknown fields are ignored.

v5: "Описание протокола v5", doc 3.5, §6.2, ``additionalProperties: false`` at every level.
Additions the 3.5 text lacks but later ATOL versions accept (docs/architecture.rst, "Vendors"):
``receipt.internet`` / ``timezone`` / ``cashless_payments`` and the VAT codes passed in
``extra_vat_codes`` (vat5, vat7, vat105, vat107, vat22, vat122 by default). The 100 items cap
for v5 is an inference (the 3.5 schema sets only ``minItems``).
"""

BASE_VAT_CODES = ("none", "vat0", "vat10", "vat110", "vat20", "vat120")
V4_LEGACY_VAT_CODES = ("vat18", "vat118")
NEW_VAT_CODES = ("vat5", "vat7", "vat105", "vat107", "vat22", "vat122")

SNO = ["osn", "usn_income", "usn_income_outcome", "envd", "esn", "patent"]
PAYMENT_METHODS = [
    "full_prepayment",
    "prepayment",
    "advance",
    "full_payment",
    "partial_payment",
    "credit",
    "credit_payment",
]
V4_PAYMENT_OBJECTS = [
    "commodity",
    "excise",
    "job",
    "service",
    "gambling_bet",
    "gambling_prize",
    "lottery",
    "lottery_prize",
    "intellectual_activity",
    "payment",
    "agent_commission",
    "award",
    "another",
    "property_right",
    "non-operating_gain",
    "insurance_premium",
    "sales_tax",
    "resort_fee",
    "deposit",
    "expense",
    "pension_insurance_ip",
    "pension_insurance",
    "medical_insurance_ip",
    "medical_insurance",
    "social_insurance",
    "casino_payment",
]
# Tag 2108; the 3.5 schema text lost 255 ("иные единицы") that its table lists.
V5_MEASURES = [0, 10, 11, 12, 20, 21, 22, 30, 31, 32, 40, 41, 42, 50, 51, 70, 71, 72, 73, 80, 81, 82, 83, 255]
AGENT_TYPES = [
    "bank_paying_agent",
    "bank_paying_subagent",
    "paying_agent",
    "paying_subagent",
    "attorney",
    "commission_agent",
    "another",
]
# Payment types 0..9 (Табл.2: 0 cash, 1 electronic, 2 advance, 3 credit, 4 other, 5..9 extended).
PAYMENT_TYPES = list(range(10))

MAX_ITEMS = 100
PRICE_MAX = "42949672.95"

INN = r"(^[0-9]{10}$)|(^[0-9]{12}$)"
V5_TIMESTAMP = (
    r"^(0[1-9]|[12]\d|3[01])\.(0[1-9]|1[0-2])\.(19|20)\d\d\s((2[0-3])|([0-1]\d))\:([0-5]\d)\:([0-5]\d)$"
)
# Табл.2: dd 01-31, mm 01-12, four-digit year, HH 00-24.
V4_TIMESTAMP = r"^(0[1-9]|[12]\d|3[01])\.(0[1-9]|1[0-2])\.\d{4} ([01]\d|2[0-4]):[0-5]\d:[0-5]\d$"
DATE = r"^(0[1-9]|[12]\d|3[01])\.(0[1-9]|1[0-2])\.(19|20)\d\d$"
# The documented callback mask, rewritten without the nested quantifier of the original
# ("([-.\w]*X)*" == "([-.\w]*X)?") so that a long bad URL cannot make the regex engine hang.
CALLBACK_URL = (
    r"^http(s?)\:\/\/[0-9a-zA-Zа-яА-Я](?:[-.\w]*[0-9a-zA-Zа-яА-Я])?(:(0-9)*)*(\/?)"
    r"([a-zA-Z0-9а-яА-Я\-\.\?\,\'\/\\\+&=%\$#_]*)?$"
)
AGENT_PHONE = r"^([^\s\\]{0,17}|\+[^\s\\]{1,18})$"
V5_PHONE = r"^(none|\+[0-9]{1,18})$"
# v5 "{С}@{С}" or "none".
V5_EMAIL = r"^(none|[^@\s]+@[^@\s]+)$"
# v4 nomenclature_code: hex bytes separated by spaces, or a raw GS1 DataMatrix string.
NOMENCLATURE = (
    r"^([a-fA-F0-9]{2}(\s[a-fA-F0-9]{2}){0,31})$|^01\d{14}21[\x21-\x7e]{13,132}$|^\d{14}[\x21-\x7e]{15}$"
)
FEDERAL_ID = r"(^00[1-9]{1}$)|(^0[1-6]{1}[0-9]{1}$)|(^07[0-3]{1}$)"


def _money(maximum="100000000", nullable=False):
    return {
        "type": ["number", "null"] if nullable else "number",
        "minimum": 0,
        "maximum": maximum,
        "multipleOf": "0.01",
    }


def _string(max_length=None, min_length=None, pattern=None):
    schema = {"type": "string"}
    if max_length is not None:
        schema["maxLength"] = max_length
    if min_length is not None:
        schema["minLength"] = min_length
    if pattern:
        schema["pattern"] = pattern
    return schema


def _strict(schema):
    """Mark an object schema (and every nested one) ``additionalProperties: false``."""
    if isinstance(schema, dict):
        if schema.get("type") == "object" and "properties" in schema:
            schema.setdefault("additionalProperties", False)
        for value in schema.values():
            if isinstance(value, (dict, list)):
                _strict(value)
    elif isinstance(schema, list):
        for value in schema:
            _strict(value)
    return schema


def _phones(max_items=None):
    schema = {"type": "array", "items": _string(pattern=AGENT_PHONE)}
    if max_items:
        schema["maxItems"] = max_items
    return schema


def _agent_info(v5):
    money_transfer = {
        "type": "object",
        "properties": {
            "phones": _phones(),
            "name": _string(64),
            "address": _string(256),
            "inn": _string(pattern=INN),
        },
    }
    paying_agent = {"type": "object", "properties": {"operation": _string(24), "phones": _phones()}}
    operator = {"type": "object", "properties": {"phones": _phones()}}
    if v5:
        paying_agent["required"] = ["phones"]
        operator["required"] = ["phones"]
    return {
        "type": "object",
        "properties": {
            "type": {"enum": AGENT_TYPES},
            "paying_agent": paying_agent,
            "receive_payments_operator": operator,
            "money_transfer_operator": money_transfer,
        },
        "required": ["type"],
    }


def _supplier_info(v5):
    return {
        "type": "object",
        "properties": {
            "phones": _phones(),
            "name": _string(256 if v5 else None),
            "inn": _string(pattern=INN) if v5 else _string(12),
        },
        "required": ["inn"],
    }


def _vat_enum(version, extra_vat_codes):
    codes = list(BASE_VAT_CODES)
    if version == "v4":
        codes += list(V4_LEGACY_VAT_CODES)
    codes += [code for code in extra_vat_codes if code not in codes]
    return {"enum": codes}


def _payments(nullable_sum):
    """v4 allows ``"sum": null`` (the receipt total then goes to "Безналичный")."""
    return {
        "type": "array",
        "minItems": 1,
        "maxItems": 10,
        "items": {
            "type": "object",
            "properties": {
                "type": {"type": "number", "enum": PAYMENT_TYPES},
                "sum": _money(nullable=nullable_sum),
            },
            "required": ["type", "sum"],
        },
    }


def _vats(version, extra_vat_codes, nullable_sum):
    return {
        "type": "array",
        "minItems": 1,
        "maxItems": 6,
        "items": {
            "type": "object",
            "properties": {"type": _vat_enum(version, extra_vat_codes), "sum": _money(nullable=nullable_sum)},
            "required": ["type", "sum"],
        },
    }


def _service(v5):
    url = _string(256, pattern=CALLBACK_URL) if v5 else _string(256)
    return {"type": "object", "properties": {"callback_url": url}}


# -- v4 ------------------------------------------------------------------------------


def _v4_item(extra_vat_codes):
    return {
        "type": "object",
        "properties": {
            "name": _string(128),
            "price": _money(PRICE_MAX),
            "quantity": {"type": "number", "minimum": 0, "maximum": "99999.999", "multipleOf": "0.001"},
            "sum": _money(PRICE_MAX),
            "measurement_unit": _string(16),
            "payment_method": {"enum": PAYMENT_METHODS},
            "payment_object": {"enum": V4_PAYMENT_OBJECTS},
            "nomenclature_code": _string(150, pattern=NOMENCLATURE),
            "vat": {
                "type": "object",
                "properties": {"type": _vat_enum("v4", extra_vat_codes), "sum": _money(nullable=True)},
                "required": ["type"],
            },
            "agent_info": _agent_info(False),
            "supplier_info": _supplier_info(False),
            "user_data": _string(64),
            "excise": {"type": "number", "minimum": 0, "exclusiveMinimum": True, "multipleOf": "0.01"},
            "country_code": _string(3, 1, r"^[0-9]*$"),
            "declaration_number": _string(32, 1),
        },
        "required": ["name", "price", "quantity", "sum", "vat"],
        "dependencies": {"agent_info": ["supplier_info"]},
    }


def v4_sell(extra_vat_codes=NEW_VAT_CODES):
    """sell, sell_refund, buy, buy_refund (v4)."""
    return {
        "type": "object",
        "properties": {
            "timestamp": _string(pattern=V4_TIMESTAMP),
            "external_id": _string(128, 1),
            "service": _service(False),
            "receipt": {
                "type": "object",
                "properties": {
                    "client": {
                        "type": "object",
                        "properties": {
                            "name": _string(256),
                            "inn": _string(pattern=INN),
                            "email": _string(64),
                            "phone": _string(64, pattern=r"^\+?[0-9]*$"),
                        },
                    },
                    "company": {
                        "type": "object",
                        "properties": {
                            "email": _string(64),
                            "sno": {"enum": SNO},
                            "inn": _string(12, pattern=INN),
                            "payment_address": _string(256),
                            "location": _string(256, 1),
                        },
                        "required": ["email", "inn", "payment_address"],
                    },
                    "agent_info": _agent_info(False),
                    "supplier_info": _supplier_info(False),
                    "items": {
                        "type": "array",
                        "minItems": 1,
                        "maxItems": MAX_ITEMS,
                        "items": _v4_item(extra_vat_codes),
                    },
                    "payments": _payments(nullable_sum=True),
                    "vats": _vats("v4", extra_vat_codes, nullable_sum=True),
                    "total": _money(),
                    "additional_check_props": _string(16),
                    "cashier": _string(64),
                    "additional_user_props": {
                        "type": "object",
                        "properties": {"name": _string(64), "value": _string(256)},
                        "required": ["name", "value"],
                    },
                    "device_number": _string(20, 1),
                },
                "required": ["client", "company", "items", "total", "payments"],
            },
        },
        "required": ["timestamp", "external_id", "receipt"],
    }


def v4_correction(extra_vat_codes=NEW_VAT_CODES):
    """sell_correction, buy_correction (v4): summary amounts only, no items."""
    return {
        "type": "object",
        "properties": {
            "timestamp": _string(pattern=V4_TIMESTAMP),
            "external_id": _string(128, 1),
            "service": _service(False),
            "correction": {
                "type": "object",
                "properties": {
                    "company": {
                        "type": "object",
                        "properties": {
                            "sno": {"enum": SNO},
                            "inn": _string(12, pattern=INN),
                            "payment_address": _string(256),
                            "location": _string(256, 1),
                        },
                        "required": ["inn", "payment_address"],
                    },
                    "cashier": _string(64),
                    "correction_info": {
                        "type": "object",
                        "properties": {
                            "type": {"enum": ["self", "instruction"]},
                            "base_date": _string(pattern=DATE),
                            "base_number": _string(),
                        },
                        "required": ["type", "base_date", "base_number"],
                    },
                    "payments": _payments(nullable_sum=True),
                    "vats": _vats("v4", extra_vat_codes, nullable_sum=True),
                    "device_number": _string(20, 1),
                },
                "required": ["company", "payments", "vats", "correction_info"],
            },
        },
        "required": ["timestamp", "external_id", "correction"],
    }


# -- v5 ------------------------------------------------------------------------------


def _v5_client():
    return {
        "type": "object",
        "properties": {
            "name": _string(256),
            "inn": _string(pattern=INN),
            "birthdate": _string(10, 10, r"(0[0-9]|[1-2]\d|3[01])[.](0[1-9]|1[012])[.](19|20)\d\d"),
            "citizenship": _string(3, 3, r"^[0-9]{3}$"),
            "document_code": _string(2, 2, r"^[0-9]{2}$"),
            "document_data": _string(64),
            "address": _string(256),
            "email": _string(64, pattern=V5_EMAIL),
            "phone": _string(pattern=V5_PHONE),
        },
    }


def _v5_company():
    return {
        "type": "object",
        "properties": {
            "email": _string(64, pattern=V5_EMAIL),
            "sno": {"enum": SNO},
            "inn": _string(pattern=INN),
            "payment_address": _string(256),
            "location": _string(256, 1),
        },
        "required": ["email", "sno", "inn", "payment_address"],
    }


def _sectoral_props():
    return {
        "type": "array",
        "items": {
            "type": "object",
            "properties": {
                "federal_id": _string(pattern=FEDERAL_ID),
                "date": _string(pattern=DATE),
                "number": _string(32),
                "value": _string(256),
            },
            "required": ["federal_id", "date", "number", "value"],
        },
    }


def _mark_code():
    kinds = {
        "unknown": _string(32),
        "ean8": _string(8, 8),
        "ean13": _string(13, 13),
        "itf14": _string(14, 14),
        "gs10": _string(38),
        "gs1m": {"type": "string", "format": "base64", "maxLength": 200},
        "short": _string(38),
        "fur": _string(pattern=r"(^.{2}-[0-9]{6}-.{10}$)"),
        "egais20": _string(23, 23),
        "egais30": _string(14, 14),
    }
    return {
        "type": "object",
        "properties": kinds,
        "oneOf": [{"required": [name]} for name in kinds],
        "x-message": "должен быть передан ровно один вид кода маркировки",
    }


def _v5_item(extra_vat_codes):
    return {
        "type": "object",
        "properties": {
            "name": _string(128),
            "price": _money(PRICE_MAX),
            "quantity": {"type": "number", "minimum": "0.001", "maximum": "99999.999", "multipleOf": "0.001"},
            "measure": {"enum": V5_MEASURES},
            "sum": _money(PRICE_MAX),
            "payment_method": {"enum": PAYMENT_METHODS},
            "payment_object": {
                "anyOf": [
                    {"type": "integer", "minimum": 1, "maximum": 27},
                    {"type": "integer", "minimum": 30, "maximum": 33},
                ],
                "x-message": "ожидается целый код 1..27 или 30..33",
            },
            "vat": {
                "type": "object",
                "properties": {"type": _vat_enum("v5", extra_vat_codes), "sum": _money()},
                "required": ["type"],
            },
            "user_data": _string(64),
            "excise": _money(),
            "country_code": _string(3, 3, r"^[0-9]{3}$"),
            "declaration_number": _string(32),
            "mark_quantity": {
                "type": "object",
                "properties": {
                    "numerator": {"type": "integer", "minimum": 1},
                    "denominator": {"type": "integer", "minimum": 1},
                },
                "required": ["numerator", "denominator"],
            },
            "mark_processing_mode": {"enum": ["0"]},
            "sectoral_item_props": _sectoral_props(),
            "mark_code": _mark_code(),
            "agent_info": _agent_info(True),
            "supplier_info": _supplier_info(True),
        },
        "if": {
            "properties": {
                "agent_info": {
                    "properties": {"type": {"enum": AGENT_TYPES[:4]}},
                    "required": ["type"],
                }
            },
            "required": ["agent_info"],
        },
        "then": {"properties": {"supplier_info": {"required": ["phones", "name", "inn"]}}},
        "required": [
            "name",
            "price",
            "quantity",
            "measure",
            "sum",
            "payment_method",
            "payment_object",
            "vat",
        ],
        "dependencies": {"agent_info": ["supplier_info"]},
    }


def _v5_document_body(extra_vat_codes, correction):
    body = {
        "type": "object",
        "properties": {
            "client": _v5_client(),
            "company": _v5_company(),
            "items": {
                "type": "array",
                "minItems": 1,
                "maxItems": MAX_ITEMS,
                "items": _v5_item(extra_vat_codes),
            },
            "payments": _payments(nullable_sum=False),
            "vats": _vats("v5", extra_vat_codes, nullable_sum=False),
            "cashier": _string(64),
            "cashier_inn": _string(pattern=r"(^[0-9]{12}$)"),
            "additional_check_props": _string(16),
            "total": _money(),
            "additional_user_props": {
                "type": "object",
                "properties": {"name": _string(64), "value": _string(256)},
                "required": ["name", "value"],
            },
            "operating_check_props": {
                "type": "object",
                "properties": {
                    "name": {"enum": ["0"]},
                    "value": _string(64),
                    "timestamp": _string(pattern=V5_TIMESTAMP),
                },
                "required": ["name", "value", "timestamp"],
            },
            "sectoral_check_props": _sectoral_props(),
            "device_number": _string(20, 1),
            # Later v5 versions (tag 1125 "internet", 1011 timezone, 1234-1238).
            "internet": {"type": "boolean"},
            "timezone": {"type": "integer", "minimum": 1, "maximum": 11},
            "cashless_payments": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "sum": _money(),
                        "method": {"type": "integer", "minimum": 0, "maximum": 255},
                        "id": _string(256),
                        "additional_info": _string(256),
                    },
                    "required": ["sum", "method", "id"],
                },
            },
        },
        "required": ["client", "company", "items", "payments", "total"],
    }
    body["properties"]["client"]["anyOf"] = [{"required": ["email"]}, {"required": ["phone"]}]
    body["properties"]["client"]["x-message"] = "должно быть заполнено хотя бы одно из полей: email или phone"
    if correction:
        # The correction client is optional and carries no email/phone requirement.
        del body["properties"]["client"]["anyOf"]
        del body["properties"]["client"]["x-message"]
        body["properties"]["correction_info"] = {
            "type": "object",
            "properties": {
                "type": {"enum": ["self", "instruction"]},
                "base_date": _string(pattern=DATE),
                "base_number": _string(32),
            },
            "required": ["type", "base_date"],
        }
        body["required"] = ["company", "correction_info", "items", "payments", "total"]
    return body


def v5_sell(extra_vat_codes=NEW_VAT_CODES):
    """sell, sell_refund, buy, buy_refund (v5)."""
    return _strict(
        {
            "type": "object",
            "properties": {
                "timestamp": _string(pattern=V5_TIMESTAMP),
                "external_id": _string(128, 1),
                "service": _service(True),
                "ism_optional": {"type": "boolean"},
                "receipt": _v5_document_body(extra_vat_codes, correction=False),
            },
            "required": ["timestamp", "external_id", "receipt"],
        }
    )


def v5_correction(extra_vat_codes=NEW_VAT_CODES):
    """sell_correction, buy_correction, sell_refund_correction, buy_refund_correction (v5)."""
    return _strict(
        {
            "type": "object",
            "properties": {
                "timestamp": _string(pattern=V5_TIMESTAMP),
                "external_id": _string(128, 1),
                "service": _service(True),
                "ism_optional": {"type": "boolean"},
                "correction": _v5_document_body(extra_vat_codes, correction=True),
            },
            "required": ["timestamp", "external_id", "correction"],
        }
    )


GET_TOKEN = {
    "type": "object",
    "properties": {
        "login": _string(100, pattern=r"^[^\s]+$"),
        "pass": _string(100),
        "source": _string(100, pattern=r"^[a-zA-Z0-9_\-@\.]+$"),
    },
    "required": ["login", "pass"],
}
