"""A small JSON-Schema (draft-06 subset) validator.

The ATOL protocol texts publish their request schemas; ``atol_schemas`` transcribes them as
Python dicts and this module checks a parsed body against them. Only the keywords those
schemas use are supported. Errors are ``(path, message)`` pairs, the path written the way
ATOL names fields (``receipt.items[0].name``).

Deliberate difference from strict draft-06: ``"items": [schema]`` (the tuple form the v5 text
uses for payments and vats) is applied to every element, as the service obviously intends.
"""

import base64
import binascii
import re
from decimal import Decimal

_PATTERN_CACHE = {}


def _regex(pattern):
    compiled = _PATTERN_CACHE.get(pattern)
    if compiled is None:
        compiled = _PATTERN_CACHE[pattern] = re.compile(pattern)
    return compiled


def _is_number(value):
    return isinstance(value, (int, Decimal)) and not isinstance(value, bool)


def _is_integer(value):
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    return isinstance(value, Decimal) and value == value.to_integral_value()


_TYPE_CHECKS = {
    "object": lambda value: isinstance(value, dict),
    "array": lambda value: isinstance(value, list),
    "string": lambda value: isinstance(value, str),
    "number": _is_number,
    "integer": _is_integer,
    "boolean": lambda value: isinstance(value, bool),
    "null": lambda value: value is None,
}


def _join(path, key):
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def _same(left, right):
    """Enum equality that does not confuse True with 1."""
    if isinstance(left, bool) or isinstance(right, bool):
        return isinstance(left, bool) and isinstance(right, bool) and left == right
    if isinstance(left, str) or isinstance(right, str):
        return left == right
    return left == right


def validate(instance, schema, path=""):
    """Return the list of ``(path, message)`` errors of ``instance`` against ``schema``."""
    errors = []
    _check(instance, schema, path, errors)
    return errors


def _check(value, schema, path, errors):
    expected = schema.get("type")
    if expected is not None:
        names = expected if isinstance(expected, list) else [expected]
        if not any(_TYPE_CHECKS[name](value) for name in names):
            errors.append((path, f"ожидается тип {'|'.join(names)}"))
            return

    if "enum" in schema and not any(_same(value, option) for option in schema["enum"]):
        errors.append((path, f"недопустимое значение {value!r}"))
    if "const" in schema and not _same(value, schema["const"]):
        errors.append((path, f"допустимо только {schema['const']!r}"))

    if isinstance(value, str):
        _check_string(value, schema, path, errors)
    elif _is_number(value):
        _check_number(value, schema, path, errors)
    elif isinstance(value, dict):
        _check_object(value, schema, path, errors)
    elif isinstance(value, list):
        _check_array(value, schema, path, errors)

    _check_combinators(value, schema, path, errors)


def _check_string(value, schema, path, errors):
    if "minLength" in schema and len(value) < schema["minLength"]:
        errors.append((path, f"длина меньше {schema['minLength']}"))
    if "maxLength" in schema and len(value) > schema["maxLength"]:
        errors.append((path, f"длина больше {schema['maxLength']}"))
    if "pattern" in schema and not _regex(schema["pattern"]).search(value):
        errors.append((path, "не соответствует маске"))
    if schema.get("format") == "base64":
        try:
            base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            errors.append((path, "не base64"))


def _check_number(value, schema, path, errors):
    number = Decimal(value)
    if "minimum" in schema:
        minimum = Decimal(str(schema["minimum"]))
        if schema.get("exclusiveMinimum") is True:
            if number <= minimum:
                errors.append((path, f"должно быть больше {minimum}"))
        elif number < minimum:
            errors.append((path, f"меньше минимума {minimum}"))
    if "maximum" in schema and number > Decimal(str(schema["maximum"])):
        errors.append((path, f"больше максимума {schema['maximum']}"))
    if "multipleOf" in schema:
        step = Decimal(str(schema["multipleOf"]))
        if number % step != 0:
            places = -step.as_tuple().exponent
            errors.append((path, f"не более {places} знаков после запятой"))


def _check_object(value, schema, path, errors):
    properties = schema.get("properties", {})
    for key in schema.get("required", ()):
        if key not in value:
            errors.append((_join(path, key), "обязательное поле отсутствует"))
    for key, item in value.items():
        if key in properties:
            _check(item, properties[key], _join(path, key), errors)
        elif schema.get("additionalProperties") is False:
            errors.append((_join(path, key), "поле не предусмотрено схемой"))
    for key, needed in schema.get("dependencies", {}).items():
        if key in value:
            for other in needed:
                if other not in value:
                    errors.append((_join(path, other), f"обязательно, если передано {key}"))


def _check_array(value, schema, path, errors):
    if "minItems" in schema and len(value) < schema["minItems"]:
        errors.append((path, f"элементов меньше {schema['minItems']}"))
    if "maxItems" in schema and len(value) > schema["maxItems"]:
        errors.append((path, f"элементов больше {schema['maxItems']}"))
    items = schema.get("items")
    if isinstance(items, list):
        items = items[0] if items else None
    if items:
        for index, item in enumerate(value):
            _check(item, items, _join(path, index), errors)


def _check_combinators(value, schema, path, errors):
    message = schema.get("x-message")
    if "anyOf" in schema and all(validate(value, option, path) for option in schema["anyOf"]):
        errors.append((path, message or "не подходит ни один из вариантов (anyOf)"))
    if "oneOf" in schema:
        matches = sum(1 for option in schema["oneOf"] if not validate(value, option, path))
        if matches != 1:
            errors.append((path, message or f"должен подойти ровно один вариант (oneOf), подошло {matches}"))
    for option in schema.get("allOf", ()):
        _check(value, option, path, errors)
    if "if" in schema and not validate(value, schema["if"], path):
        if "then" in schema:
            _check(value, schema["then"], path, errors)
    elif "if" in schema and "else" in schema:
        _check(value, schema["else"], path, errors)
