"""Checkonline (RP-System FCE JSON API) ``POST /fr/api/v2/Complex``.

Synchronous: a valid request registers the receipt and answers with its fiscal data.
The FCE server cache is keyed by (Group, RequestId, ClientId) and keeps only the outcomes
§3.5 lists: success and the deterministic device errors 51, 52, 55, 69, 73, 77, 94, 142,
208, 241-246 (plus FCE error 6, §3.6.4). A cached answer carries ``X-From-FCE-Cache``.
Errors of the FCE server itself are HTTP 500 with FCEError/ErrorDescription/Device/Fatal.
"""

import time
from decimal import Decimal

from . import checkonline_validation as rules
from .exchange import json_response
from .ledger import Document, fingerprint
from .util import atol_timestamp, loads, now_msk, seeded_uuid

PATH = "/fr/api/v2/Complex"
DEFAULT_GROUP = "GROUP0"
CACHED_DEVICE_ERRORS = {0, 51, 52, 55, 69, 73, 77, 94, 142, 208, 241, 242, 243, 244, 245, 246}
CACHED_FCE_ERRORS = {6}

FCE_ERRORS = {
    1: "Ошибка чтения запроса",
    2: "Ошибка распознавания JSON",
    3: "Отсутствует поле Device",
    5: "Нет подходящих устройств (согласной выбранной стратегии)",
    6: "Ошибка отправки запроса устройству",
    7: 'Значение поля Device "auto" допустимо только в пакетных командах',
    10: "Неправильное имя (заводской номер) устройства",
    17: "Отсутствует поле RequestId",
    18: "Устройство занято",
    19: "Ошибка кэша сервера",
    20: "Ошибка очереди асинхронных запросов",
    24: "Запрос в процессе обработки",
}
# Whether repeating the same request can succeed (Fatal=false) or never will (Fatal=true).
FCE_FATAL = {
    1: True,
    2: True,
    3: True,
    5: False,
    6: True,
    7: True,
    10: True,
    17: True,
    18: False,
    19: True,
    20: True,
    24: False,
}

DEVICE_ERRORS = {
    17: "Нет транспортного соединения с ОФД",
    22: "Продолжительность смены долее 24 часов",
    51: "Параметр команды содержит неверные данные",
    52: "Отсутствуют данные для команды",
    55: "Команда не реализована",
    69: "Сумма всех оплат меньше итога чека",
    77: "Сумма электронных видов оплаты больше итога чека",
    79: "Неверный пароль для данной команды",
    142: "Нулевой итог чека",
    208: "Документ не содержит товарных позиций",
    239: "Истёк срок аренды устройства",
}
# Transient failures drawn for fail_share (none of them cached: a retry may succeed).
FAIL_POOL = (("device", 17), ("device", 22), ("fce", 5), ("fce", 18))


def _date(moment=None):
    moment = moment or now_msk()
    return {
        "Date": {"Day": moment.day, "Month": moment.month, "Year": moment.year % 100},
        "Time": {"Hour": moment.hour, "Minute": moment.minute, "Second": moment.second},
    }


ZERO_DATE = {"Date": {"Day": 0, "Month": 0, "Year": 0}, "Time": {"Hour": 0, "Minute": 0, "Second": 0}}


class CheckonlineService:
    def __init__(self, app):
        self.app = app
        self.cache = {}
        self.in_flight = set()

    def clear(self):
        self.cache.clear()
        self.in_flight.clear()

    # -- responses ----------------------------------------------------------------------

    def _fce_body(self, code, detail="", device=None, fatal=None):
        """§3.6: the FCE server's own error (sent with HTTP 500)."""
        description = FCE_ERRORS.get(code, "Ошибка сервера FCE")
        with self.app.lock:
            log_id = seeded_uuid(self.app.rng_errors).replace("-", "")
        return {
            "FCEError": code,
            "ErrorDescription": f"{description}: {detail}" if detail else description,
            "Fatal": FCE_FATAL.get(code, True) if fatal is None else bool(fatal),
            "Device": device or {"Name": "", "Address": ""},
            "LogRequestId": log_id,
            "Timestamp": atol_timestamp(),
        }

    def _fce_error(self, code, detail=""):
        return json_response(500, self._fce_body(code, detail), f"FCEError {code} {detail[:60]}")

    def _device(self, register):
        return {
            "Name": register.serial_number,
            "Address": f"10.1.0.{int(register.serial_number[-2:]) + 2}:4444",
        }

    def _base(self, body, register):
        return {
            "Path": PATH,
            "RequestId": body.get("RequestId"),
            "ClientId": body.get("ClientId") or "",
            "Device": self._device(register),
            "DeviceRegistrationNumber": register.registration_number,
            "DeviceSerialNumber": register.serial_number,
            "FNSerialNumber": register.fn_number,
            "DocumentType": body.get("DocumentType") or 0,
        }

    def _device_error_body(self, body, register, code, messages):
        answer = self._base(body, register)
        answer.update(
            {
                "Date": ZERO_DATE,
                "FiscalDocNumber": 0,
                "FiscalSign": 0,
                "DocNumber": 0,
                "TurnNumber": 0,
                "GrandTotal": 0,
                "Change": 0,
                "QR": "",
                "Response": {"Error": code, "ErrorMessages": messages},
            }
        )
        return answer

    # -- handler ------------------------------------------------------------------------

    def complex(self, request):
        app = self.app
        if request.method == "GET":
            # §2.1.7: GET describes the command's fields.
            fields = [
                {"Name": name, "Kind": kind, "Direction": "in"} for name, kind in rules.REQUEST_FIELDS.items()
            ]
            return json_response(200, fields, "field description")
        if not request.body:
            return self._fce_error(2, "пустое тело запроса")
        try:
            body = loads(request.body)
        except (ValueError, UnicodeDecodeError) as exc:
            return self._fce_error(2, str(exc)[:120])
        if not isinstance(body, dict):
            return self._fce_error(2, "json: cannot unmarshal into Go value of type Complex")
        errors = rules.type_errors(body)
        if errors:
            return self._fce_error(2, errors[0])
        if not body.get("Device"):
            return self._fce_error(3)
        if not body.get("RequestId"):
            return self._fce_error(17)
        group = body.get("Group") or DEFAULT_GROUP
        if group not in app.checkonline_groups:
            return self._fce_error(5, f"группа {group} не найдена")
        with app.lock:
            register = app.registers.get("checkonline", group)
        if body["Device"] != "auto" and body["Device"] != register.serial_number:
            return self._fce_error(10, body["Device"])

        key = ("checkonline", group, body.get("ClientId") or "", body["RequestId"])
        with app.lock:
            app.records.submitted(key)
            cached = self.cache.get(key)
            if cached is not None:
                status, payload, outcome = cached
                return json_response(status, payload, f"cached: {outcome}", {"X-From-FCE-Cache": "true"})
            if key in self.in_flight:
                return self._fce_error(24, body["RequestId"])
            self.in_flight.add(key)
        try:
            status, payload, outcome, cacheable = self._execute(request, body, group, register)
        finally:
            with app.lock:
                self.in_flight.discard(key)
        failed = status != 200 or payload["Response"]["Error"] != 0
        if failed and body.get("NotCacheErrors"):
            cacheable = False  # §3.3.10
        if body.get("ResendToSameDevice"):
            cacheable = True  # §3.3.11: every answer is kept
        if cacheable:
            with app.lock:
                self.cache[key] = (status, payload, outcome)
        return json_response(status, payload, outcome)

    def _execute(self, request, body, group, register):
        """Run the receipt on the device: (HTTP status, body, log outcome, cacheable)."""
        app = self.app
        delay = app.settings["checkonline_delay"]
        if delay:
            time.sleep(delay)  # the device is busy printing: a window for FCE error 24
        try:
            totals = rules.check(body, app.checkonline_tax_ids, app.checkonline_tax_modes)
        except rules.DeviceError as exc:
            messages = [
                f"Command *protocol.{exc.command} error: {DEVICE_ERRORS.get(exc.code, exc.code)}",
                exc.detail,
            ]
            payload = self._device_error_body(body, register, exc.code, messages)
            return (
                200,
                payload,
                f"device error {exc.code}: {exc.detail[:60]}",
                exc.code in CACHED_DEVICE_ERRORS,
            )

        failure = self._planned_failure(request)
        if failure:
            kind, code, fatal = failure
            if kind == "fce":
                payload = self._fce_body(code, device=self._device(register), fatal=fatal)
                return 500, payload, f"FCEError {code}", code in CACHED_FCE_ERRORS
            messages = [f"Command *protocol.CloseDocument error: {DEVICE_ERRORS.get(code, code)}"]
            payload = self._device_error_body(body, register, code, messages)
            return 200, payload, f"device error {code}", code in CACHED_DEVICE_ERRORS

        document_type = body.get("DocumentType") or 0
        operation = rules.DOCUMENT_TYPES[document_type]
        total = Decimal(totals["total"]) / 100
        content = {
            "lines": body["Lines"],
            "payments": {
                name: body.get(name)
                for name in ("Cash", "NonCash", "AdvancePayment", "Credit", "Consideration")
            },
            "contact": body.get("PhoneOrEmail"),
        }
        with app.lock:
            fiscal = register.issue(operation, total)
            document = Document(
                vendor="checkonline",
                version="fce",
                group=group,
                operation=operation,
                ext_id=body["RequestId"],
                client_id=body.get("ClientId") or "",
                uuid=seeded_uuid(app.rng_ids),
                total=total,
                fingerprint=fingerprint("checkonline", group, operation, content),
                request=body,
                timestamp=atol_timestamp(),
                registered_at=time.monotonic(),
                due_at=time.monotonic(),
                status="done",
                fiscal=fiscal,
            )
            app.records.add(document)
        payload = self._base(body, register)
        payload.update(
            {
                "Date": _date(fiscal.moment),
                "FiscalDocNumber": fiscal.document_number,
                "FiscalSign": fiscal.sign,
                "DocNumber": fiscal.receipt_number,
                "TurnNumber": fiscal.shift_number,
                "GrandTotal": totals["total"],
                "Change": totals["change"],
                "QR": fiscal.qr(),
                "Response": {"Error": 0, "ErrorMessages": ["ERR_NO_ERROR"]},
            }
        )
        if body.get("FullResponse"):
            payload["Text"] = _receipt_text(body, fiscal, totals)
            payload["Responses"] = _full_responses(body, fiscal, totals, payload["Text"])
        return 200, payload, f"done FD={fiscal.document_number} total={total} req={body['RequestId']}", True

    def _planned_failure(self, request):
        """("device"|"fce", code, fatal) when this request must fail, else None."""
        app = self.app
        forced = request.faults.get("fiscal_fail") if request.faults else None
        with app.lock:
            draw = app.rng_outcomes.random() if app.settings["fail_share"] > 0 else 1.0
            if forced:
                if forced.get("fce"):
                    return "fce", int(forced["fce"]), forced.get("fatal")
                return "device", int(forced.get("code") or 17), None
            if draw < app.settings["fail_share"]:
                kind, code = app.rng_outcomes.choice(FAIL_POOL)
                return kind, code, None
        return None


def _receipt_text(body, fiscal, totals):
    lines = [
        f"КАССОВЫЙ ЧЕК\t{fiscal.moment.strftime('%d-%m-%y %H:%M')}",
        f"СМЕНА: {fiscal.shift_number}\tЧЕК: {fiscal.receipt_number}",
    ]
    for line in body["Lines"]:
        amount = rules.line_total(line)
        lines.append(
            f"{line.get('Description')}\t{line.get('Qty', 0) / 1000:g} x {line.get('Price', 0) / 100:.2f} ~{amount / 100:.2f}"
        )
    lines.append(f"##BIG##ИТОГ\t~{totals['total'] / 100:.2f}")
    lines.append(f"ФН: {fiscal.fn_number}\tФД: {fiscal.document_number}\tФП: {fiscal.sign}")
    return "\n".join(lines)


def _full_responses(body, fiscal, totals, text):
    ok = {"Error": 0, "ErrorMessages": ["ERR_NO_ERROR"]}
    responses = [{"Path": "/fr/api/v2/AddLineToDocument", "Response": dict(ok)} for _line in body["Lines"]]
    responses.append({"Path": "/fr/api/v2/AddPhoneOrEmailOfCustomer", "Response": dict(ok)})
    close = dict(ok)
    close.update(
        {
            "FiscalDocNumber": fiscal.document_number,
            "DocNumber": fiscal.receipt_number,
            "Change": totals["change"],
            "Date": _date(fiscal.moment),
            "GrandTotal": totals["total"],
            "FiscalSign": fiscal.sign,
            "DocumentType": body.get("DocumentType") or 0,
            "QR": fiscal.qr(),
            "Text": text,
            "FiscalDocument": {
                "TagID": 3,
                "TagType": "stlv",
                "Value": [
                    {"TagID": 1041, "TagType": "string", "Value": fiscal.fn_number},
                    {"TagID": 1037, "TagType": "string", "Value": fiscal.registration_number},
                    {"TagID": 1040, "TagType": "uint32", "Value": fiscal.document_number},
                    {"TagID": 1038, "TagType": "uint32", "Value": fiscal.shift_number},
                    {"TagID": 1042, "TagType": "uint32", "Value": fiscal.receipt_number},
                    {"TagID": 1020, "TagType": "money", "Value": totals["total"]},
                    {"TagID": 1054, "TagType": "byte", "Value": fiscal.operation_sign},
                ],
            },
        }
    )
    responses.append({"Path": "/fr/api/v2/CloseDocument", "Response": close})
    return responses


def other_command(request, service, command):
    """Commands other than Complex: FCE error 7 with Device "auto", else not implemented."""
    try:
        body = loads(request.body) if request.body else {}
    except (ValueError, UnicodeDecodeError) as exc:
        return service._fce_error(2, str(exc)[:120])
    if isinstance(body, dict) and body.get("Device") == "auto":
        return service._fce_error(7, command)
    return json_response(
        200,
        {
            "Path": f"/fr/api/v2/{command}",
            "Response": {"Error": 55, "ErrorMessages": ["sandbox: only Complex is emulated"]},
        },
        f"device error 55 {command}",
    )
