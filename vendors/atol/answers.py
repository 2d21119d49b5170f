"""ATOL Online's answers read as outcomes (protocol §6-8). Whatever an answer holds, these
functions return an ``Outcome`` or raise a ``TransientError``; a shape they cannot read raises one
of ``errors.PARSE_ERRORS``, which the client turns into ``UnreadableAnswer``."""

from decimal import Decimal

from .. import outcome as oc
from .. import receipt as rd
from ..errors import TransientError
from .protocol import (
    ALREADY_EXISTS_CODE,
    AUTH_CODES,
    CONFIG_CODES,
    IDENTIFIER_PATTERN,
    INTEGER_MAX,
    NOT_READY_CODE,
    UNKNOWN_DOCUMENT_CODE,
    VALIDATION_CODES,
)


def registration(http_status, body):
    """The outcome of a registration answer: ACCEPTED with the document's uuid, or FAILED."""
    error = _dict(body.get("error"))
    code = _code(error)
    uuid = _identifier(body.get("uuid"))
    if code == ALREADY_EXISTS_CODE and uuid:
        # The vendor already holds this external_id: the first registration counts, once its
        # report shows that it is this request (see ``result``).
        return oc.Outcome(oc.ACCEPTED, vendor_id=uuid, http_status=http_status, raw=body)
    if not error and uuid:
        return oc.Outcome(oc.ACCEPTED, vendor_id=uuid, http_status=http_status, raw=body)
    return failure(http_status, body, error)


def result(uuid, http_status, body, payload):
    """The outcome of a status answer. With the frozen request ``payload``, a done document that
    does not describe it (its external id or total differ) is not taken as this receipt."""
    error = _dict(body.get("error"))
    status = body.get("status")
    if status == "done":
        fiscal = _fiscal(_dict(body.get("payload"), required=True))
        if not (fiscal.fiscal_document_number and fiscal.fiscal_document_attribute):
            raise ValueError("a done document without its fiscal document number or fiscal sign")
        mismatch = payload and _mismatch(payload, body, fiscal)
        if mismatch:
            return oc.Outcome(
                oc.ATTENTION,
                vendor_id=uuid,
                fiscal=fiscal,
                error_code="document_mismatch",
                error_text=mismatch,
                http_status=http_status,
                raw=body,
            )
        return oc.Outcome(oc.DONE, vendor_id=uuid, fiscal=fiscal, http_status=http_status, raw=body)
    if status == "wait" or _code(error) == NOT_READY_CODE:
        return oc.Outcome(oc.WAIT, vendor_id=uuid, http_status=http_status, raw=body)
    if status == "fail" and error.get("type") != "system":
        # The document failed on the register (driver, agent, queue timeout): it stays bound to
        # its external_id, so a new id is needed. A "system" error is the service's own (e.g.
        # 30, unknown uuid in this group) and says nothing of it.
        return oc.Outcome(
            oc.FAILED,
            vendor_id=uuid,
            error_code=str(_code(error) or ""),
            error_text=_text(error.get("text")) or "ATOL reports the document failed, without saying why.",
            kind=oc.KIND_DEVICE,
            new_id_needed=True,
            http_status=http_status,
            raw=body,
        )
    return failure(http_status, body, error)


def failure(http_status, body, error):
    """FAILED for the codes that say what to fix; anything else is the service's own trouble."""
    code = _code(error)
    text = _text(error.get("text"))
    if code in AUTH_CODES:
        kind = oc.KIND_AUTH
    elif code in CONFIG_CODES:
        kind = oc.KIND_CONFIG
    elif code in VALIDATION_CODES:
        kind = oc.KIND_VALIDATION
    else:
        # Codes 0, 1, 50 and anything undocumented: the vendor could not process it now.
        raise TransientError(
            text or f"ATOL error {code}",
            uncertain=False,
            http_status=http_status,
            unknown_document=code == UNKNOWN_DOCUMENT_CODE,
        )
    return oc.Outcome(
        oc.FAILED, error_code=str(code), error_text=text, kind=kind, http_status=http_status, raw=body
    )


def _code(error):
    code = error.get("code")
    if isinstance(code, bool):
        return None
    try:
        return int(code)
    except (TypeError, ValueError, OverflowError):
        return None


def _dict(value, required=False):
    """``value`` if it is a JSON object; {} otherwise (or an error when ``required``)."""
    if isinstance(value, dict):
        return value
    if required:
        raise TypeError(f"an object was expected, not {type(value).__name__}")
    return {}


def _text(value, limit=1000):
    if value is None:
        return ""
    return str(value)[:limit] if isinstance(value, (str, int, float)) else ""


def _identifier(value):
    """A document id (uuid) the service gave, or "" when it is not one."""
    if isinstance(value, str) and IDENTIFIER_PATTERN.match(value):
        return value
    return ""


def _integer(payload, name, maximum=INTEGER_MAX):
    """A non-negative integer field of the fiscal data (a number or a string of digits)."""
    value = payload.get(name)
    if value in (None, ""):
        return 0
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise TypeError(f"{name} is not a number")
    if isinstance(value, float) and not value.is_integer():
        raise ValueError(f"{name} is not a whole number")
    if isinstance(value, str) and not value.strip().isdigit():
        raise ValueError(f"{name} is not a whole number")
    number = int(value)
    if not 0 <= number <= maximum:
        raise ValueError(f"{name} is out of range")
    return number


def _string(payload, name, limit=256):
    value = payload.get(name)
    if value in (None, ""):
        return ""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise TypeError(f"{name} is not text")
    text = str(value) if isinstance(value, str) or abs(value) < 10**20 else ""
    if len(text) > limit or any(ord(char) < 32 for char in text):
        raise ValueError(f"{name} is not a usable value")
    return text


def _fiscal(payload):
    """The fiscal data of a done document; raises on a field that cannot be stored as is."""
    total = payload.get("total")
    if total is not None and (isinstance(total, bool) or not isinstance(total, (int, float, str))):
        raise TypeError("total is not a number")
    return oc.FiscalData(
        fn_number=_string(payload, "fn_number", 32),
        fiscal_document_number=_integer(payload, "fiscal_document_number"),
        fiscal_document_attribute=_string(payload, "fiscal_document_attribute", 32),
        shift_number=_integer(payload, "shift_number"),
        fiscal_receipt_number=_integer(payload, "fiscal_receipt_number"),
        receipt_datetime=_string(payload, "receipt_datetime", 32),
        ecr_registration_number=_string(payload, "ecr_registration_number", 32),
        total=_string(payload, "total", 32) if not isinstance(total, float) else repr(total),
        ofd_inn=_string(payload, "ofd_inn", 12),
        ofd_receipt_url=_string(payload, "ofd_receipt_url", 1024),
        fns_site=_string(payload, "fns_site", 256),
    )


def _expected_total(payload):
    """The total of a frozen request: a receipt's, a v5 correction's, or a v4 correction's payments."""
    document = _dict(payload.get("receipt")) or _dict(payload.get("correction"))
    if "total" in document:
        return Decimal(str(document["total"]))
    return sum((Decimal(str(p.get("sum", 0))) for p in document.get("payments") or ()), Decimal(0))


def _mismatch(payload, body, fiscal):
    """Why a done document is not the one ``payload`` asked for, or ""."""
    external_id = body.get("external_id")
    if external_id and external_id != payload.get("external_id"):
        return (
            f"ATOL reports document {external_id!r} under this uuid, while this receipt's external id "
            f"is {payload.get('external_id')!r}."
        )
    if not fiscal.total:
        return "ATOL reports the document done without its total: it cannot be compared with this receipt."
    registered = Decimal(fiscal.total).quantize(rd.KOPECK)
    expected = _expected_total(payload).quantize(rd.KOPECK)
    if registered != expected:
        return (
            f"ATOL holds a document of {registered} under this receipt's external id, while this "
            f"receipt is for {expected}: the id was used for other data. Check the registered "
            "document before anything else is sent."
        )
    return ""
