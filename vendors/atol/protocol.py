"""ATOL Online's protocol facts: hosts, error codes, formats (protocol texts v4 5.15 and v5 3.5,
shared/vendor-docs/; summary in docs/architecture.rst, "Vendors")."""

import re
from datetime import timedelta

PRODUCTION_URL = "https://online.atol.ru/possystem"
TEST_URL = "https://testonline.atol.ru/possystem"

TIMESTAMP_FORMAT = "%d.%m.%Y %H:%M:%S"

# ATOL service error codes (protocol §8.1) by what the receipt must do next.
TOKEN_REFRESH_CODES = {10, 11}
VALIDATION_CODES = {13, 32, 31, 40, 41}
AUTH_CODES = {12, 14}
CONFIG_CODES = {20, 21}
ALREADY_EXISTS_CODE = 33
NOT_READY_CODE = 34
UNKNOWN_DOCUMENT_CODE = 30  # "MissingUuid": no document of that uuid in the group (v4 Табл.6)
VERSION_NOT_SUPPORTED_CODE = 21

# Protocol v4 §6.2: 1 to 100 items and 1 to 10 payments per receipt. v5 (3.5) sets no item
# maximum, but its clients keep 100 (docs/architecture.rst, "Vendors"); the sandbox enforces both.
MAX_ITEMS = 100
MAX_PAYMENTS = 10
VATS_MAX = 6  # VAT totals per receipt
NAME_MAX = 128  # tag 1030
# ATOL's additional receipt attribute holds at most 16 characters (tag 1192).
ADDITIONAL_PROPS_MAX = 16

# v4 nomenclature_code (tag 1162) as a raw GS1 code the service converts: GTIN and serial
# (protocol v4 table 2), i.e. a marking code up to its first separator.
V4_RAW_MARK_CODE = re.compile(r"^01\d{14}21[\x21-\x7e]{13,132}$|^\d{14}[\x21-\x7e]{15}$")

# What an answer's values must look like to be kept (the database's integers are 32-bit).
INTEGER_MAX = 2**31 - 1
IDENTIFIER_PATTERN = re.compile(r"^[\w.:-]{1,128}$")
TOKEN_PATTERN = re.compile(r"^[\x21-\x7e]{1,1024}$")

# Tokens live 24 h; renew a little early so that a token never expires mid-request.
TOKEN_LIFETIME = timedelta(hours=24)
TOKEN_MARGIN = timedelta(minutes=30)


def v4_nomenclature_code(mark_code):
    """The GTIN and serial of a marking code: the code up to its first group separator."""
    return mark_code.split("\x1d")[0]
