"""Where the customer checks a receipt: the tax service's check string (the receipt's QR code)
and the receipt's page at the fiscal data operator (OFD). Plain Python, no Odoo.

The check string is the one the FNS app "Проверка чека" reads: ``t=YYYYMMDDTHHMM&s=TOTAL&fn=FN
&i=FD&fp=FP&n=SIGN`` (ST32 §5.26.3; docs/architecture.rst, "The customer's receipt").
"""

from datetime import datetime
from decimal import Decimal

from . import receipt as rd

# Receipt pages of the operators whose address is known (shared/docs/vendor-api.md §8.5).
# ATOL gives the link itself for the operators it knows; Checkonline gives none.
OFD_URL_TEMPLATES = {
    "ofd.ru": "https://check.ofd.ru/rec/{fn}/{fd}/{fp}",
    "1-ofd": "https://consumer.1-ofd.ru/v1?fn={fn}&fp={fp}&i={fd}&t={t}&s={s}&n={n}",
}
TEMPLATE_KEYS = ("fn", "fd", "fp", "t", "s", "n", "rn", "qr")

# Tag 1054 "признак расчета" of each operation: a correction carries the sign of what it corrects.
OPERATION_SIGNS = {
    rd.SELL: 1,
    rd.SELL_REFUND: 2,
    rd.SELL_CORRECTION: 1,
    rd.SELL_REFUND_CORRECTION: 2,
}

# How both services write the registration moment (ATOL "receipt_datetime"; the Checkonline
# client writes its Date the same way).
DATETIME_FORMATS = ("%d.%m.%Y %H:%M:%S", "%d.%m.%Y %H:%M")


def moment(text):
    """The registration moment written by a service, or None when it cannot be read."""
    for pattern in DATETIME_FORMATS:
        try:
            return datetime.strptime((text or "").strip(), pattern)
        except ValueError:
            continue
    return None


def check_values(*, fn, fd, fp, registered, total, sign, rn=""):
    """The values of the check string, or None when the receipt lacks one of them."""
    when = moment(registered)
    if not (fn and fd and fp and when and sign) or total is None:
        return None
    values = {
        "fn": str(fn),
        "fd": str(fd),
        "fp": str(fp),
        "t": when.strftime("%Y%m%dT%H%M"),
        "s": f"{Decimal(total).quantize(rd.KOPECK)}",
        "n": sign,
        "rn": rn or "",
    }
    values["qr"] = "t={t}&s={s}&fn={fn}&i={fd}&fp={fp}&n={n}".format(**values)
    return values


def receipt_link(template, values):
    """The receipt's page at the operator from ``template`` (TEMPLATE_KEYS); "" without one."""
    if not (template and values):
        return ""
    return template.format(**values)
