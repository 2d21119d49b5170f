"""Every value of the permissive mode that may change, in one place.

The facts come from open-source implementations and public pages, not from the operator's own
specification (shared/vendor-docs/permissive-mode-facts.md): each may change with the operator's
«Методические рекомендации». The README ("Marked goods: the permissive mode") lists what is
unconfirmed. Nothing else in the module spells a host, a path, a time limit, a refusal rule or a
requisite value of the marking check.
"""

from datetime import timedelta

# -- the online check: GIS MT "True API", reached through the operator's CDN ------------------

# The CDN that lists the check hosts, by test mode (True: the operator's sandbox).
CDN_URLS = {False: "https://cdn.crpt.ru", True: "https://markirovka.sandbox.crptech.ru"}
CDN_INFO_PATH = "/api/v4/true-api/cdn/info"  # GET -> {"code": 0, "hosts": [{"host": ...}]}
HEALTH_PATH = "/api/v4/true-api/cdn/health/check"  # GET -> {"code": 0, "avgTimeMs": 5}
CODES_CHECK_PATH = "/api/v4/true-api/codes/check"  # POST {"codes": [...], "fiscalDriveNumber": ...}
API_KEY_HEADER = "X-API-KEY"
OK_CODE = 0  # "code" of a good answer (info, health, check)

# How long the host list is kept (the sources keep it 6 to 9 hours), and how long a host that
# failed is skipped.
HOST_LIST_TTL = timedelta(hours=6)
FAILED_HOST_PAUSE = timedelta(minutes=15)
# Decree 1944 §17 as the sources read it: no answer within 1.5 s, and the offline check decides.
CHECK_TIME_LIMIT = 1.5  # seconds, for one check request
INFO_TIMEOUT = 5.0  # seconds: the host list and the health checks are not the sale's check
HEALTH_TIMEOUT = 1.0
MAX_CODES_PER_REQUEST = 100
# HTTP statuses that say the key is wrong or not allowed: a setting to fix, not an outage.
ACCESS_DENIED_STATUSES = (401, 403)

# -- the offline check: the seller's local module (ЛМ ЧЗ) or ТС ПИоТ -------------------------

LOCAL_APIS = ("lm", "tspiot")
# ЛМ ЧЗ, API v2 (Basic auth): its status must be "ready" before it is asked.
LM_STATUS_PATH = "/api/v2/status"
LM_READY = "ready"
LM_CHECK_PATH = "/api/v2/cis/outCheck"  # POST {"cis_list": [{"cis": ...}]} -> {"results": [...]}
# ТС ПИоТ, local API v3: POST {"codes": [{"cis": <base64>}], "client_info": {...}}
# -> {"codesResponse": [{code, codes, reqId, reqTimestamp, isCheckedOffline, inst, version}]}
TSPIOT_CHECK_PATH = "/api/v3/codes/check"
TSPIOT_CLIENT_INFO = {"name": "Odoo l10n_ru_kkm", "version": "19.0"}
# ТС ПИоТ answers HTTP 203 in the emergency mode the operator declares: the sale is allowed and
# no requisite goes into the receipt.
EMERGENCY_STATUS = 203
LOCAL_TIMEOUT = 3.0  # seconds: the module is on the seller's network

# -- what the operator's answer forbids --------------------------------------------------------

# Whether a rule applies to an answer of each kind: a field that is REQUIRED must be in the
# answer (an answer without it is not read), an OPTIONAL one refuses only when present.
REQUIRED, OPTIONAL, IGNORED = "required", "optional", "ignored"
PAST = "past"  # a date before the moment of the check
NOT_ZERO = "not zero"

# ЦРПТ «Методические рекомендации» §4 as quoted in open-source code: refuse the sale if any row
# matches. (answer field, value that refuses, reason, online answers, offline answers). Offline
# answers (local module, ТС ПИоТ checked offline) decide on isBlocked and sold only.
REFUSAL_RULES = (
    ("errorCode", NOT_ZERO, "check_error", OPTIONAL, IGNORED),
    ("found", False, "not_found", REQUIRED, IGNORED),
    ("valid", False, "invalid", REQUIRED, IGNORED),
    ("verified", False, "not_verified", REQUIRED, IGNORED),
    ("utilised", False, "not_utilised", REQUIRED, IGNORED),
    ("realizable", False, "not_realizable", REQUIRED, IGNORED),
    ("sold", True, "sold", REQUIRED, OPTIONAL),
    ("isBlocked", True, "blocked", REQUIRED, REQUIRED),
    ("expireDate", PAST, "expired", OPTIONAL, IGNORED),
    ("grayZone", True, "gray_zone", OPTIONAL, IGNORED),
)
REASONS = tuple(dict.fromkeys(rule[2] for rule in REFUSAL_RULES))

# -- what goes into the receipt: the item's industry requisite (tag 1260) -----------------------

FEDERAL_ID = "030"  # tag 1262: the Ministry of Industry and Trade
DOCUMENT_DATE = "21.11.2023"  # tag 1263: the date of Decree 1944 (ATOL's dd.mm.yyyy)
DOCUMENT_NUMBER = "1944"  # tag 1264
ONLINE_VALUE = "UUID={req_id}&Time={req_timestamp}"  # tag 1265 after the online check
OFFLINE_VALUE = "UUID={req_id}&Time={req_timestamp}&Inst={inst}&Ver={version}"  # after an offline one
