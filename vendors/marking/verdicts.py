"""What a check says of each code: the refusal rules applied (constants.REFUSAL_RULES) and the
requisite the receipt carries for it (tag 1260)."""

from dataclasses import dataclass
from datetime import UTC, datetime

from ..errors import VendorError
from ..receipt import IndustryProp
from . import constants as k

# Where a verdict comes from.
ONLINE = "online"  # GIS MT answered
OFFLINE = "offline"  # the local module or ТС ПИоТ answered from its own base
EMERGENCY = "emergency"  # no check: the emergency mode allows the sale without the requisite


class MarkingUnavailable(VendorError):
    """No check could be made (host list, hosts, local module: unreachable, too slow, 5xx,
    unreadable answers). The company's policy decides what the sale does."""


class MarkingAccessDenied(VendorError):
    """The operator or the local module refused the credentials: an administrator must fix them."""


@dataclass(frozen=True)
class Verdict:
    """The check of one code: may it be sold, and if not, why."""

    code: str
    route: str  # ONLINE, OFFLINE or EMERGENCY
    reasons: tuple = ()  # constants.REASONS that forbid the sale; none: it may be sold
    req_id: str = ""
    req_timestamp: str = ""  # milliseconds since the epoch, as the operator gave it
    inst: str = ""  # the local module's instance and base version (offline answers)
    version: str = ""
    answer: dict = None  # the operator's entry for the code, as it came

    @property
    def allowed(self):
        return not self.reasons

    @property
    def requisite(self):
        """The item's industry requisite (tag 1260), or None when the sale goes without one."""
        if self.route == EMERGENCY or not self.allowed:
            return None
        template = k.OFFLINE_VALUE if self.route == OFFLINE else k.ONLINE_VALUE
        value = template.format(
            req_id=self.req_id, req_timestamp=self.req_timestamp, inst=self.inst, version=self.version
        )
        return IndustryProp(k.FEDERAL_ID, k.DOCUMENT_DATE, k.DOCUMENT_NUMBER, value)


def emergency(codes):
    """Verdicts of codes sold without a check, in the emergency mode."""
    return tuple(Verdict(code=code, route=EMERGENCY) for code in codes)


def judge(code, entry, route, now=None):
    """The refusal reasons of the operator's ``entry`` for ``code`` (an answer of ``route``).

    Raises ``ValueError`` when a field the rules need is missing or of the wrong type: such an
    answer is not read, never taken as an allowed sale.
    """
    if not isinstance(entry, dict):
        raise ValueError(f"the answer for a code is {type(entry).__name__}, not an object")
    column = 3 if route == ONLINE else 4
    reasons = []
    for rule in k.REFUSAL_RULES:
        field, refusing, reason, applies = rule[0], rule[1], rule[2], rule[column]
        if applies == k.IGNORED:
            continue
        if field not in entry or entry[field] is None:
            if applies == k.REQUIRED:
                raise ValueError(f"the answer for a code has no {field}")
            continue
        if _refuses(entry[field], refusing, now) and reason not in reasons:
            reasons.append(reason)
    return tuple(reasons)


def _refuses(value, refusing, now):
    if refusing == k.NOT_ZERO:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"errorCode {value!r} is not a number")
        return value != 0
    if refusing == k.PAST:
        return _moment(value) < (now or datetime.now(UTC))
    if not isinstance(value, bool):
        raise ValueError(f"{value!r} is not a boolean")
    return value is refusing


def _moment(value):
    """An ISO 8601 moment of the operator ("2026-06-02T00:00:00.000Z"), aware, in UTC."""
    if not isinstance(value, str):
        raise ValueError(f"{value!r} is not a date")
    moment = datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def request_stamp(answer):
    """(reqId, reqTimestamp) of an answer, as text; raises ``ValueError`` when either is missing."""
    req_id, stamp = answer.get("reqId"), answer.get("reqTimestamp")
    if not isinstance(req_id, str) or not req_id.strip():
        raise ValueError("the answer has no reqId")
    if isinstance(stamp, bool) or not isinstance(stamp, (int, str)) or not str(stamp).strip().isdigit():
        raise ValueError("the answer has no reqTimestamp")
    return req_id.strip(), str(stamp).strip()
