"""Checkonline's protocol facts (ЧЕК онлайн: RP-System/Starrys "FCE" JSON API, the ``Complex``
command): hosts, tables, error codes. The official text ST32 (shared/vendor-docs/
starrys-fce-protocol-3.2.0.txt) is the authority; summary in docs/architecture.rst, "Vendors"."""

from .. import ofd
from .. import receipt as rd

DEVICE = "auto"  # FCE picks a free device of the group (ST32 §3.3.6)

# kkt4 is the current production host; the test cash register answers on
# fce.chekonline.ru:4443.
PRODUCTION_URL = "https://kkt4.chekonline.ru"
TEST_URL = "https://fce.chekonline.ru:4443"
API_PATH = "/fr/api/v2"
COMMAND = "Complex"

DEFAULT_GROUP = "GROUP0"  # ST32 §3.3.1
# ST32 Табл.29: passwords 1..27 cashiers, 28 senior cashier, 29 administrator, 30 system
# administrator, 31 super administrator.
PASSWORDS = range(1, 32)

# ST32 Табл.12 (Complex only takes DocumentType 0..3; corrections need another command, §8.6).
DOCUMENT_TYPES = {rd.SELL: 0, rd.SELL_REFUND: 2}
# Tag 1054 "признак расчета" of each DocumentType, for the QR string (ST32 §5.26.3).
OPERATION_SIGNS = {0: 1, 1: 3, 2: 2, 3: 4}

# ST32 Табл.11 "Режим налогообложения": one bit per system.
TAX_MODES = {
    "osn": 1,
    "usn_income": 2,
    "usn_income_outcome": 4,
    "envd": 8,
    "esn": 16,
    "patent": 32,
}

# TaxId per VAT code. 1..6: ST32 Табл.33 (18 % relabelled 20 % in 2019 under the same codes,
# official SDK chekonline-sdk-php TaxId.php). 7..10: Platron/starrys Taxes.php (2024-12-20).
# 11/12 for 22 % and 22/122 are an INFERENCE (FFD tag 1199 values 11/12): no source states
# them; confirm with Checkonline and override through ``CheckonlineConfig.tax_ids``.
DEFAULT_TAX_IDS = {
    "vat20": 1,
    "vat10": 2,
    "vat0": 3,
    "none": 4,
    "vat120": 5,
    "vat110": 6,
    "vat5": 7,
    "vat7": 8,
    "vat105": 9,
    "vat107": 10,
    "vat22": 11,
    "vat122": 12,
}

# Tag 1214, ST32 Табл.9 (official SDK PayAttribute.php). 7 must be the only line.
PAY_ATTRIBUTES = {
    "full_prepayment": 1,
    "prepayment": 2,
    "advance": 3,
    "full_payment": 4,
    "partial_payment": 5,
    "credit": 6,
    "credit_payment": 7,
}
CREDIT_PAYMENT = 7

# Tag 1212 (official SDK Line.php): the FFD values, rd.FFD12_PAYMENT_OBJECTS.

# Payment types of the neutral receipt -> Complex money fields (ST32 §2.4).
PAYMENT_FIELDS = {
    rd.PAYMENT_CASH: "Cash",
    rd.PAYMENT_ELECTRONIC: "NonCash",
    rd.PAYMENT_ADVANCE: "AdvancePayment",
    rd.PAYMENT_CREDIT: "Credit",
    rd.PAYMENT_OTHER: "Consideration",
}

# The database keeps 32-bit integers; a fiscal number above is not a number this client trusts.
INTEGER_MAX = 2**31 - 1
MAX_DESCRIPTION = 128  # FFD tag 1030 (the binary protocol would take 200 bytes)
MAX_CONTACT = 64  # tag 1008
MAX_PLACE = 256  # tag 1187

# Device errors (ST32 Табл.25) the FCE server caches (§3.5): the same RequestId gets the same
# answer for at least 31 days, so a new RequestId is needed once the cause is fixed.
CACHED_DEVICE_ERRORS = {51, 52, 55, 69, 73, 77, 94, 142, 208, 241, 242, 243, 244, 245, 246}
VALIDATION_DEVICE_ERRORS = {51, 52, 69, 77, 142, 208}  # the receipt data; others: protocol use
AUTH_DEVICE_ERRORS = {79, 239}  # wrong password; device lease expired
CONFIG_DEVICE_ERRORS = {238}  # group of the FCE server does not match the device's
DEVICE_ERROR_TEXTS = {
    17: "Нет транспортного соединения с ОФД",
    22: "Продолжительность смены более 24 часов",
    51: "Параметр команды содержит неверные данные",
    52: "Отсутствуют данные для команды",
    55: "Команда не реализована",
    57: "Внутренняя ошибка устройства",
    61: "Смена не открыта",
    69: "Сумма всех оплат меньше итога чека",
    73: "Неверный тип документа для данной команды",
    77: "Сумма электронных видов оплаты больше итога чека",
    79: "Неверный пароль для данной команды",
    94: "Неверная команда",
    142: "Нулевой итог чека",
    208: "Документ не содержит товарных позиций",
    238: "Группа сервера FCE не соответствует группе устройства",
    239: "Истёк срок аренды устройства",
    240: "Ошибка при выполнении комплексной команды",
    255: "Фатальная ошибка устройства",
}

# FCE server errors (ST32 Табл.4, §3.6), HTTP 500 with FCEError/ErrorDescription/Fatal.
FCE_RETRYABLE = {5, 18, 24}  # used when an answer lacks "Fatal"
FCE_UNDEFINED_STATE = {6, 16}  # the device may have executed the request (§3.6.4, §3.6.5)
FCE_IN_PROGRESS = 24  # the same RequestId is being processed right now (§3.6.9)
FCE_BAD_REQUEST = 2  # JSON or field types (§3.6.2)

# OFD receipt links: Checkonline returns no link, only the QR string (vendors/ofd.py).
OFD_URL_TEMPLATES = ofd.OFD_URL_TEMPLATES
