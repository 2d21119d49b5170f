"""The request and response objects passed between the HTTP layer and the vendor handlers."""

from dataclasses import dataclass, field

from .util import dumps

JSON_TYPE = "application/json; charset=utf-8"


@dataclass
class Request:
    method: str
    path: str
    query: dict
    headers: object  # email.message.Message: case-insensitive .get()
    body: bytes
    faults: object = None  # faults.Decision for this request

    def content_type_ok(self):
        value = self.headers.get("Content-Type") or ""
        return value.split(";")[0].strip().lower() == "application/json"


@dataclass
class Response:
    status: int
    body: bytes
    outcome: str = ""  # short text for the one-line log
    content_type: str = JSON_TYPE
    headers: dict = field(default_factory=dict)


def json_response(status, value, outcome="", headers=None):
    return Response(status, dumps(value), outcome, JSON_TYPE, dict(headers or {}))
