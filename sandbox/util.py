"""Small helpers shared by the sandbox modules: time, JSON with Decimal, masking."""

import json
import uuid
from datetime import datetime, timedelta, timezone
from decimal import Decimal

# Both vendors live in Moscow time; their timestamps carry no zone.
MSK = timezone(timedelta(hours=3))
TIMESTAMP_FORMAT = "%d.%m.%Y %H:%M:%S"


def now_msk():
    return datetime.now(MSK)


def atol_timestamp(moment=None):
    """ATOL's "dd.mm.yyyy HH:MM:SS" (Moscow time)."""
    return (moment or now_msk()).strftime(TIMESTAMP_FORMAT)


def _reject_constant(name):
    # NaN/Infinity are not JSON; Python accepts them by default.
    raise ValueError(f"invalid JSON constant {name}")


def loads(raw):
    """Parse JSON keeping decimals exact: multipleOf 0.01 must see 0.30000000000000004 as it is."""
    if isinstance(raw, bytes):
        raw = raw.decode("utf-8")
    return json.loads(raw, parse_float=Decimal, parse_constant=_reject_constant)


def plain(value):
    """A structure safe for ``json.dumps``: Decimal becomes int or float."""
    if isinstance(value, Decimal):
        return (
            int(value)
            if value == value.to_integral_value() and value.as_tuple().exponent >= 0
            else float(value)
        )
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    return value


def dumps(value):
    """JSON bytes (UTF-8, Cyrillic kept readable); Decimal becomes a JSON number."""
    return json.dumps(plain(value), ensure_ascii=False).encode("utf-8")


def mask(secret):
    """Show only the beginning of a secret in logs."""
    if not secret:
        return "-"
    return f"{secret[:4]}…({len(secret)})"


def seeded_uuid(rng):
    """A version-4 UUID drawn from a seeded RNG, so that runs are reproducible."""
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def canonical(value):
    """Deterministic text of a JSON-like value; numbers normalised (400.0 == 400)."""

    def norm(item):
        if isinstance(item, bool) or item is None or isinstance(item, str):
            return item
        if isinstance(item, (int, Decimal, float)):
            number = Decimal(str(item)).normalize()
            return format(number, "f")
        if isinstance(item, dict):
            return {key: norm(val) for key, val in sorted(item.items())}
        if isinstance(item, (list, tuple)):
            return [norm(val) for val in item]
        return str(item)

    return json.dumps(norm(value), ensure_ascii=False, sort_keys=True)
