"""Valid request bodies for the default accounts, built fresh on each call.

For tests, the demo and manual poking (``curl -d @-``). Amounts are consistent: every item
sum is price × quantity, the total is the sum of the items and equals the payments.
"""

from .accounts import DEFAULT_ACCOUNTS
from .util import atol_timestamp

V4_ACCOUNT, V5_ACCOUNT = DEFAULT_ACCOUNTS


def _company(account):
    return {
        "email": "shop@example.com",
        "sno": "osn",
        "inn": account.inn,
        "payment_address": account.payment_address,
    }


def atol_v4_sell(external_id="order-1", email="customer@example.com"):
    return {
        "timestamp": atol_timestamp(),
        "external_id": external_id,
        "receipt": {
            "client": {"email": email},
            "company": _company(V4_ACCOUNT),
            "items": [
                {
                    "name": "Колбаса Брауншвейгская с/к",
                    "price": 1000.00,
                    "quantity": 0.3,
                    "sum": 300.00,
                    "measurement_unit": "кг",
                    "payment_method": "full_payment",
                    "payment_object": "commodity",
                    "vat": {"type": "vat20", "sum": 50.00},
                },
                {
                    "name": "Доставка",
                    "price": 100.00,
                    "quantity": 1,
                    "sum": 100.00,
                    "payment_method": "full_payment",
                    "payment_object": "service",
                    "vat": {"type": "vat22", "sum": 18.03},
                },
            ],
            "payments": [{"type": 1, "sum": 400.00}],
            "total": 400.00,
        },
    }


def atol_v5_sell(external_id="order-1", email="customer@example.com"):
    return {
        "timestamp": atol_timestamp(),
        "external_id": external_id,
        "receipt": {
            "client": {"email": email},
            "company": _company(V5_ACCOUNT),
            "items": [
                {
                    "name": "Колбаса Брауншвейгская с/к",
                    "price": 1000.00,
                    "quantity": 0.3,
                    "measure": 11,
                    "sum": 300.00,
                    "payment_method": "full_payment",
                    "payment_object": 1,
                    "vat": {"type": "vat20", "sum": 50.00},
                },
                {
                    "name": "Доставка",
                    "price": 100.00,
                    "quantity": 1,
                    "measure": 0,
                    "sum": 100.00,
                    "payment_method": "full_payment",
                    "payment_object": 4,
                    "vat": {"type": "vat122"},
                },
            ],
            "payments": [{"type": 1, "sum": 400.00}],
            "total": 400.00,
            "internet": True,
        },
    }


def atol_v4_correction(external_id="correction-1"):
    company = _company(V4_ACCOUNT)
    del company["email"]
    return {
        "timestamp": atol_timestamp(),
        "external_id": external_id,
        "correction": {
            "company": company,
            "correction_info": {"type": "self", "base_date": "25.07.2026", "base_number": "1175"},
            "payments": [{"type": 1, "sum": 2000.00}],
            "vats": [{"type": "vat20", "sum": 333.33}],
        },
    }


def atol_v5_correction(external_id="correction-1"):
    return {
        "timestamp": atol_timestamp(),
        "external_id": external_id,
        "correction": {
            "company": _company(V5_ACCOUNT),
            "correction_info": {"type": "self", "base_date": "25.07.2026"},
            "items": [
                {
                    "name": "Товар",
                    "price": 2000.00,
                    "quantity": 1,
                    "measure": 0,
                    "sum": 2000.00,
                    "payment_method": "full_payment",
                    "payment_object": 1,
                    "vat": {"type": "vat20"},
                }
            ],
            "payments": [{"type": 1, "sum": 2000.00}],
            "total": 2000.00,
        },
    }


def checkonline_complex(request_id="order-1", document_type=0):
    return {
        "Device": "auto",
        "RequestId": request_id,
        "ClientId": "",
        "Password": 1,
        "DocumentType": document_type,
        "Lines": [
            {
                "Qty": 300,
                "Price": 100000,
                "PayAttribute": 4,
                "LineAttribute": 1,
                "TaxId": 1,
                "Description": "Колбаса",
            },
            {
                "Qty": 1000,
                "Price": 10000,
                "PayAttribute": 4,
                "LineAttribute": 4,
                "TaxId": 4,
                "Description": "Доставка",
            },
        ],
        "NonCash": [40000, 0, 0],
        "TaxMode": 1,
        "PhoneOrEmail": "customer@example.com",
        "Place": "https://shop.example.com",
        "FullResponse": False,
    }
