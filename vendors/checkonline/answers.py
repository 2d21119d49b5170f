"""Checkonline's answers read as outcomes (ST32 §2.4, §3.5-3.6): fiscal data, device errors
(some cached for the RequestId), FCE server errors (some fatal, some an undefined state)."""

from datetime import datetime
from decimal import Decimal

from .. import ofd
from .. import outcome as oc
from ..errors import TransientError
from .payload import _half_up, _rub
from .protocol import (
    AUTH_DEVICE_ERRORS,
    CACHED_DEVICE_ERRORS,
    CONFIG_DEVICE_ERRORS,
    DEVICE_ERROR_TEXTS,
    FCE_BAD_REQUEST,
    FCE_IN_PROGRESS,
    FCE_RETRYABLE,
    FCE_UNDEFINED_STATE,
    INTEGER_MAX,
    OPERATION_SIGNS,
    VALIDATION_DEVICE_ERRORS,
)


class Answers:
    """Reading an answer to ``Complex`` (the methods need the client's configuration)."""

    def _registration(self, response, body, payload, request_id):
        status = response.status_code
        if isinstance(body, dict) and "FCEError" in body:
            return self._fce_failure(status, body, request_id, response)
        if status == 429:
            raise TransientError(
                "Checkonline: too many requests (HTTP 429)", uncertain=False, http_status=status
            )
        if status >= 500:
            # A proxy page or a broken FCE answer: whatever happened behind it is unknown.
            raise TransientError(
                f"Checkonline answered HTTP {status} without a usable body",
                uncertain=True,
                http_status=status,
            )
        if status >= 400:
            # Refused before the command ran (certificate not allowed at HTTP level, wrong URL).
            return oc.Outcome(
                oc.FAILED,
                vendor_id=request_id,
                error_code=f"HTTP-{status}",
                error_text=_text(body) or f"HTTP {status}: {response.text[:200]}",
                kind=oc.KIND_AUTH if status in (401, 403) else oc.KIND_CONFIG,
                http_status=status,
                raw=body if isinstance(body, dict) else {"text": response.text[:500]},
            )
        if not isinstance(body, dict):
            raise TransientError("Checkonline answer unreadable", uncertain=True, http_status=status)
        result = body.get("Response") or body.get("Reponse")  # 3.2.0 examples misspell it
        if (
            not isinstance(result, dict)
            or not isinstance(result.get("Error"), int)
            or isinstance(result.get("Error"), bool)
        ):
            raise TransientError(
                "Checkonline answered without a Response.Error", uncertain=True, http_status=status
            )
        if result["Error"]:
            return self._device_failure(status, body, result, request_id, _from_cache(response))
        return self._done(status, body, payload, request_id)

    def _done(self, status, body, payload, request_id):
        fiscal = self._fiscal(body, payload)
        if not (fiscal.fiscal_document_number and fiscal.fiscal_document_attribute):
            raise ValueError("the answer has no fiscal document number or fiscal sign")
        expected = sum(
            _half_up(_int(line.get("Price")) * _int(line.get("Qty")), 1000)
            for line in payload.get("Lines") or ()
        )
        grand_total = _int(_lookup(_sources(body), "GrandTotal"))
        if grand_total and grand_total != expected:
            # The cache answered for another receipt under this RequestId: never take its data.
            return oc.Outcome(
                oc.ATTENTION,
                vendor_id=request_id,
                fiscal=fiscal,
                error_code="total_mismatch",
                error_text=(
                    f"Checkonline holds a receipt of {_rub(grand_total)} under RequestId {request_id}, "
                    f"this request is for {_rub(expected)}: the id was reused for other data. Check "
                    "the registered receipt before sending this one under a new id."
                ),
                http_status=status,
                raw=body,
            )
        return oc.Outcome(oc.DONE, vendor_id=request_id, fiscal=fiscal, http_status=status, raw=body)

    def _device_failure(self, status, body, result, request_id, from_cache):
        code = result["Error"]
        text = _device_text(code, result.get("ErrorMessages"))
        cached = code in CACHED_DEVICE_ERRORS or from_cache
        if code in AUTH_DEVICE_ERRORS:
            kind = oc.KIND_AUTH
        elif code in CONFIG_DEVICE_ERRORS:
            kind = oc.KIND_CONFIG
        elif code in VALIDATION_DEVICE_ERRORS:
            kind = oc.KIND_VALIDATION
        elif cached:
            kind = oc.KIND_CONFIG  # 55, 73, 94, 241-246: the protocol was misused
        else:
            # Not cached (no OFD connection, shift over 24 h, device busy or broken...):
            # nothing was registered; the same RequestId may be sent again later.
            raise TransientError(
                f"Checkonline device error {code}: {text}", uncertain=False, http_status=status
            )
        if cached:
            text += " (this answer is cached for the RequestId: send the corrected receipt under a new id)"
        return oc.Outcome(
            oc.FAILED,
            vendor_id=request_id,
            error_code=str(code),
            error_text=text,
            kind=kind,
            new_id_needed=cached,
            http_status=status,
            raw=body,
        )

    def _fce_failure(self, status, body, request_id, response):
        code = _int(body.get("FCEError"))
        text = _plain(body.get("ErrorDescription")) or f"FCE error {code}"
        fatal = body.get("Fatal")
        if not isinstance(fatal, bool):
            fatal = code not in FCE_RETRYABLE
        if not fatal and not _from_cache(response):
            # No device free, device busy, or the same request still being processed (24).
            raise TransientError(
                f"Checkonline FCE error {code}: {text}",
                uncertain=code in FCE_UNDEFINED_STATE or code == FCE_IN_PROGRESS,
                http_status=status,
            )
        if code in FCE_UNDEFINED_STATE:
            # The device may have printed the receipt (ST32 §3.6.4): only a person who checked the
            # Checkonline or OFD account may send it again, under a new id.
            status_kind = (oc.ATTENTION, "")
        elif code == FCE_BAD_REQUEST:
            status_kind = (oc.FAILED, oc.KIND_VALIDATION)
        else:
            # No Device/RequestId, unknown device, cache or queue failure...
            status_kind = (oc.FAILED, oc.KIND_CONFIG)
        return oc.Outcome(
            status_kind[0],
            vendor_id=request_id,
            error_code=f"FCE-{code}",
            error_text=text,
            kind=status_kind[1],
            http_status=status,
            raw=body,
        )

    def _fiscal(self, body, payload):
        sources = _sources(body)
        tags = _tags(body)
        fn_number = _plain(_lookup(sources, "FNSerialNumber") or tags.get(1041)).strip()
        document_number = _int(_lookup(sources, "FiscalDocNumber") or tags.get(1040))
        sign = _int(_lookup(sources, "FiscalSign"))
        moment = _moment(_lookup(sources, "Date"))
        total = _int(_lookup(sources, "GrandTotal") or tags.get(1020))
        document_type = _int(_lookup(sources, "DocumentType") or payload.get("DocumentType"))
        registration = _plain(_lookup(sources, "DeviceRegistrationNumber") or tags.get(1037)).strip()
        qr = _plain(_lookup(sources, "QR"))
        values = ofd.check_values(
            fn=fn_number,
            fd=document_number,
            fp=sign,
            registered=moment.strftime("%d.%m.%Y %H:%M:%S") if moment else "",
            total=Decimal(total) / 100 if total else None,
            sign=OPERATION_SIGNS.get(document_type, 1),
            rn=registration,
        )
        if values and qr:
            values["qr"] = qr  # the device's own string wins over the one rebuilt here
        url = ofd.receipt_link(self.config.ofd_url_template, values)
        return oc.FiscalData(
            fn_number=fn_number,
            fiscal_document_number=_stored(document_number, "FiscalDocNumber"),
            fiscal_document_attribute=str(sign or ""),
            shift_number=_stored(_int(_lookup(sources, "TurnNumber") or tags.get(1038)), "TurnNumber"),
            fiscal_receipt_number=_stored(_int(_lookup(sources, "DocNumber") or tags.get(1042)), "DocNumber"),
            receipt_datetime=moment.strftime("%d.%m.%Y %H:%M:%S") if moment else "",
            ecr_registration_number=registration,
            total=_rub(total) if total else "",
            ofd_receipt_url=url,
        )


def _plain(value):
    """A text field of an answer, or "" when it is not text."""
    return str(value)[:1000] if isinstance(value, (str, int)) and not isinstance(value, bool) else ""


def _from_cache(response):
    headers = response.headers
    return any((headers.get(name) or "").lower() == "true" for name in ("X-From-FCE-Cache", "X-From-Cache"))


def _summary(status, body):
    """(error code, error type, message) of an answer, for the attempt log."""
    if not isinstance(body, dict):
        return "", ("http" if status >= 400 else ""), ""
    if "FCEError" in body:
        return f"FCE-{body.get('FCEError')}", "fce", str(body.get("ErrorDescription") or "")
    result = body.get("Response") or body.get("Reponse")
    code = result.get("Error") if isinstance(result, dict) else None
    if isinstance(code, int) and not isinstance(code, bool) and code:
        return str(code), "device", _device_text(code, result.get("ErrorMessages"))
    return "", ("http" if status >= 400 else ""), ""


def _device_text(code, messages):
    if not isinstance(messages, list):
        messages = []
    details = "; ".join(_plain(message) for message in messages if message and message != "ERR_NO_ERROR")
    known = DEVICE_ERROR_TEXTS.get(code, f"device error {code}")
    return f"{known}: {details}" if details else known


def _text(body):
    if isinstance(body, dict):
        return _plain(body.get("error") or body.get("message") or body.get("ErrorDescription") or "")
    return ""


def _sources(body):
    """Where fiscal fields may be: top level, ``Response``, and the CloseDocument answer."""
    sources = [body]
    result = body.get("Response") or body.get("Reponse")
    if isinstance(result, dict):
        sources.append(result)
    responses = body.get("Responses")
    for item in responses if isinstance(responses, list) else ():
        if isinstance(item, dict) and str(item.get("Path", "")).endswith("/CloseDocument"):
            if isinstance(item.get("Response"), dict):
                sources.append(item["Response"])
    return sources


def _lookup(sources, name):
    for source in sources:
        value = source.get(name)
        if value not in (None, "", 0):
            return value
    return None


def _tags(body):
    """TLV tags of the fiscal document in a full response (ST32 §2.2): {TagID: Value}."""
    tags = {}
    for source in _sources(body):
        document = source.get("FiscalDocument")
        values = document.get("Value") if isinstance(document, dict) else None
        for tag in values if isinstance(values, list) else ():
            if isinstance(tag, dict) and isinstance(tag.get("TagID"), int):
                tags.setdefault(tag["TagID"], tag.get("Value"))
    return tags


def _int(value):
    """A non-negative integer, or 0."""
    if isinstance(value, bool):
        return 0
    try:
        number = int(value or 0)
    except (TypeError, ValueError, OverflowError):
        return 0
    return max(number, 0)


def _stored(number, name):
    """``number`` if the database can keep it as an integer; an unreadable answer otherwise."""
    if number > INTEGER_MAX:
        raise ValueError(f"{name} {number} is out of range")
    return number


def _moment(value):
    """ST32 §2.1.4 {"Date": {Day, Month, Year (2 digits)}, "Time": {...}} -> datetime or None."""
    if not isinstance(value, dict):
        return None
    date, clock = value.get("Date") or {}, value.get("Time") or {}
    try:
        year = int(date.get("Year") or 0)
        return datetime(
            year + 2000 if year < 100 else year,
            int(date.get("Month") or 0),
            int(date.get("Day") or 0),
            int(clock.get("Hour") or 0),
            int(clock.get("Minute") or 0),
            int(clock.get("Second") or 0),
        )
    except (TypeError, ValueError, OverflowError):
        return None
