"""Generated invoices become ATOL v4 and v5 requests that the sandbox's strict validation accepts.

Lines (quantities with up to three decimals and beyond, discounts, discount lines, VAT codes,
payment objects and methods, measures, marking codes, agents, credit sales) go through the allocation and both clients, and each
request is registered with the sandbox, which refuses whatever the protocol texts refuse.
"""

from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ..sandbox.server import Sandbox
from ..vendors import allocation
from ..vendors import outcome as oc
from ..vendors import receipt as rd
from ..vendors.atol import AtolConfig, AtolV4Client, AtolV5Client
from .common import KkmCase

ACCOUNTS = {
    "v4": ("v4-online-atol-ru", "iGFFuihss", "v4-online-atol-ru_4179"),
    "v5": ("v5-online-atol-ru", "zUr0OxfI", "v5-online-atol-ru_5179"),
}
VATS = rd.VAT_CODES
MEASURES = (0, 0, 0, 10, 11, 22, 41, 71, 255)
AGENTS = (
    None,
    None,
    rd.Agent("commission_agent", "ООО «Поставщик»", "7707083893", ("+79251234567",)),
    rd.Agent("attorney", "ИП Иванов И. И.", "500100732259"),
    rd.Agent("another", "Supplier GmbH", rd.FOREIGN_SUPPLIER_INN),
)
GENERATED = settings(
    max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)


@st.composite
def source_lines(draw, index):
    decimals = draw(st.sampled_from((0, 0, 1, 2, 3, 4)))
    quantity = Decimal(draw(st.integers(1, 10 ** (decimals + 2)))).scaleb(-decimals)
    price = Decimal(draw(st.integers(0, 200000))).scaleb(-2)
    discount = Decimal(draw(st.sampled_from((0, 0, 5, 10, 33, 100))))
    amount = (quantity * price * (1 - discount / 100)).quantize(rd.KOPECK, rounding=ROUND_HALF_UP)
    return allocation.SourceLine(
        name=draw(st.sampled_from(("Чайник", "Доставка курьером", "Книга «Кассовая дисциплина»", "Ш" * 128))),
        quantity=quantity,
        amount=amount,
        vat=draw(st.sampled_from(VATS)),
        payment_method=draw(st.sampled_from(rd.PAYMENT_METHODS)),
        payment_object=draw(st.sampled_from(rd.PAYMENT_OBJECTS)),
        measure=draw(st.sampled_from(MEASURES)),
        measurement_unit=draw(st.sampled_from(("шт", "кг", "", "усл. ед."))),
        marked=draw(st.booleans()),
        agent=draw(st.sampled_from(AGENTS)),
    )


@st.composite
def marked_lines(draw):
    """Marked goods with one scanned code per unit (GTIN, serial, separator, crypto tail)."""
    count = draw(st.integers(1, 3))
    price = Decimal(draw(st.integers(1, 500000))).scaleb(-2)
    codes = tuple(
        f"01{draw(st.from_regex(r'[0-9]{14}', fullmatch=True))}21"
        f"{draw(st.from_regex(r'[!-~]{13}', fullmatch=True))}{rd.GROUP_SEPARATOR}93"
        f"{draw(st.from_regex(r'[A-Za-z0-9+/=]{4,44}', fullmatch=True))}"
        for _ in range(count)
    )
    return allocation.SourceLine(
        name="Кроссовки",
        quantity=Decimal(count),
        amount=price * count,
        vat=draw(st.sampled_from(VATS)),
        payment_object=draw(st.sampled_from(("commodity", "excise"))),
        marked=True,
        mark_codes=codes,
        agent=draw(st.sampled_from(AGENTS)),
    )


@st.composite
def receipts(draw):
    lines = [draw(source_lines(index)) for index in range(draw(st.integers(1, 12)))]
    lines += [draw(marked_lines()) for _ in range(draw(st.sampled_from((0, 0, 1, 2))))]
    positive = sum(line.amount for line in lines)
    if positive > 0 and draw(st.booleans()):
        cut = Decimal(draw(st.integers(1, max(1, int(positive * 100) // 3)))).scaleb(-2)
        lines.append(allocation.SourceLine(name="Скидка", quantity=Decimal(1), amount=-cut, vat=lines[0].vat))
    total = sum(line.amount for line in lines)
    if total <= 0:
        lines = lines[:1]
        total = lines[0].amount
    items = tuple(allocation.allocate(lines, total))
    client = draw(
        st.sampled_from(
            (
                rd.Client(email="buyer@example.ru"),
                rd.Client(phone="+79251234567"),
                rd.Client(email="b@example.ru", name="ООО «Покупатель»", inn="7707083893"),
            )
        )
    )
    receipt = rd.Receipt(
        operation=draw(st.sampled_from((rd.SELL, rd.SELL_REFUND))),
        external_id="",
        timestamp=datetime(2026, 11, 28, 12, 0, 0),
        company=rd.Company(
            inn="5544332219",
            sno=draw(st.sampled_from(rd.TAXATION_SYSTEMS)),
            payment_address="https://romashka.example.ru",
            email="shop@romashka.example.ru",
        ),
        client=client,
        items=items,
        payments=(rd.Payment(rd.PAYMENT_ELECTRONIC, total),),
        total=total,
        internet=draw(st.booleans()),
        cashier=draw(st.sampled_from(("", "Иванова А. А."))),
        cashier_inn=draw(st.sampled_from(("", "500100732259"))),
    )
    stage = draw(st.sampled_from(("full", "full", "credit", "credit_payment", "advance_offset")))
    if stage == "credit":
        return rd.on_credit(receipt)
    if stage == "advance_offset" and total > rd.KOPECK:
        # Part of the total paid by an advance registered before (payment type 2).
        advance = (total * Decimal(draw(st.integers(1, 100))) / 100).quantize(rd.KOPECK)
        rest = total - advance
        payments = (rd.Payment(rd.PAYMENT_ADVANCE, advance),) + (
            (rd.Payment(rd.PAYMENT_ELECTRONIC, rest),) if rest else ()
        )
        return rd.Receipt(**{**receipt.__dict__, "payments": payments})
    if stage == "credit_payment":
        return rd.credit_payment(receipt, lambda name: f"Оплата кредита за {name}")
    return receipt


class TestGeneratedPayloadsPassTheSandbox(KkmCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.sandbox = Sandbox(seed=7, done_delay=0, quiet=True).start()
        cls.addClassCleanup(cls.sandbox.stop)
        cls.count = 0

    def _register(self, client_class, version, receipt):
        login, password, group = ACCOUNTS[version]
        config = AtolConfig(
            login=login, password=password, group_code=group, base_url=f"{self.sandbox.url}/possystem"
        )
        client = client_class(config)
        type(self).count += 1
        receipt = rd.Receipt(**{**receipt.__dict__, "external_id": f"gen-{version}-{self.count}"})
        outcome = client.register(receipt.operation, client.build_payload(receipt))
        self.assertEqual(
            outcome.status, oc.ACCEPTED, f"{version} refused: {outcome.error_code} {outcome.error_text}"
        )

    @GENERATED
    @given(receipts())
    def test_v4_requests_are_accepted(self, receipt):
        self._register(AtolV4Client, "v4", receipt)

    @GENERATED
    @given(receipts())
    def test_v5_requests_are_accepted(self, receipt):
        self._register(AtolV5Client, "v5", receipt)
