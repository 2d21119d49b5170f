"""Shared by the tests of the Checkonline client alone (no Odoo): receipts and real answers."""

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

from ..vendors import receipt as rd
from ..vendors.checkonline import (
    CheckonlineConfig,
)

ROOT = "https://checkonline.test"
URL = f"{ROOT}/fr/api/v2/Complex"
CONFIG = CheckonlineConfig(base_url=ROOT)


def make_item(name="Чайник", price="1220.00", quantity="1", vat="vat22", **changes):
    price, quantity = Decimal(price), Decimal(quantity)
    total = (price * quantity).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return rd.Item(name=name, price=price, quantity=quantity, sum=total, vat=vat, **changes)


def make_receipt(items=None, operation=rd.SELL, external_id="order-1", payments=None, **changes):
    items = tuple(items or (make_item(),))
    total = sum((item.sum for item in items), Decimal("0.00"))
    values = {
        "operation": operation,
        "external_id": external_id,
        "timestamp": dt.datetime(2026, 11, 28, 9, 5, 7),
        "company": rd.Company(inn="5544332219", sno="osn", payment_address="https://shop.example.ru"),
        "client": rd.Client(email="buyer@example.ru"),
        "items": items,
        "payments": tuple(payments or (rd.Payment(rd.PAYMENT_ELECTRONIC, total),)),
        "total": total,
    }
    values.update(changes)
    return rd.Receipt(**values)


def success_body(request_id="order-1", total=122000, document_type=0, **changes):
    body = {
        "Path": "/fr/api/v2/Complex",
        "RequestId": request_id,
        "ClientId": "",
        "Device": {"Name": "00000000381007197638", "Address": "10.1.0.40:4444"},
        "DeviceRegistrationNumber": "0001234567890123",
        "DeviceSerialNumber": "00000000381007197638",
        "FNSerialNumber": "9999078900005731",
        "DocumentType": document_type,
        "Date": {"Date": {"Day": 28, "Month": 11, "Year": 26}, "Time": {"Hour": 9, "Minute": 5, "Second": 7}},
        "FiscalDocNumber": 1322,
        "FiscalSign": 1170736072,
        "DocNumber": 7,
        "TurnNumber": 56,
        "GrandTotal": total,
        "Change": 0,
        "QR": f"t=20261128T0905&s={total // 100}.{total % 100:02d}&fn=9999078900005731&i=1322&fp=1170736072&n=1",
        "Response": {"Error": 0, "ErrorMessages": ["ERR_NO_ERROR"]},
    }
    body.update(changes)
    return body


def device_error_body(code, messages=("detail",), request_id="order-1"):
    return {
        "Path": "/fr/api/v2/Complex",
        "RequestId": request_id,
        "FiscalDocNumber": 0,
        "QR": "",
        "Response": {"Error": code, "ErrorMessages": list(messages)},
    }


def fce_body(code, fatal, description="Ошибка сервера FCE"):
    body = {"FCEError": code, "ErrorDescription": description, "Device": {"Name": "", "Address": ""}}
    if fatal is not None:
        body["Fatal"] = fatal
    return body
