"""What a vendor answered, made safe to keep and to show.

PostgreSQL refuses NUL characters and lone surrogates in text and jsonb, and JSON refuses
non-finite numbers; an answer may hold any of them (docs/architecture.rst, "Exactly once"). Plain Python, no Odoo.
"""

import math

TEXT_MAX = 10_000
ITEMS_MAX = 1_000
DEPTH_MAX = 32
# Beyond this an integer is kept as text: Python refuses to print integers of over 4,300 digits.
INT_MAX = 10**18


def text(value, limit=TEXT_MAX):
    """``value`` as text PostgreSQL accepts, at most ``limit`` characters."""
    if value is None:
        return ""
    if not isinstance(value, str):
        value = _repr(value)
    value = value[:limit].replace("\x00", "\ufffd")
    return value.encode("utf-8", "replace").decode("utf-8")


def storable(value, depth=0):
    """A JSON value that PostgreSQL's jsonb accepts, whatever ``value`` holds."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str):
        return text(value)
    if isinstance(value, int):
        return value if -INT_MAX < value < INT_MAX else text(value, 64)
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if depth >= DEPTH_MAX:
        return text(value, 200)
    if isinstance(value, dict):
        items = list(value.items())[:ITEMS_MAX]
        return {text(key, 200): storable(item, depth + 1) for key, item in items}
    if isinstance(value, (list, tuple)):
        return [storable(item, depth + 1) for item in list(value)[:ITEMS_MAX]]
    return text(value)


def _repr(value):
    try:
        return str(value)
    except ValueError:  # an integer too long to print
        return f"<{type(value).__name__}>"
