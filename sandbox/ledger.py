"""The ledger: every fiscal document the sandbox registered, and the duplicate counts.

A duplicate receipt is the failure the whole addon exists to prevent, so the ledger counts
two kinds: several documents under one id (impossible by design, counted anyway) and the same
receipt content registered under different ids (what a client that re-sends with a fresh id
after a lost answer produces). Failed documents are left out of the content count: re-sending
after a ``fail`` is the correct reaction, not a duplicate.
"""

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from .util import canonical, plain


@dataclass
class Document:
    vendor: str  # "atol" | "checkonline"
    version: str  # "v4" | "v5" | "fce"
    group: str
    operation: str
    ext_id: str  # ATOL external_id, Checkonline RequestId
    uuid: str
    total: Decimal
    fingerprint: str
    request: dict
    timestamp: str
    registered_at: float
    due_at: float
    client_id: str = ""
    status: str = "wait"
    callback_url: str = ""
    callback_warning: bool = False
    planned_failure: tuple = None  # (code, type, text) decided at registration
    long_wait: bool = False
    payload: dict = None
    error: dict = None
    fiscal: object = None
    callback: str = ""

    @property
    def id_key(self):
        return (self.vendor, self.group, self.client_id, self.ext_id)

    def summary(self, submitted):
        row = {
            "vendor": self.vendor,
            "version": self.version,
            "group": self.group,
            "operation": self.operation,
            "id": self.ext_id,
            "uuid": self.uuid,
            "status": self.status,
            "total": str(self.total.quantize(Decimal("0.01"))),
            "submitted": submitted,
            "registered_at": self.timestamp,
        }
        if self.vendor == "atol":
            row["external_id"] = self.ext_id
        else:
            row["request_id"] = self.ext_id
            row["client_id"] = self.client_id
        if self.fiscal is not None:
            row["fiscal"] = {
                "fn_number": self.fiscal.fn_number,
                "fiscal_document_number": self.fiscal.document_number,
                "fiscal_document_attribute": self.fiscal.sign,
                "shift_number": self.fiscal.shift_number,
                "fiscal_receipt_number": self.fiscal.receipt_number,
            }
        if self.error:
            row["error"] = {
                "code": self.error["code"],
                "type": self.error["type"],
                "text": self.error["text"],
            }
        if self.callback_url:
            row["callback"] = self.callback or ("not sent: mask" if self.callback_warning else "pending")
        return row


def fingerprint(vendor, group, operation, content):
    """What makes two registrations "the same receipt" (ids and timestamps excluded)."""
    return canonical({"vendor": vendor, "group": group, "operation": operation, "content": plain(content)})


@dataclass
class Ledger:
    documents: dict = field(default_factory=dict)  # uuid -> Document, in registration order
    by_id: dict = field(default_factory=lambda: defaultdict(list))
    submissions: Counter = field(default_factory=Counter)

    def add(self, document):
        self.documents[document.uuid] = document
        self.by_id[document.id_key].append(document.uuid)

    def find(self, key):
        """The first document registered under an id key, or None."""
        uuids = self.by_id.get(key)
        return self.documents[uuids[0]] if uuids else None

    def submitted(self, key):
        """Count one more request carrying this id."""
        self.submissions[key] += 1

    def clear(self):
        self.documents.clear()
        self.by_id.clear()
        self.submissions.clear()

    def summary(self):
        rows = [doc.summary(self.submissions[doc.id_key]) for doc in self.documents.values()]
        by_id = [
            {"vendor": key[0], "group": key[1], "client_id": key[2], "id": key[3], "documents": len(uuids)}
            for key, uuids in self.by_id.items()
            if len(uuids) > 1
        ]
        content = defaultdict(list)
        for doc in self.documents.values():
            if doc.status != "fail":
                content[doc.fingerprint].append(doc)
        by_content = [
            {
                "ids": [doc.ext_id for doc in docs],
                "uuids": [doc.uuid for doc in docs],
                "documents": len(docs),
            }
            for docs in content.values()
            if len(docs) > 1
        ]
        statuses = Counter(doc.status for doc in self.documents.values())
        return {
            "count": len(rows),
            "by_status": dict(statuses),
            "submissions": sum(self.submissions.values()),
            "documents": rows,
            "duplicates_by_id": {"count": sum(row["documents"] - 1 for row in by_id), "ids": by_id},
            "duplicates_by_content": {
                "count": sum(group["documents"] - 1 for group in by_content),
                "groups": by_content,
            },
        }
