"""Neutral fiscal receipt data, independent of any vendor protocol and of Odoo.

The ORM builds these objects from an invoice; each vendor client serializes them
into its own wire format (ATOL v4 strings, ATOL v5 integer codes, Checkonline kopecks).
Money is always ``Decimal`` with two decimals, quantities ``Decimal`` with at most three.
"""

import re
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal

# INN of a business (10 digits) or of a person / sole trader (12 digits).
INN_PATTERN = re.compile(r"^(\d{10}|\d{12})$")

# Operations (ATOL names; Checkonline maps them to DocumentType).
SELL = "sell"
SELL_REFUND = "sell_refund"
SELL_CORRECTION = "sell_correction"
SELL_REFUND_CORRECTION = "sell_refund_correction"
OPERATIONS = (SELL, SELL_REFUND, SELL_CORRECTION, SELL_REFUND_CORRECTION)

# Taxation systems (tag 1055), ATOL spelling.
TAXATION_SYSTEMS = ("osn", "usn_income", "usn_income_outcome", "envd", "esn", "patent")

# VAT codes (tag 1199), ATOL spelling; "none" means no VAT.
VAT_CODES = (
    "none",
    "vat0",
    "vat5",
    "vat7",
    "vat10",
    "vat20",
    "vat22",
    "vat105",
    "vat107",
    "vat110",
    "vat120",
    "vat122",
)

# Payment method (tag 1214), ATOL v4 spelling; v5 uses the same strings.
PAYMENT_METHODS = (
    "full_prepayment",
    "prepayment",
    "advance",
    "full_payment",
    "partial_payment",
    "credit",
    "credit_payment",
)

# Payment object (tag 1212), ATOL v4 spelling; the v5 client maps to integer codes.
PAYMENT_OBJECTS = (
    "commodity",
    "excise",
    "job",
    "service",
    "payment",
    "agent_commission",
    "another",
)

# FFD 1.2 payment object (tag 1212) of marked goods, without and with their code on the receipt.
MARKED_WITHOUT_CODE = {"excise": 30, "commodity": 32}
MARKED_WITH_CODE = {"excise": 31, "commodity": 33}

# The GS1 group separator inside a marking code (FNC1), and a marking code's longest form.
GROUP_SEPARATOR = "\x1d"
MARK_CODE_MAX = 150

# Agent types (tag 1222) that need nothing but the supplier's data (tags 1224-1226); paying
# agents also report payment operators and are not supported.
AGENT_TYPES = ("attorney", "commission_agent", "another")
# INN of a supplier registered outside Russia (tag 1226).
FOREIGN_SUPPLIER_INN = "000000000000"


# FFD 1.2 integer payment objects (tag 1212) of unmarked items: ATOL v5's payment_object and
# Checkonline's LineAttribute alike.
FFD12_PAYMENT_OBJECTS = {
    "commodity": 1,
    "excise": 2,
    "job": 3,
    "service": 4,
    "payment": 10,
    "agent_commission": 11,
    "another": 13,
}


def ffd12_payment_object(item):
    """The FFD 1.2 integer payment object of an item (tag 1212), marked goods included."""
    if item.marked and item.payment_object in MARKED_WITHOUT_CODE:
        table = MARKED_WITH_CODE if item.mark_code else MARKED_WITHOUT_CODE
        return table[item.payment_object]
    return FFD12_PAYMENT_OBJECTS[item.payment_object]


def vat_totals(items):
    """VAT per code of the receipt (tags 1102-1107, 1115...): the sum of its items' VAT, so
    that the totals printed agree with the lines. Items without VAT have no total."""
    totals = {}
    for item in items:
        if item.vat_sum is not None:
            totals[item.vat] = totals.get(item.vat, Decimal(0)) + item.vat_sum
    return totals


# Payment types (tag 1031/1081/1215/1216/1217), ATOL integer codes.
PAYMENT_CASH = 0
PAYMENT_ELECTRONIC = 1
PAYMENT_ADVANCE = 2
PAYMENT_CREDIT = 3
PAYMENT_OTHER = 4

# Measure (tag 2108), FFD 1.2 integer codes; 0 = pieces.
MEASURE_PIECE = 0

# Item name (tag 1030) limit.
ITEM_NAME_MAX = 128


@dataclass(frozen=True)
class Client:
    email: str = ""
    phone: str = ""  # "+7..." form
    name: str = ""
    inn: str = ""


@dataclass(frozen=True)
class Company:
    inn: str
    sno: str
    payment_address: str
    email: str = ""
    location: str = ""


@dataclass(frozen=True)
class Agent:
    """The seller acts as an agent for this item: for whom (tags 1222, 1224-1226)."""

    type: str  # one of AGENT_TYPES
    supplier_name: str
    supplier_inn: str
    supplier_phones: tuple = ()  # "+7..." form


@dataclass(frozen=True)
class IndustryProp:
    """An industry requisite of an item (tag 1260): the permissive mode's check of its marking
    code (vendors/marking)."""

    federal_id: str  # tag 1262
    date: str  # tag 1263, dd.mm.yyyy
    number: str  # tag 1264
    value: str  # tag 1265


@dataclass(frozen=True)
class Item:
    name: str
    price: Decimal
    quantity: Decimal
    sum: Decimal
    vat: str = "none"
    payment_method: str = "full_payment"
    payment_object: str = "commodity"
    measure: int = MEASURE_PIECE
    measurement_unit: str = ""  # free text for FFD 1.05
    marked: bool = False  # goods under mandatory marking ("Честный знак")
    mark_code: str = ""  # the scanned code of this one unit (quantity 1), when known
    agent: Agent = None
    industry_props: tuple = ()  # IndustryProp: the check of the mark code (permissive mode)

    @property
    def vat_sum(self):
        """VAT included in this item's sum, rounded to the kopeck (tag 1200)."""
        return vat_amount(self.vat, self.sum)


@dataclass(frozen=True)
class Payment:
    type: int
    sum: Decimal


@dataclass(frozen=True)
class Correction:
    """Basis of a correction receipt (tags 1173, 1178, 1179)."""

    type: str  # "self": on the seller's own initiative; "instruction": by order of the tax office
    base_date: date  # date of the settlement being corrected
    base_number: str = ""  # number of the tax office's order (instruction)


CORRECTION_TYPES = ("self", "instruction")


@dataclass(frozen=True)
class Receipt:
    operation: str
    external_id: str
    timestamp: datetime
    company: Company
    client: Client
    items: tuple
    payments: tuple
    total: Decimal
    cashier: str = ""
    cashier_inn: str = ""  # FFD 1.2 only (tag 1203)
    internet: bool = True
    correction: Correction = None
    extra: dict = field(default_factory=dict)


def on_credit(receipt):
    """The receipt of goods handed over on credit: nothing paid yet (tag 1214 = 6, postpayment)."""
    return replace(
        receipt,
        items=tuple(replace(item, payment_method="credit") for item in receipt.items),
        payments=(Payment(PAYMENT_CREDIT, receipt.total),),
    )


def credit_payment(receipt, name_of):
    """The receipt of the payment of goods handed over on credit (tag 1214 = 7).

    As ATOL's own example (protocol v4, 9.6): one item per item handed over, named by
    ``name_of(item name)``, quantity 1, payment object "payment", same VAT; paid electronically.
    """
    items = tuple(
        replace(
            item,
            name=shortened(name_of(item.name), ITEM_NAME_MAX),
            price=item.sum,
            quantity=Decimal(1),
            payment_method="credit_payment",
            payment_object="payment",
            measure=MEASURE_PIECE,
            measurement_unit="",
            marked=False,
            mark_code="",
            industry_props=(),
        )
        for item in receipt.items
    )
    return replace(receipt, items=items, payments=(Payment(PAYMENT_ELECTRONIC, receipt.total),))


def shortened(text, limit, ellipsis="…"):
    """``text`` cut to ``limit`` characters, the cut shown by ``ellipsis`` (counted in)."""
    return text if len(text) <= limit else text[: limit - len(ellipsis)] + ellipsis


# The calculated rate of each VAT code (tag 1199), for prepayments and advances: VAT is then
# taken out of the gross amount (Tax Code art. 164 §4).
CALCULATED_VAT = {
    "none": "none",
    "vat0": "vat0",
    "vat5": "vat105",
    "vat7": "vat107",
    "vat10": "vat110",
    "vat20": "vat120",
    "vat22": "vat122",
    "vat105": "vat105",
    "vat107": "vat107",
    "vat110": "vat110",
    "vat120": "vat120",
    "vat122": "vat122",
}


# Rate of each VAT code, as the fraction of the gross sum that is VAT.
_VAT_FRACTIONS = {
    "none": None,
    "vat0": Decimal(0),
    "vat5": Decimal(5) / Decimal(105),
    "vat7": Decimal(7) / Decimal(107),
    "vat10": Decimal(10) / Decimal(110),
    "vat20": Decimal(20) / Decimal(120),
    "vat22": Decimal(22) / Decimal(122),
    "vat105": Decimal(5) / Decimal(105),
    "vat107": Decimal(7) / Decimal(107),
    "vat110": Decimal(10) / Decimal(110),
    "vat120": Decimal(20) / Decimal(120),
    "vat122": Decimal(22) / Decimal(122),
}

KOPECK = Decimal("0.01")


def vat_amount(vat_code, gross):
    """VAT contained in a gross amount for a VAT code; None for "none"."""
    fraction = _VAT_FRACTIONS[vat_code]
    if fraction is None:
        return None
    return (gross * fraction).quantize(KOPECK, rounding="ROUND_HALF_UP")


def split(receipt, max_items):
    """``receipt`` as parts of at most ``max_items`` items each, every part valid on its own.

    Items keep their order and are spread evenly; each part's total is the sum of its items,
    and the receipt's payments are shared out in their order (an advance offset first), so
    that every part is paid exactly its total and the parts add up to the receipt. Without a
    limit, or within it, the receipt is its only part.
    """
    items = receipt.items
    if not max_items or len(items) <= max_items:
        return [receipt]
    count = -(-len(items) // max_items)
    size, extra = divmod(len(items), count)
    chunks, start = [], 0
    for index in range(count):
        end = start + size + (1 if index < extra else 0)
        chunks.append(items[start:end])
        start = end
    remaining = [[payment.type, payment.sum] for payment in receipt.payments]
    parts = []
    for chunk in chunks:
        total = sum((item.sum for item in chunk), Decimal(0))
        due, payments = total, []
        for entry in remaining:
            taken = min(entry[1], due)
            if taken > 0:
                payments.append(Payment(entry[0], taken))
                entry[1] -= taken
                due -= taken
        if due:
            raise ValueError("the payments do not cover the receipt's items")
        parts.append(replace(receipt, items=tuple(chunk), payments=tuple(payments), total=total))
    return parts
