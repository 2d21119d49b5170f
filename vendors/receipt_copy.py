"""A registered receipt as its customer reads it: the requisites of the electronic receipt
(54-FZ art. 4.7), from the request the service registered, with their Russian names.

Each client reads its own request back (``Client.describe``); the tables below name the neutral
codes as the fiscal document prints them. Plain Python, no Odoo.
"""

from dataclasses import dataclass
from decimal import Decimal

from . import receipt as rd


@dataclass(frozen=True)
class CopyItem:
    name: str
    price: Decimal
    quantity: Decimal
    sum: Decimal
    vat: str  # a neutral VAT code (rd.VAT_CODES)
    vat_sum: Decimal = None  # None: no VAT
    payment_method: str = ""  # rd.PAYMENT_METHODS
    payment_object: int = None  # FFD 1.2 code (rd.FFD12_PAYMENT_OBJECTS and the marked ones)
    measure: str = ""  # the unit as printed


@dataclass(frozen=True)
class ReceiptCopy:
    operation: str  # rd.OPERATIONS
    items: tuple = ()
    payments: tuple = ()  # (payment type, Decimal) pairs, rd.PAYMENT_*
    total: Decimal = Decimal(0)
    vats: tuple = ()  # (VAT code, Decimal) pairs: the VAT of each rate
    sno: str = ""  # rd.TAXATION_SYSTEMS
    inn: str = ""  # the seller's INN, when the request names it
    payment_address: str = ""  # tag 1187
    seller_email: str = ""  # tag 1117
    client_contact: str = ""  # tag 1008
    client_name: str = ""  # tag 1227
    client_inn: str = ""  # tag 1228
    internet: bool = False  # tag 1125
    cashier: str = ""  # tag 1021
    correction: tuple = ()  # (type, basis date "dd.mm.yyyy", basis number) of a correction


def vat_totals(items):
    """VAT per rate of ``items``, as (code, amount) pairs in the order the rates first appear."""
    totals = {}
    for item in items:
        if item.vat_sum is not None:
            totals[item.vat] = totals.get(item.vat, Decimal(0)) + item.vat_sum
    return tuple(totals.items())


def decimal(value, places="0.01"):
    """A number of a request as an exact Decimal (JSON floats are read through their text)."""
    if isinstance(value, bool) or value is None or value == "":
        return Decimal(0)
    try:
        return Decimal(str(value)).quantize(Decimal(places))
    except ArithmeticError:
        return Decimal(0)


# -- the names the fiscal document prints -----------------------------------------------------

OPERATION_LABELS = {
    rd.SELL: "Приход",
    rd.SELL_REFUND: "Возврат прихода",
    rd.SELL_CORRECTION: "Чек коррекции: приход",
    rd.SELL_REFUND_CORRECTION: "Чек коррекции: возврат прихода",
}
# Tag 1055.
SNO_LABELS = {
    "osn": "ОСН",
    "usn_income": "УСН доход",
    "usn_income_outcome": "УСН доход − расход",
    "envd": "ЕНВД",
    "esn": "ЕСХН",
    "patent": "ПСН",
}
# Tag 1199.
VAT_LABELS = {
    "none": "Без НДС",
    "vat0": "НДС 0%",
    "vat5": "НДС 5%",
    "vat7": "НДС 7%",
    "vat10": "НДС 10%",
    "vat20": "НДС 20%",
    "vat22": "НДС 22%",
    "vat105": "НДС 5/105",
    "vat107": "НДС 7/107",
    "vat110": "НДС 10/110",
    "vat120": "НДС 20/120",
    "vat122": "НДС 22/122",
}
# Tag 1214.
PAYMENT_METHOD_LABELS = {
    "full_prepayment": "Предоплата 100%",
    "prepayment": "Предоплата",
    "advance": "Аванс",
    "full_payment": "Полный расчет",
    "partial_payment": "Частичный расчет и кредит",
    "credit": "Передача в кредит",
    "credit_payment": "Оплата кредита",
}
# Tag 1212, FFD 1.2 codes.
PAYMENT_OBJECT_LABELS = {
    1: "Товар",
    2: "Подакцизный товар",
    3: "Работа",
    4: "Услуга",
    10: "Платеж",
    11: "Агентское вознаграждение",
    13: "Иной предмет расчета",
    30: "Подакцизный товар, подлежащий маркировке, без кода маркировки",
    31: "Подакцизный товар, подлежащий маркировке, с кодом маркировки",
    32: "Товар, подлежащий маркировке, без кода маркировки",
    33: "Товар, подлежащий маркировке, с кодом маркировки",
}
# Tags 1031, 1081, 1215, 1216, 1217.
PAYMENT_TYPE_LABELS = {
    rd.PAYMENT_CASH: "Наличными",
    rd.PAYMENT_ELECTRONIC: "Безналичными",
    rd.PAYMENT_ADVANCE: "Предварительная оплата (аванс)",
    rd.PAYMENT_CREDIT: "Последующая оплата (кредит)",
    rd.PAYMENT_OTHER: "Иная форма оплаты",
}
# Tag 2108, FFD 1.2 codes.
MEASURE_LABELS = {
    0: "шт.",
    10: "г",
    11: "кг",
    12: "т",
    20: "см",
    21: "дм",
    22: "м",
    30: "кв. см",
    31: "кв. дм",
    32: "кв. м",
    40: "мл",
    41: "л",
    42: "куб. м",
    50: "кВт·ч",
    51: "Гкал",
    70: "сутки",
    71: "час",
    72: "мин",
    73: "с",
    80: "Кбайт",
    81: "Мбайт",
    82: "Гбайт",
    83: "Тбайт",
}
CORRECTION_TYPE_LABELS = {"self": "Самостоятельно", "instruction": "По предписанию"}


def label(table, code):
    """The printed name of ``code``, or the code itself when the table does not know it."""
    return table.get(code, "" if code is None else str(code))


def records(value):
    """The objects of a list read from a request; anything else is no object."""
    return [entry for entry in value if isinstance(entry, dict)] if isinstance(value, list) else []


def integer(value):
    """An integer of a request, 0 when it is none."""
    if isinstance(value, bool):
        return 0
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def item_vat(code, gross, given=None):
    """An item's VAT: the amount the request gave, else the one the register computes."""
    if given is not None:
        return decimal(given)
    if code in rd.VAT_CODES and code != "none":
        return rd.vat_amount(code, gross)
    return None
