"""Exact allocation of invoice lines to fiscal receipt items (docs/architecture.rst, "Money").

A pure function on ``Decimal``; it never imports Odoo. It turns the lines of an
invoice into ``receipt.Item`` objects such that:

1. every item's ``sum == round_half_up(price * quantity, 2)``, price has at most
   2 decimals and is >= 0, quantity has at most 3 decimals, 0 < quantity <= 99 999.999,
   price and sum <= 42 949 672.95 (ATOL v5 rule "1043 = 1079 x 1023");
2. the item sums add up to the invoice total to the kopeck;
3. negative lines (discounts) become no item: their amount is taken off the positive
   lines of the same VAT code, proportionally, largest remainder first; what a VAT code
   cannot absorb is taken off the other lines the same way;
4. zero-amount lines (gifts) stay as items with price 0 and sum 0;
5. a line is split in two items (prices 1 kopeck apart) when no single price fits;
   a line with marking codes becomes one item of quantity 1 per code;
6. items follow the order of the lines; same input, same output.

Choices worth knowing:

- A quantity that cannot be sent (more than 3 decimals, above 99 999.999, or one that
  would need a unit price above the maximum) falls back to ONE item of quantity 1
  whose price is the line amount: sum and VAT stay right, only the printed quantity
  changes. This is the remedy vendor-api §10 #4 recommends.
- A line with quantity 0 and amount 0 is dropped: nothing was sold.
- A difference between the invoice total and the sum of the line amounts (Odoo
  "round globally") of at most 1 kopeck per line is spread over all positive lines; so is a
  declared ``adjustment`` of any size (cash rounding, the VAT an early-payment discount
  takes off the invoice, a discount granted at payment).
- Amounts are handled as integer kopecks and quantities as integer thousandths,
  so no rounding context can interfere.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from . import receipt

MAX_AMOUNT = Decimal("42949672.95")  # price and sum limit (tag 1079/1043)
MAX_QUANTITY = Decimal("99999.999")  # quantity limit (tag 1023)
QUANTITY_STEP = Decimal("0.001")

_MAX_KOPECKS = int(MAX_AMOUNT * 100)


class AllocationError(ValueError):
    """The invoice cannot be represented as a valid fiscal receipt."""


@dataclass(frozen=True)
class SourceLine:
    """One invoice line as the fiscal layer sees it.

    ``amount`` is the line total including VAT, in the invoice currency, with at most
    2 decimals; it is negative for discount lines. ``quantity`` is the Odoo quantity
    (any precision); it must be > 0 unless the amount is negative.
    """

    name: str
    quantity: Decimal
    amount: Decimal
    vat: str = "none"
    payment_method: str = "full_payment"
    payment_object: str = "commodity"
    measure: int = receipt.MEASURE_PIECE
    measurement_unit: str = ""
    marked: bool = False
    # One code per unit sold: the line becomes one item of quantity 1 per code.
    mark_codes: tuple = ()
    agent: receipt.Agent = None


def allocate(
    lines: Sequence[SourceLine], total: Decimal, adjustment: Decimal = Decimal(0)
) -> list[receipt.Item]:
    """Return the receipt items for ``lines`` whose sums add up exactly to ``total``.

    ``adjustment`` is the part of ``total - sum(lines)`` that the invoice explains (cash
    rounding, ...): it is spread over the goods like the rounding drift.

    Raises ``AllocationError`` when the invoice cannot be represented: negative total,
    discounts larger than the goods, amounts with more than 2 decimals or above the
    ATOL maximum, a total too far from the sum of the lines, or nothing to sell.
    """
    total_kopecks = _kopecks(total, "invoice total")
    adjustment_kopecks = _kopecks(adjustment, "adjustment")
    _check_lines(lines)
    sold = [line for line in lines if not _is_empty(line)]
    positive = [line for line in sold if line.amount >= 0]
    if not positive:
        raise AllocationError("The invoice has no line to sell (only discounts or empty lines).")
    targets = _target_kopecks(sold, positive, total_kopecks, len(lines), adjustment_kopecks)
    items = []
    for line, target in zip(positive, targets, strict=True):
        items.extend(_items_for_line(line, target))
    _verify(items, total_kopecks)
    return items


# --- validation -------------------------------------------------------------------


def _kopecks(value, what):
    """``value`` as an integer number of kopecks; refuse floats and fractions of kopecks."""
    if isinstance(value, bool) or not isinstance(value, (Decimal, int)):
        raise AllocationError(f"The {what} must be a Decimal, got {value!r}.")
    value = Decimal(value)
    try:
        exact = value.is_finite() and value == value.quantize(receipt.KOPECK)
    except InvalidOperation:  # too many digits to quantize
        exact = False
    if not exact:
        raise AllocationError(f"The {what} {value} is not an amount with 2 decimals.")
    return int(value * 100)


def _amount(line):
    """The (validated) line amount in kopecks."""
    return int(line.amount * 100)


def _check_lines(lines):
    for line in lines:
        _kopecks(line.amount, f"amount of line {line.name!r}")
        if line.vat not in receipt.VAT_CODES:
            raise AllocationError(f"Line {line.name!r} has an unknown VAT code {line.vat!r}.")
        if not isinstance(line.quantity, (Decimal, int)) or not Decimal(line.quantity).is_finite():
            raise AllocationError(f"Line {line.name!r} has an invalid quantity {line.quantity!r}.")
        if line.amount >= 0 and line.quantity < 0:
            raise AllocationError(f"Line {line.name!r} has a negative quantity {line.quantity}.")
        if line.amount > 0 and line.quantity == 0:
            raise AllocationError(f"Line {line.name!r} has an amount but a zero quantity.")
        if line.mark_codes and (line.amount < 0 or Decimal(line.quantity) != len(line.mark_codes)):
            raise AllocationError(
                f"Line {line.name!r} has {len(line.mark_codes)} marking codes for a quantity of {line.quantity}."
            )


def _is_empty(line):
    """A line with nothing sold and nothing charged (quantity 0, amount 0)."""
    return line.amount == 0 and line.quantity == 0


# --- spreading the discounts --------------------------------------------------------


def _target_kopecks(sold, positive, total_kopecks, line_count, adjustment_kopecks=0):
    """Final sum in kopecks of every positive line, in order; they add up to the total."""
    lines_sum = sum(_amount(line) for line in sold)
    if lines_sum < 0:
        goods = sum(_amount(line) for line in positive)
        raise AllocationError(
            f"The discounts ({Decimal(goods - lines_sum).scaleb(-2)}) exceed "
            f"the goods ({Decimal(goods).scaleb(-2)})."
        )
    if total_kopecks < 0:
        raise AllocationError(f"The invoice total {Decimal(total_kopecks).scaleb(-2)} is negative.")
    drift = total_kopecks - lines_sum - adjustment_kopecks
    if abs(drift) > line_count:
        raise AllocationError(
            f"The invoice total differs from the sum of its lines by {Decimal(drift).scaleb(-2)}, "
            f"more than 1 kopeck per line."
        )
    targets = _net_discounts_per_vat(sold, positive)
    # What the VAT codes could not absorb, plus the rounding drift, goes over all lines.
    rest = total_kopecks - sum(targets)
    if rest > 0 and sum(targets) == 0:
        raise AllocationError("The invoice total cannot be carried by zero-priced lines only.")
    return _adjust(targets, rest)


def _net_discounts_per_vat(sold, positive):
    """Positive line amounts after taking off the negative lines of the same VAT code.

    A VAT code whose discounts exceed its goods ends at zero; the excess is left for
    the caller to spread (it shows up as the gap between the total and the result).
    """
    targets = [_amount(line) for line in positive]
    for vat in dict.fromkeys(line.vat for line in sold):
        discount = -sum(_amount(line) for line in sold if line.vat == vat and line.amount < 0)
        indexes = [i for i, line in enumerate(positive) if line.vat == vat]
        available = sum(targets[i] for i in indexes)
        taken = _adjust([targets[i] for i in indexes], -min(discount, available))
        for i, value in zip(indexes, taken, strict=True):
            targets[i] = value
    return targets


def _adjust(amounts, delta):
    """Add ``delta`` kopecks to non-negative ``amounts`` proportionally to them.

    Shares are floored, then the leftover kopecks go to the largest remainders
    (earlier line first on ties), so the result is deterministic and never negative
    when ``-delta <= sum(amounts)``.
    """
    weight = sum(amounts)
    if delta == 0 or weight == 0:
        return list(amounts)
    magnitude = abs(delta)
    shares = [amount * magnitude // weight for amount in amounts]
    remainders = [amount * magnitude % weight for amount in amounts]
    leftover = magnitude - sum(shares)
    by_remainder = sorted(range(len(amounts)), key=lambda i: (-remainders[i], i))
    for i in by_remainder[:leftover]:
        shares[i] += 1
    sign = 1 if delta > 0 else -1
    return [amount + sign * share for amount, share in zip(amounts, shares, strict=True)]


# --- one line to one or two items ---------------------------------------------------


def _items_for_line(line, sum_kopecks):
    """Items (one, or two when split) whose sums add up to ``sum_kopecks``."""
    if sum_kopecks > _MAX_KOPECKS:
        raise AllocationError(
            f"Line {line.name!r} amounts to {Decimal(sum_kopecks).scaleb(-2)}, "
            f"above the fiscal maximum {MAX_AMOUNT}."
        )
    if line.mark_codes:
        return _unit_items(line, sum_kopecks)
    thousandths = _thousandths(line.quantity)
    if thousandths is not None:
        price = _single_price(sum_kopecks, thousandths)
        if price is not None:
            return [_item(line, price, thousandths)]
        split = _split(sum_kopecks, thousandths)
        if split is not None:
            return [_item(line, part_price, part) for part_price, part in split]
    # Quantity (or unit price) not representable: one unit at the line amount keeps
    # the sum and the VAT exact.
    return [_item(line, sum_kopecks, 1000)]


def _unit_items(line, sum_kopecks):
    """One item of quantity 1 per marking code; the extra kopecks go to the first units."""
    count = len(line.mark_codes)
    base, extra = divmod(sum_kopecks, count)
    return [
        _item(line, base + (1 if index < extra else 0), 1000, mark_code=code)
        for index, code in enumerate(line.mark_codes)
    ]


def _thousandths(quantity):
    """The quantity in thousandths if ATOL accepts it as is, else None."""
    quantity = Decimal(quantity)
    if not 0 < quantity <= MAX_QUANTITY or quantity != quantity.quantize(QUANTITY_STEP):
        return None
    return int(quantity * 1000)


def _line_sum(price_kopecks, thousandths):
    """round_half_up(price x quantity) in kopecks, on integers."""
    return (price_kopecks * thousandths + 500) // 1000


def _single_price(sum_kopecks, thousandths):
    """The price closest to sum/quantity that gives exactly ``sum_kopecks``, or None.

    Valid prices P satisfy 1000*S - 500 <= P*Q < 1000*S + 500 (half-up rounding).
    """
    # ceil((1000S - 500) / Q) and the largest P with P*Q < 1000S + 500.
    lowest = -((500 - 1000 * sum_kopecks) // thousandths)
    highest = (1000 * sum_kopecks + 499) // thousandths
    lowest, highest = max(lowest, 0), min(highest, _MAX_KOPECKS)
    if lowest > highest:
        return None
    # round_half_up(1000S / Q): the exact unit price, to the kopeck.
    nearest = (2000 * sum_kopecks + thousandths) // (2 * thousandths)
    return min(max(nearest, lowest), highest)


def _split(sum_kopecks, thousandths):
    """Two (price, thousandths) parts, prices 1 kopeck apart, lower price first.

    With P = floor(1000S / Q), put Q1 at P and Q - Q1 at P + 1. At Q1 = (P+1)Q - 1000S
    the exact products add up to S, and their roundings do too unless both halves end
    in exactly half a kopeck. Otherwise bisect: g(Q1) = sum of the two rounded parts
    moves by at most 1 kopeck per thousandth, g(0) > S > g(Q), so it crosses S.
    """
    low = 1000 * sum_kopecks // thousandths
    if low + 1 > _MAX_KOPECKS:
        return None

    def parts_sum(first):
        return _line_sum(low, first) + _line_sum(low + 1, thousandths - first)

    first = (low + 1) * thousandths - 1000 * sum_kopecks
    if parts_sum(first) != sum_kopecks:
        first = _bisect(parts_sum, sum_kopecks, 0, thousandths)
    if not 0 < first < thousandths:
        return None
    return [(low, first), (low + 1, thousandths - first)]


def _bisect(function, target, above, below):
    """An x in (above, below) with function(x) == target, given f(above) > target > f(below)
    and steps of at most 1."""
    while below - above > 1:
        middle = (above + below) // 2
        value = function(middle)
        if value == target:
            return middle
        if value > target:
            above = middle
        else:
            below = middle
    return above  # not reached when the preconditions hold; rejected by the caller


def _item(line, price_kopecks, thousandths, mark_code=""):
    return receipt.Item(
        name=line.name,
        price=Decimal(price_kopecks).scaleb(-2),
        quantity=Decimal(thousandths).scaleb(-3),
        sum=Decimal(_line_sum(price_kopecks, thousandths)).scaleb(-2),
        vat=line.vat,
        payment_method=line.payment_method,
        payment_object=line.payment_object,
        measure=line.measure,
        measurement_unit=line.measurement_unit,
        marked=line.marked,
        mark_code=mark_code,
        agent=line.agent,
    )


def _verify(items, total_kopecks):
    """Last guard before a fiscal document: a wrong receipt is worse than an error."""
    if sum(int(item.sum * 100) for item in items) != total_kopecks:
        raise AllocationError("Internal error: the item sums do not add up to the invoice total.")
