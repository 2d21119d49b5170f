"""Tests of the exact allocation of invoice lines to receipt items (docs/architecture.rst, "Money").

Property-based tests generate thousands of invoices and check every invariant;
a table of named tricky cases pins the exact output.
"""

import unittest
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from ..vendors import allocation, receipt
from .common import KkmCase

D = Decimal
Line = allocation.SourceLine
THOUSANDTH = D("0.001")
# The VAT codes the generator mixes; enough to exercise per-code netting.
GENERATED_VATS = ("none", "vat0", "vat10", "vat22", "vat122")
PROPERTY_SETTINGS = settings(max_examples=2000, deadline=None, database=None)


def exact_sum(price, quantity):
    return (price * quantity).quantize(receipt.KOPECK, rounding=ROUND_HALF_UP)


def representable(quantity):
    return 0 < quantity <= allocation.MAX_QUANTITY and quantity == quantity.quantize(THOUSANDTH)


def kopecks(amount):
    return int(amount * 100)


# --- generators -----------------------------------------------------------------------


@st.composite
def quantities(draw):
    """Mostly 0..3 decimals, sometimes 4..6 (Odoo UoM precision), sometimes huge."""
    decimals = draw(st.sampled_from((0, 0, 1, 2, 3, 3, 4, 6)))
    size = draw(st.sampled_from((2, 2, 2, 4, 6)))
    units = draw(st.integers(1, 10 ** (decimals + size)))
    return D(units).scaleb(-decimals)


@st.composite
def product_lines(draw, index):
    quantity = draw(quantities())
    # A cheap unit price for huge quantities keeps every line below the ATOL maximum.
    price_cap = 100 if quantity > 1000 else draw(st.sampled_from((1000, 10**6)))
    price = D(draw(st.integers(0, price_cap))).scaleb(-2)
    percent = draw(st.sampled_from((0, 0, 0, 5, 10, D("12.5"), D("33.33"), 100)) | st.integers(0, 100))
    gross = quantity * price * (1 - D(percent) / 100)
    return Line(
        name=f"L{index}",
        quantity=quantity,
        amount=gross.quantize(receipt.KOPECK, rounding=ROUND_HALF_UP),
        vat=draw(st.sampled_from(GENERATED_VATS)),
        payment_object=draw(st.sampled_from(("commodity", "service"))),
        measure=draw(st.sampled_from((0, 11))),
    )


@st.composite
def discount_lines(draw, index):
    amount = D(draw(st.integers(1, 10**5) | st.integers(1, 10**7))).scaleb(-2)
    quantity = draw(st.sampled_from((D(1), D(-1))))
    vat = draw(st.sampled_from(GENERATED_VATS))
    return Line(name=f"D{index}", quantity=quantity, amount=-amount, vat=vat)


@st.composite
def invoices(draw):
    """(lines, total): 1..30 lines, some discounts, a total off by a few kopecks at times."""
    count = draw(st.integers(1, 30))
    lines = []
    for index in range(count):
        kind = draw(st.sampled_from(("product",) * 5 + ("discount",)))
        maker = product_lines if kind == "product" else discount_lines
        lines.append(draw(maker(index)))
    drift = draw(st.just(0) | st.integers(-count, count))
    total = sum((line.amount for line in lines), D("0.00")) + D(drift).scaleb(-2)
    return lines, total


# --- the oracle -------------------------------------------------------------------------


def expected_error(lines, total):
    """Whether the invoice cannot be represented, decided without the allocator."""
    lines_sum = sum(line.amount for line in lines)
    if total < 0 or lines_sum < 0:
        return True
    if not any(line.amount >= 0 for line in lines):
        return True
    return total > 0 and sum(net_per_vat(lines).values()) == 0


def sold(line):
    """Lines that become items: not discounts, not empty (quantity 0 and amount 0)."""
    return line.amount >= 0 and (line.amount, line.quantity) != (0, 0)


def net_per_vat(lines):
    """Per VAT code: goods minus discounts of that code, never below zero."""
    codes = dict.fromkeys(line.vat for line in lines)
    return {vat: max(sum(line.amount for line in lines if line.vat == vat), D(0)) for vat in codes}


class InvariantsMixin:
    """Checks of invariants (1)-(6) shared by the property and table tests."""

    def assert_valid(self, lines, total, items):
        self.assert_items_valid(items)
        self.assertEqual(sum(item.sum for item in items), total)
        self.assert_lines_map_to_items(lines, items)
        self.assert_vat_preserved(lines, total, items)
        self.assertEqual(items, allocation.allocate(lines, total))

    def assert_items_valid(self, items):
        for item in items:
            self.assertEqual(item.sum, exact_sum(item.price, item.quantity), item)
            self.assertEqual(item.price, item.price.quantize(receipt.KOPECK), item)
            self.assertEqual(item.sum, item.sum.quantize(receipt.KOPECK), item)
            self.assertGreaterEqual(item.price, 0, item)
            self.assertLessEqual(item.price, allocation.MAX_AMOUNT, item)
            self.assertLessEqual(item.sum, allocation.MAX_AMOUNT, item)
            self.assertTrue(representable(item.quantity), item)

    def assert_lines_map_to_items(self, lines, items):
        by_name = {line.name: line for line in lines}
        order = [item.name for item in items]
        expected_order = [line.name for line in lines if sold(line)]
        # Order kept, every non-negative line present, no discount line present.
        self.assertEqual(list(dict.fromkeys(order)), expected_order)
        for name in expected_order:
            own = [item for item in items if item.name == name]
            self.assert_line_items(by_name[name], own)

    def assert_line_items(self, line, own):
        self.assertIn(len(own), (1, 2))
        for item in own:
            self.assertEqual(
                (item.vat, item.payment_method, item.payment_object, item.measure),
                (line.vat, line.payment_method, line.payment_object, line.measure),
            )
        if line.amount == 0:
            self.assertEqual([(i.price, i.sum) for i in own], [(0, 0)])
        if not representable(line.quantity):
            # Documented fallback: one unit priced at the line amount.
            self.assertEqual(len(own), 1)
            self.assertEqual((own[0].quantity, own[0].price), (1, own[0].sum))
            return
        line_sum = sum(item.sum for item in own)
        if line_sum / line.quantity > allocation.MAX_AMOUNT - receipt.KOPECK:
            return  # unit price at the limit: the fallback is allowed, items checked
        self.assertEqual(sum(item.quantity for item in own), line.quantity)
        if len(own) == 1:
            # Without a split the price is the unit price to the half kopeck.
            self.assertLessEqual(abs(own[0].price - line_sum / line.quantity), D("0.005"))
        else:
            self.assertEqual(own[1].price - own[0].price, receipt.KOPECK)
            self.assertIsNone(single_price(line_sum, line.quantity), own)

    def assert_vat_preserved(self, lines, total, items):
        """Per VAT code the sums move only by what must cross codes, all one way."""
        base = net_per_vat(lines)
        rest = total - sum(base.values())
        deviations = {
            vat: sum(item.sum for item in items if item.vat == vat) - amount for vat, amount in base.items()
        }
        self.assertEqual(sum(abs(d) for d in deviations.values()), abs(rest))
        for vat, deviation in deviations.items():
            self.assertGreaterEqual(deviation * (1 if rest >= 0 else -1), 0, vat)
            if base[vat] == 0:
                self.assertEqual(deviation, 0, vat)
        if rest == 0:
            self.assert_proportional(lines, items)

    def assert_proportional(self, lines, items):
        """Within a code, each line bears its share of the discounts to the kopeck."""
        for line in lines:
            if line.amount < 0:
                continue
            same = [other for other in lines if other.vat == line.vat]
            goods = sum(kopecks(o.amount) for o in same if o.amount >= 0)
            net = max(sum(kopecks(o.amount) for o in same), 0)
            share = Fraction(kopecks(line.amount) * net, goods) if goods else 0
            got = sum(kopecks(item.sum) for item in items if item.name == line.name)
            self.assertLess(abs(got - share), 1, line)


def single_price(line_sum, quantity):
    """A 2-decimal price giving exactly line_sum for quantity, found by brute force."""
    centre = line_sum / quantity
    low = (centre - D("0.01")).quantize(receipt.KOPECK)
    for step in range(-2, 4):
        price = low + step * receipt.KOPECK
        if price >= 0 and exact_sum(price, quantity) == line_sum:
            return price
    return None


# --- property-based tests ---------------------------------------------------------------


class TestAllocationProperties(InvariantsMixin, KkmCase):
    @PROPERTY_SETTINGS
    @given(invoices())
    def test_random_invoices(self, invoice):
        lines, total = invoice
        if expected_error(lines, total):
            with self.assertRaises(allocation.AllocationError):
                allocation.allocate(lines, total)
            return
        self.assert_valid(lines, total, allocation.allocate(lines, total))

    @PROPERTY_SETTINGS
    @given(
        st.integers(1, 10**8),
        st.sampled_from((0, 1, 2, 3)),
        st.integers(0, 10**9),
    )
    def test_any_sum_for_any_quantity(self, units, decimals, cents):
        """Whatever sum spreading leaves, a 3-decimal quantity gets valid items."""
        quantity = min(D(units).scaleb(-decimals), allocation.MAX_QUANTITY)
        total = D(cents).scaleb(-2)
        lines = [Line("L0", quantity, total)]
        self.assert_valid(lines, total, allocation.allocate(lines, total))


# --- named tricky cases -----------------------------------------------------------------


def item(name, price, quantity, total, vat="none", **extra):
    return receipt.Item(
        name=name,
        price=D(price),
        quantity=D(quantity),
        sum=D(total),
        vat=vat,
        **extra,
    )


NAMED_CASES = [
    (
        "10 % discount on 1000.01 inside the line (900.009 -> 900.01)",
        [Line("Chair", D(1), D("900.01"), "vat22")],
        "900.01",
        [item("Chair", "900.01", "1", "900.01", "vat22")],
    ),
    (
        "10 % discount line -100.00 on 1000.01 of goods (Lamp needs a split)",
        [
            Line("Desk", D(1), D("599.99"), "vat22"),
            Line("Lamp", D(3), D("400.02"), "vat22"),
            Line("Discount 10 %", D(1), D("-100.00"), "vat22"),
        ],
        "900.01",
        [
            item("Desk", "539.99", "1", "539.99", "vat22"),
            item("Lamp", "120.00", "1", "120.00", "vat22"),
            item("Lamp", "120.01", "2", "240.02", "vat22"),
        ],
    ),
    (
        "0.333 x 3.00 = 0.999 -> 1.00 keeps the price 3.00",
        [Line("Cable", D("0.333"), D("1.00"))],
        "1.00",
        [item("Cable", "3.00", "0.333", "1.00")],
    ),
    (
        "3 x 3.33 for 10.00 splits into 2 x 3.33 + 1 x 3.34",
        [Line("Pen", D(3), D("10.00"))],
        "10.00",
        [item("Pen", "3.33", "2", "6.66"), item("Pen", "3.34", "1", "3.34")],
    ),
    (
        "2.5 kg for 10.01 splits into 1.5 x 4.00 + 1 x 4.01",
        [Line("Cheese", D("2.5"), D("10.01"), measure=11)],
        "10.01",
        [
            item("Cheese", "4.00", "1.5", "6.00", measure=11),
            item("Cheese", "4.01", "1", "4.01", measure=11),
        ],
    ),
    (
        "1.002 for 2.50: the first split point rounds both halves up, bisection finds one",
        [Line("Rope", D("1.002"), D("2.50"), measure=22)],
        "2.50",
        [
            item("Rope", "2.49", "0.501", "1.25", measure=22),
            item("Rope", "2.50", "0.501", "1.25", measure=22),
        ],
    ),
    (
        "1 kopeck over 7 units: 6 x 0.00 + 1 x 0.01",
        [Line("Clip", D(7), D("0.01"))],
        "0.01",
        [item("Clip", "0.00", "6", "0.00"), item("Clip", "0.01", "1", "0.01")],
    ),
    (
        "discount line without VAT spreads over two VAT codes by amount",
        [
            Line("Book", D(2), D("300.00"), "vat10"),
            Line("Pen", D(4), D("100.00"), "vat22"),
            Line("Coupon", D(1), D("-100.00"), "none"),
        ],
        "300.00",
        [
            item("Book", "112.50", "2", "225.00", "vat10"),
            item("Pen", "18.75", "4", "75.00", "vat22"),
        ],
    ),
    (
        "discount line with VAT 22 stays on the VAT 22 line",
        [
            Line("Book", D(2), D("300.00"), "vat10"),
            Line("Pen", D(4), D("200.00"), "vat22"),
            Line("Coupon", D(1), D("-50.00"), "vat22"),
        ],
        "450.00",
        [
            item("Book", "150.00", "2", "300.00", "vat10"),
            item("Pen", "37.50", "4", "150.00", "vat22"),
        ],
    ),
    (
        "VAT 22 discount larger than the VAT 22 goods spills onto VAT 10",
        [
            Line("Book", D(2), D("300.00"), "vat10"),
            Line("Pen", D(4), D("100.00"), "vat22"),
            Line("Coupon", D(1), D("-150.00"), "vat22"),
        ],
        "250.00",
        [
            item("Book", "125.00", "2", "250.00", "vat10"),
            item("Pen", "0.00", "4", "0.00", "vat22"),
        ],
    ),
    (
        "0-price gift is kept and receives no discount",
        [
            Line("Phone", D(1), D("1000.00"), "vat22"),
            Line("Gift case", D(1), D("0.00"), "vat22"),
            Line("Discount", D(1), D("-10.00"), "vat22"),
        ],
        "990.00",
        [
            item("Phone", "990.00", "1", "990.00", "vat22"),
            item("Gift case", "0.00", "1", "0.00", "vat22"),
        ],
    ),
    (
        "quantity 1.2345 (4 decimals) falls back to 1 x the line amount",
        [Line("Wire", D("1.2345"), D("12.35"), measure=22)],
        "12.35",
        [item("Wire", "12.35", "1", "12.35", measure=22)],
    ),
    (
        "quantity above 99 999.999 falls back to 1 x the line amount",
        [Line("Screws", D(150000), D("1500.00"))],
        "1500.00",
        [item("Screws", "1500.00", "1", "1500.00")],
    ),
    (
        "price at the ATOL maximum 42 949 672.95",
        [Line("Plant", D(1), allocation.MAX_AMOUNT)],
        "42949672.95",
        [item("Plant", "42949672.95", "1", "42949672.95")],
    ),
    (
        "total 2 kopecks above the lines (round globally) goes by largest remainder",
        [
            Line("A", D(1), D("10.00"), "vat22"),
            Line("B", D(1), D("20.00"), "vat22"),
            Line("C", D(1), D("0.00"), "vat22"),
        ],
        "30.02",
        [
            item("A", "10.01", "1", "10.01", "vat22"),
            item("B", "20.01", "1", "20.01", "vat22"),
            item("C", "0.00", "1", "0.00", "vat22"),
        ],
    ),
    (
        "empty line (quantity 0, amount 0) is dropped",
        [Line("Note", D(0), D("0.00")), Line("Tea", D(2), D("5.00"))],
        "5.00",
        [item("Tea", "2.50", "2", "5.00")],
    ),
]

ERROR_CASES = [
    (
        "discount larger than the lines",
        [Line("Tea", D(1), D("100.00")), Line("Coupon", D(1), D("-150.00"))],
        "-50.00",
        "exceed",
    ),
    ("negative total", [Line("Tea", D(1), D("0.00"))], "-0.01", "negative"),
    (
        "total too far from the lines",
        [Line("Tea", D(1), D("100.00")), Line("Cup", D(1), D("5.00"))],
        "105.03",
        "more than 1 kopeck per line",
    ),
    (
        "line above the ATOL maximum",
        [Line("Plant", D(1), D("42949672.96"))],
        "42949672.96",
        "above the fiscal maximum",
    ),
    ("only a discount line", [Line("Coupon", D(1), D("-1.00"))], "0.00", "no line"),
    ("no line at all", [], "0.00", "no line"),
    (
        "a positive total on zero-priced lines only",
        [Line("Gift", D(1), D("0.00"))],
        "0.01",
        "zero-priced",
    ),
    ("amount with 3 decimals", [Line("Tea", D(1), D("1.005"))], "1.01", "2 decimals"),
    ("float amount", [Line("Tea", D(1), 1.5)], "1.50", "Decimal"),
    ("unknown VAT code", [Line("Tea", D(1), D("1.00"), "vat18")], "1.00", "VAT"),
    ("amount with a zero quantity", [Line("Tea", D(0), D("1.00"))], "1.00", "zero"),
    ("negative quantity", [Line("Tea", D(-1), D("1.00"))], "1.00", "negative"),
]


class TestAllocationCases(InvariantsMixin, KkmCase):
    def test_named_cases(self):
        for title, lines, total, expected in NAMED_CASES:
            with self.subTest(title):
                items = allocation.allocate(lines, D(total))
                self.assertEqual(items, expected)
                self.assert_valid(lines, D(total), items)

    def test_error_cases(self):
        for title, lines, total, message in ERROR_CASES:
            with (
                self.subTest(title),
                self.assertRaisesRegex(allocation.AllocationError, message),
            ):
                allocation.allocate(lines, D(total))

    def test_error_is_a_value_error(self):
        self.assertTrue(issubclass(allocation.AllocationError, ValueError))

    def test_200_line_invoice(self):
        """-1.00 over 200 x 10.00: half a kopeck each, ties go to the first 100 lines."""
        lines = [Line(f"L{i}", D(1), D("10.00"), "vat22") for i in range(200)]
        lines.append(Line("Discount", D(1), D("-1.00"), "vat22"))
        items = allocation.allocate(lines, D("1999.00"))
        expected = [
            item(f"L{i}", price, "1", price, "vat22")
            for i, price in enumerate(["9.99"] * 100 + ["10.00"] * 100)
        ]
        self.assertEqual(items, expected)
        self.assert_valid(lines, D("1999.00"), items)

    def test_attributes_are_copied_to_both_halves_of_a_split(self):
        line = Line(
            "Service",
            D(3),
            D("10.00"),
            "vat20",
            payment_method="full_prepayment",
            payment_object="service",
            measure=71,
            measurement_unit="h",
        )
        items = allocation.allocate([line], D("10.00"))
        self.assertEqual(len(items), 2)
        for half in items:
            self.assertEqual(
                (half.vat, half.payment_method, half.payment_object, half.measure),
                ("vat20", "full_prepayment", "service", 71),
            )
            self.assertEqual(half.measurement_unit, "h")


if __name__ == "__main__":
    unittest.main()
