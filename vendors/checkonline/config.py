"""The configuration of one Checkonline account (certificate + device group)."""

from collections.abc import Mapping
from dataclasses import dataclass

from .. import receipt as rd
from ..ofd import TEMPLATE_KEYS
from .protocol import (
    API_PATH,
    COMMAND,
    DEFAULT_GROUP,
    DEFAULT_TAX_IDS,
    PASSWORDS,
    PRODUCTION_URL,
    TEST_URL,
)


@dataclass(frozen=True)
class CheckonlineConfig:
    test_mode: bool = True
    base_url: str = ""  # overrides the official host, e.g. the sandbox
    group: str = DEFAULT_GROUP
    client_id: str = ""  # part of the cache key; a point of sale if one certificate serves several
    password: int = 1  # command password (cashier 1)
    tax_ids: Mapping = None  # overrides of DEFAULT_TAX_IDS, e.g. {"vat22": 1}
    cert_file: str = ""  # client certificate (PEM), used unless the session has ``cert`` set
    key_file: str = ""  # its private key (PEM, unencrypted); never logged
    verify: object = None  # CA bundle path or bool; None: the session's setting
    connect_timeout: float = 10.0
    # FCE may look for a device for TryCount x 5 s and wait WaitForFree 60 s (ST32 §3.3.6-7).
    read_timeout: float = 120.0
    ofd_url_template: str = ""  # e.g. OFD_URL_TEMPLATES["ofd.ru"]; empty: no link

    def __post_init__(self):
        problems = []
        if not self.group:
            problems.append("group is required (GROUP0 by default)")
        if isinstance(self.password, bool) or self.password not in PASSWORDS:
            problems.append(f"password must be an integer 1..31, not {self.password!r}")
        for code, tax_id in dict(self.tax_ids or {}).items():
            if code not in rd.VAT_CODES or isinstance(tax_id, bool) or not isinstance(tax_id, int):
                problems.append(f"tax_ids: {code!r} -> {tax_id!r} is not a VAT code -> integer TaxId")
        if bool(self.cert_file) != bool(self.key_file):
            problems.append("cert_file and key_file go together")
        if self.ofd_url_template:
            try:
                self.ofd_url_template.format(**dict.fromkeys(TEMPLATE_KEYS, "0"))
            except (KeyError, IndexError, ValueError) as exc:
                problems.append(f"ofd_url_template: unknown placeholder {exc}; known: {TEMPLATE_KEYS}")
        if problems:
            raise ValueError("Checkonline configuration: " + "; ".join(problems))

    @property
    def root_url(self):
        return (self.base_url or (TEST_URL if self.test_mode else PRODUCTION_URL)).rstrip("/")

    @property
    def command_url(self):
        return f"{self.root_url}{API_PATH}/{COMMAND}"

    @property
    def tax_id_map(self):
        return {**DEFAULT_TAX_IDS, **dict(self.tax_ids or {})}

    @property
    def cert(self):
        return (self.cert_file, self.key_file) if self.cert_file else None
