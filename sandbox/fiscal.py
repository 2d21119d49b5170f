"""Fake but realistic fiscal data: one cash register (ККТ + ФН) per group.

Counters behave like a real register: the fiscal document number (1040) grows by one per
receipt and by two more at each shift change (closing + opening reports); the receipt number
in the shift (1042) restarts at 1 in every shift. Numbers are derived from the seed and the
group so that a run is reproducible.
"""

import random
from dataclasses import dataclass

from .util import now_msk

SHIFT_SIZE = 200
FNS_SITE = "www.nalog.ru"
# Первый ОФД: its receipts get an ofd_receipt_url (v4 Табл.5); the test consumer site.
OFD_INN = "7709364346"
OFD_URL = "https://consumer.1-ofd-test.ru/v1?fn={fn}&fp={fp}&i={fd}&t={t}&s={s}&n={n}"

# Tag 1054 "признак расчета", used in the QR string and the OFD link.
OPERATION_SIGN = {
    "sell": 1,
    "sell_refund": 2,
    "buy": 3,
    "buy_refund": 4,
    "sell_correction": 1,
    "sell_refund_correction": 2,
    "buy_correction": 3,
    "buy_refund_correction": 4,
}


def _digits(rng, count):
    return "".join(str(rng.randrange(10)) for _ in range(count))


@dataclass
class Register:
    seed: int
    group: str
    fn_number: str
    registration_number: str
    serial_number: str
    device_code: str
    shift_number: int
    fiscal_document_number: int
    receipts_in_shift: int = 0

    @classmethod
    def create(cls, seed, group):
        rng = random.Random(f"{seed}:{group}")
        return cls(
            seed=seed,
            group=group,
            fn_number="99990789" + _digits(rng, 8),
            registration_number="000" + _digits(rng, 13),
            serial_number="00000000" + _digits(rng, 12),
            device_code=f"KSR13.00-1-{rng.randrange(1, 40)}",
            shift_number=rng.randrange(1, 300),
            fiscal_document_number=rng.randrange(100, 5000),
        )

    def _next_shift(self):
        self.shift_number += 1
        self.fiscal_document_number += 2
        self.receipts_in_shift = 0

    def issue(self, operation, total):
        """Register one receipt; returns its fiscal data."""
        if self.receipts_in_shift >= SHIFT_SIZE:
            self._next_shift()
        self.fiscal_document_number += 1
        self.receipts_in_shift += 1
        moment = now_msk().replace(second=0, microsecond=0)
        # ФПД: a 10-digit number, reproducible for a given seed, register and document.
        sign = random.Random(f"{self.seed}:{self.fn_number}:{self.fiscal_document_number}").randrange(
            1_000_000_000, 4_294_967_296
        )
        return Fiscal(
            fn_number=self.fn_number,
            registration_number=self.registration_number,
            serial_number=self.serial_number,
            shift_number=self.shift_number,
            receipt_number=self.receipts_in_shift,
            document_number=self.fiscal_document_number,
            sign=sign,
            moment=moment,
            total=total,
            operation_sign=OPERATION_SIGN.get(operation, 1),
        )


@dataclass
class Fiscal:
    fn_number: str
    registration_number: str
    serial_number: str
    shift_number: int
    receipt_number: int
    document_number: int
    sign: int
    moment: object
    total: object
    operation_sign: int

    def qr(self):
        """The QR string printed on a receipt (t, s, fn, i, fp, n)."""
        return (
            f"t={self.moment.strftime('%Y%m%dT%H%M')}&s={self.total:.2f}&fn={self.fn_number}"
            f"&i={self.document_number}&fp={self.sign}&n={self.operation_sign}"
        )

    def atol_payload(self):
        """ATOL ``payload`` of a done document (v4 Табл.5, v5 §5.3)."""
        return {
            "total": self.total,
            "fns_site": FNS_SITE,
            "fn_number": self.fn_number,
            "shift_number": self.shift_number,
            "receipt_datetime": self.moment.strftime("%d.%m.%Y %H:%M:%S"),
            "fiscal_receipt_number": self.receipt_number,
            "fiscal_document_number": self.document_number,
            "ecr_registration_number": self.registration_number,
            "fiscal_document_attribute": self.sign,
            "ofd_inn": OFD_INN,
            "ofd_receipt_url": OFD_URL.format(
                fn=self.fn_number,
                fp=self.sign,
                fd=self.document_number,
                t=self.moment.strftime("%Y%m%dT%H%M"),
                s=f"{self.total:.2f}",
                n=self.operation_sign,
            ),
        }


class Registers:
    """One register per (vendor, group), created on first use."""

    def __init__(self, seed):
        self.seed = seed
        self.by_group = {}

    def get(self, vendor, group):
        key = (vendor, group)
        if key not in self.by_group:
            self.by_group[key] = Register.create(self.seed, f"{vendor}:{group}")
        return self.by_group[key]

    def clear(self):
        self.by_group.clear()
