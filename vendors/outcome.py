"""What a vendor said about a receipt, as plain data."""

from dataclasses import dataclass, field

# Outcome statuses.
ACCEPTED = "accepted"  # registered by the vendor, fiscal data to come (ATOL "wait")
WAIT = "wait"  # report asked too early
DONE = "done"  # fiscal data available
FAILED = "failed"  # refused or failed; see kind
# The vendor holds a document under this id that may be registered but cannot be taken as this
# receipt (an undefined device state, or a document that does not match the request): a person
# must look before anything else is sent (docs/architecture.rst, "Exactly once").
ATTENTION = "attention"

# Kinds of failure, which decide what the receipt does next.
KIND_VALIDATION = "validation"  # fix the data, the same id may be sent again
KIND_AUTH = "auth"  # credentials wrong or blocked
KIND_CONFIG = "config"  # group, version or settings wrong
KIND_DEVICE = "device"  # the vendor holds a failed document under this id


@dataclass(frozen=True)
class FiscalData:
    fn_number: str = ""
    fiscal_document_number: int = 0
    fiscal_document_attribute: str = ""
    shift_number: int = 0
    fiscal_receipt_number: int = 0
    receipt_datetime: str = ""
    ecr_registration_number: str = ""
    total: str = ""
    ofd_inn: str = ""
    ofd_receipt_url: str = ""
    fns_site: str = ""


@dataclass(frozen=True)
class Outcome:
    status: str
    vendor_id: str = ""
    fiscal: FiscalData = None
    error_code: str = ""
    error_text: str = ""
    kind: str = ""
    new_id_needed: bool = False
    http_status: int = None
    raw: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Exchange:
    """One HTTP exchange, reported to the caller for its attempt log (secrets masked)."""

    action: str  # token | register | report
    url: str
    http_status: int = None
    duration_ms: int = 0
    error_code: str = ""
    error_type: str = ""
    message: str = ""
    request: dict = None
    response: dict = None
    # Whether the request reached the vendor: True (it answered), False (certainly not: refused
    # connection, connect timeout, TLS refusal), None (it may have: the answer was lost).
    reached: bool = None
