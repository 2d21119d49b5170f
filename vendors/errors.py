"""Error taxonomy of the vendor layer.

Outcomes the vendor answered are data (see ``outcome.Outcome``); exceptions are kept
for transport problems, where the caller must know whether the request may have been
processed (``uncertain``): an uncertain failure is resolved by asking the vendor again
with the same idempotency key, never by sending under a new one.
"""


class VendorError(Exception):
    """Base class: a message safe to show (never contains a secret)."""


class TransientError(VendorError):
    """Network trouble, HTTP 5xx, 429, unreadable answer: try again later.

    ``uncertain`` is True when the request left this machine and its fate is unknown;
    ``unknown_document`` when the service said it knows no document of that reference (a status
    request asked too early, or about a document the service lost: reconciliation tells).
    """

    def __init__(self, message, *, uncertain=False, http_status=None, unknown_document=False):
        super().__init__(message)
        self.uncertain = uncertain
        self.http_status = http_status
        self.unknown_document = unknown_document


class CertificateError(TransientError):
    """The TLS handshake failed on a certificate: the request was never processed.

    A transport error (the same request later), but one that needs an administrator: the client
    certificate is missing, expired or not the service's, or the server's was not trusted.
    """


class UnreadableAnswer(TransientError):
    """The vendor answered something this client cannot read (wrong JSON, types or values).

    Nothing is concluded from it: a registration is ``uncertain`` (asked again with the same
    id), a status request is asked again later; the receipt is flagged meanwhile.
    """


# Errors that reading an unexpected answer may raise: turned into ``UnreadableAnswer``.
PARSE_ERRORS = (
    TypeError,
    ValueError,
    AttributeError,
    KeyError,
    IndexError,
    ArithmeticError,  # OverflowError, decimal.InvalidOperation
    RecursionError,
)
