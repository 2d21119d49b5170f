"""Checkonline request bodies: a neutral ``receipt.Receipt`` as a ``Complex`` command, in
exact integers (kopecks, thousandths) and CP866 text, checked before anything is sent."""

from decimal import Decimal

from .. import receipt as rd
from .. import receipt_copy as rc
from .protocol import (
    CREDIT_PAYMENT,
    DEVICE,
    DOCUMENT_TYPES,
    MAX_CONTACT,
    MAX_DESCRIPTION,
    MAX_PLACE,
    PAY_ATTRIBUTES,
    PAYMENT_FIELDS,
    TAX_MODES,
)
from .text import check_text, printable


class CheckonlineDataError(ValueError):
    """The receipt cannot be sent as it is; nothing was sent.

    Found before sending on purpose: the device's answer to bad data (error 51...) is cached
    under the RequestId, which would then be burnt. ``problems`` lists ``(field, message)``;
    ``field`` and ``value`` describe the first one.
    """

    def __init__(self, problems):
        self.problems = list(problems)
        self.field, self.value = self.problems[0][0], self.problems[0][2]
        super().__init__("\n".join(f"{field}: {message}" for field, message, _value in self.problems))


class Payload:
    """The ``Complex`` body of a receipt (ST32 §2.4)."""

    def build_payload(self, receipt):
        """The ``Complex`` request for a neutral ``receipt.Receipt``; raises CheckonlineDataError."""
        problems = []
        config = self.config
        document_type = DOCUMENT_TYPES.get(receipt.operation)
        if document_type is None:
            problems.append(
                (
                    "DocumentType",
                    f"operation {receipt.operation!r} cannot be sent with Complex (sell and "
                    "sell_refund only; corrections need MakeCorrectionDocument)",
                    receipt.operation,
                )
            )
        if not receipt.external_id:
            problems.append(("RequestId", "the receipt has no external_id (idempotency key)", ""))

        lines = self._lines(receipt.items, problems)
        money = self._payments(receipt, lines, problems)
        body = {
            "Device": DEVICE,
            "Group": config.group,
            "RequestId": receipt.external_id,
            "DocumentType": document_type,
            "Lines": lines,
        }
        if config.client_id:
            body["ClientId"] = config.client_id
        body.update(money)
        tax_mode = TAX_MODES.get(receipt.company.sno)
        if tax_mode is None:
            problems.append(
                ("TaxMode", f"unknown taxation system {receipt.company.sno!r}", receipt.company.sno)
            )
        else:
            body["TaxMode"] = tax_mode
        contact = receipt.client.email or receipt.client.phone
        check_text(
            "PhoneOrEmail",
            contact,
            MAX_CONTACT,
            problems,
            required="the customer has neither an e-mail nor a phone (tag 1008 is required for an "
            "electronic receipt)",
        )
        body["PhoneOrEmail"] = contact
        place = receipt.company.payment_address
        if place:
            check_text("Place", place, MAX_PLACE, problems)
            body["Place"] = place
        if receipt.internet:
            body["Internet"] = True  # tag 1125, mandatory for online sales since 09.2025
        body["FullResponse"] = True  # also returns the shift number, FN and RN as fiscal tags
        if problems:
            raise CheckonlineDataError(problems)
        return body

    def _lines(self, items, problems):
        tax_ids = self.config.tax_id_map
        lines = []
        for index, item in enumerate(items):
            where = f"Lines[{index}]"
            price = _exact(item.price, 2, f"{where}.Price", problems)
            quantity = _exact(item.quantity, 3, f"{where}.Qty", problems)
            line_sum = _exact(item.sum, 2, f"{where}.Sum", problems)
            if quantity is not None and quantity <= 0:
                problems.append(
                    (f"{where}.Qty", f"quantity must be above 0, not {item.quantity}", item.quantity)
                )
            if price is not None and quantity is not None and line_sum is not None:
                device_sum = _half_up(price * quantity, 1000)
                if device_sum != line_sum:
                    problems.append(
                        (
                            f"{where}.Price",
                            f"price {item.price} x quantity {item.quantity} gives "
                            f"{_rub(device_sum)} on the device, not the item sum {item.sum}",
                            item.price,
                        )
                    )
            # Cut after the typography is replaced: "…" becomes three characters (tag 1030).
            name = rd.shortened(printable(item.name), MAX_DESCRIPTION, ellipsis="...")
            check_text(
                f"{where}.Description",
                name,
                MAX_DESCRIPTION,
                problems,
                required="the item name is empty",
            )
            tax_id = tax_ids.get(item.vat)
            if tax_id is None:
                problems.append((f"{where}.TaxId", f"no TaxId for VAT code {item.vat!r}", item.vat))
            pay_attribute = PAY_ATTRIBUTES.get(item.payment_method)
            if pay_attribute is None:
                problems.append(
                    (
                        f"{where}.PayAttribute",
                        f"unknown payment method {item.payment_method!r}",
                        item.payment_method,
                    )
                )
            line_attribute = (
                rd.ffd12_payment_object(item) if item.payment_object in rd.FFD12_PAYMENT_OBJECTS else None
            )
            if line_attribute is None:
                problems.append(
                    (
                        f"{where}.LineAttribute",
                        f"unknown payment object {item.payment_object!r}",
                        item.payment_object,
                    )
                )
            lines.append(
                {
                    "Qty": quantity,
                    "Price": price,
                    "PayAttribute": pay_attribute,
                    "LineAttribute": line_attribute,
                    "TaxId": tax_id,
                    "Description": name,
                }
            )
        if not lines:
            problems.append(("Lines", "the receipt has no items (device error 208)", ()))
        if len(lines) > 1 and any(line["PayAttribute"] == CREDIT_PAYMENT for line in lines):
            problems.append(
                (
                    "Lines.PayAttribute",
                    "credit_payment (7) must be the only line of its receipt (ST32 Табл.9)",
                    CREDIT_PAYMENT,
                )
            )
        return lines

    def _payments(self, receipt, lines, problems):
        """Money fields in kopecks: this receipt's payments, which must add up to its total."""
        total = _exact(receipt.total, 2, "Total", problems)
        amounts = dict.fromkeys(PAYMENT_FIELDS.values(), 0)
        for index, payment in enumerate(receipt.payments):
            name = PAYMENT_FIELDS.get(payment.type)
            amount = _exact(payment.sum, 2, f"Payments[{index}]", problems)
            if name is None:
                problems.append(
                    (
                        f"Payments[{index}]",
                        f"payment type {payment.type} has no Checkonline field",
                        payment.type,
                    )
                )
            elif amount is not None:
                amounts[name] += amount
        if total is None:
            return {"NonCash": [amounts["NonCash"], 0, 0]}
        if total <= 0:
            problems.append(
                (
                    "Total",
                    f"the receipt total must be above 0, not {receipt.total} (device error 142)",
                    receipt.total,
                )
            )
        if all(line["Qty"] is not None and line["Price"] is not None for line in lines):
            lines_total = sum(_half_up(line["Price"] * line["Qty"], 1000) for line in lines)
            if lines_total != total:
                problems.append(
                    (
                        "Total",
                        f"the items add up to {_rub(lines_total)}, not to the total {receipt.total}",
                        receipt.total,
                    )
                )
        paid = sum(amounts.values())
        if paid != total:
            problems.append(
                (
                    "Payments",
                    f"the payments add up to {_rub(paid)}, not to the receipt total {receipt.total}",
                    _rub(paid),
                )
            )
        # NonCash is always the 3-element array of ST32 §2.4; everything goes to the first type.
        money = {"NonCash": [amounts["NonCash"], 0, 0]}
        money.update({name: amount for name, amount in amounts.items() if name != "NonCash" and amount})
        return money

    def describe(self, payload, operation):
        """The registered ``Complex`` request read back for the customer's copy (``receipt_copy``):
        kopecks and thousandths back to roubles and units, the service's numbers back to codes."""
        payload = payload if isinstance(payload, dict) else {}
        vat_codes = {tax_id: code for code, tax_id in self.config.tax_id_map.items()}
        methods = {number: method for method, number in PAY_ATTRIBUTES.items()}
        items = []
        for line in rc.records(payload.get("Lines")):
            price, quantity = rc.integer(line.get("Price")), rc.integer(line.get("Qty"))
            gross = (
                Decimal(_half_up(price * quantity, 1000)) / 100
                if price >= 0 and quantity >= 0
                else Decimal(0)
            )
            vat = vat_codes.get(line.get("TaxId"), "")
            items.append(
                rc.CopyItem(
                    name=str(line.get("Description", "")),
                    price=Decimal(price) / 100,
                    quantity=Decimal(quantity) / 1000,
                    sum=gross,
                    vat=vat,
                    vat_sum=rc.item_vat(vat, gross),
                    payment_method=methods.get(line.get("PayAttribute"), ""),
                    payment_object=rc.integer(line.get("LineAttribute")) or None,
                )
            )
        payments = []
        for payment_type, name in PAYMENT_FIELDS.items():
            value = payload.get(name)
            kopecks = sum(map(rc.integer, value)) if isinstance(value, list) else rc.integer(value)
            if kopecks:
                payments.append((payment_type, Decimal(kopecks) / 100))
        systems = {bit: code for code, bit in TAX_MODES.items()}
        return rc.ReceiptCopy(
            operation=operation,
            items=tuple(items),
            payments=tuple(payments),
            total=sum((item.sum for item in items), Decimal(0)),
            vats=rc.vat_totals(items),
            sno=systems.get(payload.get("TaxMode"), ""),
            payment_address=str(payload.get("Place", "")),
            client_contact=str(payload.get("PhoneOrEmail", "")),
            internet=bool(payload.get("Internet")),
        )

    def mirror_refund(self, payload, external_id, fiscal_sign):
        """The sale's request as a refund (DocumentType 2) under ``external_id``."""
        return dict(payload, RequestId=external_id, DocumentType=DOCUMENT_TYPES[rd.SELL_REFUND])


def _exact(value, decimals, field, problems):
    """A Decimal amount as an exact integer of 10^-decimals units (kopecks, thousandths)."""
    if isinstance(value, bool) or not isinstance(value, (Decimal, int)):
        problems.append((field, f"{value!r} must be a Decimal (never a float)", value))
        return None
    scaled = Decimal(value).scaleb(decimals)
    if not scaled.is_finite():
        problems.append((field, f"{value} is not a number", value))
        return None
    if scaled != scaled.to_integral_value():
        problems.append((field, f"{value} has more than {decimals} decimals", value))
        return None
    if scaled < 0:
        problems.append((field, f"{value} is negative", value))
        return None
    return int(scaled)


def _half_up(numerator, denominator):
    """round(numerator / denominator) half up, for non-negative integers."""
    return (2 * numerator + denominator) // (2 * denominator)


def _rub(kopecks):
    return f"{kopecks // 100}.{kopecks % 100:02d}"
