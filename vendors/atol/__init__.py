"""ATOL Online, protocols v4 (FFD 1.05) and v5 (FFD 1.2): see client.py."""

from .client import AtolConfig, AtolV4Client, AtolV5Client, MemoryTokenStore
from .protocol import (
    PRODUCTION_URL,
    TEST_URL,
    V4_RAW_MARK_CODE,
    VERSION_NOT_SUPPORTED_CODE,
    v4_nomenclature_code,
)

__all__ = [
    "PRODUCTION_URL",
    "TEST_URL",
    "V4_RAW_MARK_CODE",
    "VERSION_NOT_SUPPORTED_CODE",
    "AtolConfig",
    "AtolV4Client",
    "AtolV5Client",
    "MemoryTokenStore",
    "v4_nomenclature_code",
]
