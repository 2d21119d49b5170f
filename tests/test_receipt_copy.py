"""The customer's copy read back from the request each client builds, and the tax service's
check string (vendors/receipt_copy.py, vendors/ofd.py): no database."""

from decimal import Decimal

from ..vendors import CLIENTS as VENDOR_CLIENTS
from ..vendors import ofd
from ..vendors import receipt as rd
from ..vendors import receipt_copy as rc
from ..vendors.atol import AtolConfig, AtolV4Client, AtolV5Client
from ..vendors.checkonline import CheckonlineClient, CheckonlineConfig
from .checkonline_common import make_item, make_receipt
from .common import KkmCase

ATOL = AtolConfig(login="login", password="pass", group_code="grp", base_url="https://atol.test")
CLIENTS = {
    "atol_v4": AtolV4Client(ATOL),
    "atol_v5": AtolV5Client(ATOL),
    "checkonline": CheckonlineClient(CheckonlineConfig(base_url="https://checkonline.test")),
}


def receipts():
    """Receipts with several rates, methods, objects, weights and payment types."""
    yield "one item", make_receipt()
    items = (
        make_item(name="Сыр весовой", price="899.90", quantity="0.347", vat="vat10"),
        make_item(name="Доставка", price="300.00", quantity="1", vat="vat20", payment_object="service"),
        make_item(name="Книга", price="450.00", quantity="2", vat="none"),
        make_item(name="Вода", price="99.99", quantity="3", vat="vat22", payment_method="full_prepayment"),
    )
    total = sum((item.sum for item in items), Decimal(0))
    advance = Decimal("500.00")
    payments = (rd.Payment(rd.PAYMENT_ADVANCE, advance), rd.Payment(rd.PAYMENT_ELECTRONIC, total - advance))
    yield "mixed", make_receipt(items=items, payments=payments)
    yield "refund", make_receipt(items=items, payments=payments, operation=rd.SELL_REFUND)


class TestReceiptCopy(KkmCase):
    def test_every_service_is_covered(self):
        self.assertEqual(set(CLIENTS), set(VENDOR_CLIENTS))

    def test_every_client_reads_its_request_back(self):
        for code, client in CLIENTS.items():
            for label, receipt in receipts():
                with self.subTest(client=code, receipt=label):
                    copy = client.describe(client.build_payload(receipt), receipt.operation)
                    self.assertEqual(copy.operation, receipt.operation)
                    self.assertEqual(copy.total, receipt.total)
                    self.assertEqual(
                        [(i.name, i.price, i.quantity, i.sum, i.vat, i.payment_method) for i in copy.items],
                        [
                            (i.name, i.price, i.quantity, i.sum, i.vat, i.payment_method)
                            for i in receipt.items
                        ],
                    )
                    self.assertEqual(
                        [i.payment_object for i in copy.items],
                        [rd.ffd12_payment_object(i) for i in receipt.items],
                    )
                    # Checkonline keeps one money field per payment type: their order is the protocol's.
                    self.assertEqual(sorted(copy.payments), sorted((p.type, p.sum) for p in receipt.payments))
                    # Σ items = total = Σ payments, to the kopeck.
                    self.assertEqual(sum((i.sum for i in copy.items), Decimal(0)), copy.total)
                    self.assertEqual(sum((amount for _t, amount in copy.payments), Decimal(0)), copy.total)
                    self.assertEqual(dict(copy.vats), rd.vat_totals(receipt.items))
                    self.assertEqual(copy.sno, "osn")
                    self.assertEqual(copy.payment_address, "https://shop.example.ru")
                    self.assertEqual(copy.client_contact, "buyer@example.ru")

    def test_every_code_has_its_printed_name(self):
        tables = (
            (rc.VAT_LABELS, rd.VAT_CODES),
            (rc.PAYMENT_METHOD_LABELS, rd.PAYMENT_METHODS),
            (rc.SNO_LABELS, rd.TAXATION_SYSTEMS),
            (rc.OPERATION_LABELS, rd.OPERATIONS),
            (rc.PAYMENT_OBJECT_LABELS, list(rd.FFD12_PAYMENT_OBJECTS.values()) + [30, 31, 32, 33]),
            (rc.PAYMENT_TYPE_LABELS, range(5)),
        )
        for table, codes in tables:
            for code in codes:
                with self.subTest(code=code):
                    self.assertTrue(table.get(code))

    def test_an_unreadable_request_gives_an_empty_copy_not_a_crash(self):
        for code, client in CLIENTS.items():
            for payload in (
                None,
                {},
                {"receipt": {"items": "x", "payments": [1, None]}},
                {"Lines": [{"Qty": "?"}]},
            ):
                with self.subTest(client=code, payload=payload):
                    copy = client.describe(payload, rd.SELL)
                    self.assertEqual(copy.operation, rd.SELL)
                    self.assertEqual(sum((i.sum for i in copy.items), Decimal(0)), Decimal(0))

    def test_check_string(self):
        values = ofd.check_values(
            fn="9999078900004792",
            fd=133,
            fp="3449555941",
            registered="28.11.2026 12:00:59",
            total=Decimal("1200"),
            sign=ofd.OPERATION_SIGNS[rd.SELL_REFUND],
        )
        self.assertEqual(
            values["qr"], "t=20261128T1200&s=1200.00&fn=9999078900004792&i=133&fp=3449555941&n=2"
        )
        self.assertEqual(
            ofd.receipt_link(ofd.OFD_URL_TEMPLATES["ofd.ru"], values),
            "https://check.ofd.ru/rec/9999078900004792/133/3449555941",
        )
        # Without its fiscal data a receipt has no check string, and no link.
        for missing in ("fn", "fd", "fp", "registered"):
            with self.subTest(missing=missing):
                arguments = {
                    "fn": "1",
                    "fd": 2,
                    "fp": "3",
                    "registered": "28.11.2026 12:00:00",
                    "total": Decimal(1),
                    "sign": 1,
                    missing: "",
                }
                self.assertIsNone(ofd.check_values(**arguments))
                self.assertEqual(ofd.receipt_link(ofd.OFD_URL_TEMPLATES["1-ofd"], None), "")
        self.assertIsNone(ofd.moment("2026-11-28 12:00"))
