"""Checkonline (ЧЕК онлайн, RP-System/Starrys FCE): see client.py."""

from ..errors import CertificateError as CheckonlineCertificateError
from .certificates import certificate_files
from .client import CheckonlineClient
from .config import CheckonlineConfig
from .payload import CheckonlineDataError
from .protocol import DEFAULT_TAX_IDS, OFD_URL_TEMPLATES, PRODUCTION_URL, TEST_URL
from .text import printable, unprintable

__all__ = [
    "DEFAULT_TAX_IDS",
    "OFD_URL_TEMPLATES",
    "PRODUCTION_URL",
    "TEST_URL",
    "CheckonlineCertificateError",
    "CheckonlineClient",
    "CheckonlineConfig",
    "CheckonlineDataError",
    "certificate_files",
    "printable",
    "unprintable",
]
