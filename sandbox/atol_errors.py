"""ATOL error catalogue (v4 doc 5.15 §8, v5 doc 3.5 §7) and the error body shape.

Service errors: code -> (HTTP status, text, document status or None).
Device errors used when a document is made to fail: code -> (type, text).
"""

from .util import atol_timestamp, seeded_uuid

SERVICE_ERRORS = {
    0: (400, "Неизвестная ошибка обработки", None),
    1: (400, "Сервер не смог обработать входной чек", None),
    10: (401, "Не распознан токен запроса", None),
    11: (401, "Переданный токен не активен", None),
    12: (401, "Неверный логин или пароль", None),
    13: (400, "Ошибка валидации входящего запроса. Ошибочные поля : {0}", None),
    14: (403, "Пользователь заблокирован", None),
    20: (401, "Код группы, указанный в запросе, не соответствует токену", None),
    21: (401, "Код группы не поддерживает данную версию протокола", None),
    30: (400, 'Передан некорректный UUID : "{0}". Необходимо повторить запрос с корректными данными', "fail"),
    31: (400, 'Операция "{0}" не поддерживается', None),
    32: (400, "Ошибка валидации входного чека. Ошибочные поля : {0}", "fail"),
    33: (400, 'В системе существует чек с external_id : "{0}" и group_code: "{1}"', "wait"),
    34: (200, "Состояние чека не найдено. Попробуйте позднее", "wait"),
    40: (400, "Некорректный запрос", None),
    41: (415, "Некорректный Content-Type: {0}", None),
    50: (500, "Ошибка сервера. Обратитесь к Администратору", None),
}

# Faults of the cash register itself (Табл.7, "Произошел сбой кассы"), drawn for fail_share.
DEVICE_FAILURES = {
    2: ("driver", "Нет связи"),
    68: ("driver", "Смена превысила 24 часа"),
    104: ("driver", "Ошибка обмена с фискальным модулем"),
    135: ("driver", "Нет транспортного соединения ФН"),
    241: ("driver", "Соединение с ККТ потеряно"),
    262: ("driver", "Таймаут выполнения команды истек"),
}
# Other documented report-level failures the sandbox can be told to produce.
OTHER_FAILURES = {
    1: ("timeout", "Превышено время ожидания чека в очереди"),
    16: ("driver", "Неверная цена (сумма)"),
    66: ("driver", "Чек оплачен не полностью"),
    144: ("driver", "Недопустимый номер ставки налога"),
    2003: ("agent", "ИНН, указанный в чеке не соответствует ИНН компании."),
    2004: ("agent", "Внутренняя ошибка сервиса."),
    2009: ("agent", "ИНН в запросе не совпадает с ИНН на кассе"),
}
INN_MISMATCH = 2003


def failure(code):
    """(type, text) of a report-level failure code; unknown codes read as driver errors."""
    if code in DEVICE_FAILURES:
        return DEVICE_FAILURES[code]
    if code in OTHER_FAILURES:
        return OTHER_FAILURES[code]
    return ("driver", f"Ошибка ККТ {code}")


def error_object(rng, code, text, error_type="system"):
    return {"error_id": seeded_uuid(rng), "code": code, "text": text, "type": error_type}


def service_error(rng, code, *args, text=None, **extra):
    """(HTTP status, body) of a documented service error."""
    http_status, template, status = SERVICE_ERRORS[code]
    body = {
        "error": error_object(rng, code, text or template.format(*args)),
        "timestamp": atol_timestamp(),
    }
    if status:
        body["status"] = status
    body.update(extra)
    return http_status, body
