"""The Checkonline client (ЧЕК онлайн: RP-System/Starrys "FCE" JSON API), the ``Complex`` command.

Plain Python, no Odoo, behind the interface of ``vendors.base.Client``. Facts: the official
protocol text ST32 (shared/vendor-docs/starrys-fce-protocol-3.2.0.txt), which is the authority.

The service is synchronous: one POST registers the receipt and answers with its fiscal data.
There is no token; the client authenticates with a TLS client certificate (mutual TLS).

Idempotency (ST32 §3.5, §3.6.4): the FCE server caches answers by (Group, RequestId, ClientId)
for at least 31 days -- every success, the deterministic device errors 51, 52, 55, 69, 73, 77,
94, 142, 208, 241-246 and FCE error 6. Hence:

- ``RequestId`` is the receipt's ``external_id``: a re-send after a timeout, a dropped
  connection or any transient error uses the same one and gets the cached answer, never a
  second document;
- a cached error comes back for ever under its RequestId: once the data is fixed, a NEW
  RequestId is needed (``Outcome.new_id_needed``);
- errors that are not cached (device busy, no OFD connection, shift over 24 h, FCE 5/18/24...)
  are retried with the same RequestId.
"""

from .. import outcome as oc
from ..base import Client
from ..errors import PARSE_ERRORS, TransientError, UnreadableAnswer
from .answers import Answers, _from_cache, _summary
from .config import CheckonlineConfig
from .payload import CheckonlineDataError, Payload
from .protocol import DOCUMENT_TYPES, MAX_DESCRIPTION, OFD_URL_TEMPLATES
from .text import unprintable


class CheckonlineClient(Payload, Answers, Client):
    """One Checkonline account (certificate + group), the ``Complex`` command."""

    code = "checkonline"
    label = "Checkonline"
    service = "Checkonline"
    is_synchronous = True  # register() answers with the fiscal data; there is no status request
    # ST32 §2.4 sets no maximum number of Lines for Complex: one receipt.
    max_items = None
    max_name = MAX_DESCRIPTION
    needs_certificate = True

    def __init__(self, config, session=None, token_store=None, on_exchange=None):
        # FCE may look for a device for TryCount x 5 s and wait WaitForFree 60 s (ST32 §3.3.6-7):
        # the read timeout of its configuration allows for it.
        super().__init__(config, session=session, on_exchange=on_exchange)

    @classmethod
    def configure(cls, settings):
        return CheckonlineConfig(
            test_mode=settings.test_mode,
            base_url=settings.base_url,
            group=settings.device_group or "GROUP0",
            client_id=settings.client_id,
            password=settings.cashier_password or 1,
            tax_ids=settings.tax_ids,
            ofd_url_template=OFD_URL_TEMPLATES.get(settings.ofd or "", ""),
            cert_file=settings.cert_file,
            key_file=settings.key_file,
            verify=settings.verify,
        )

    unprintable = staticmethod(unprintable)

    def register(self, operation, payload, callback_url=""):
        """POST the Complex request; ``Outcome`` DONE with fiscal data, FAILED, or ATTENTION.

        Raises ``TransientError`` when the same payload (same RequestId) must be sent again
        later: ``uncertain`` tells whether the receipt may already be registered, in which
        case the re-send returns the cached answer. The cashier's password is added here, so
        that it is never kept in the frozen request; Checkonline has no callbacks.
        """
        expected = DOCUMENT_TYPES.get(operation)
        if expected is None or payload.get("DocumentType") != expected:
            raise CheckonlineDataError(
                [
                    (
                        "DocumentType",
                        f"operation {operation!r} does not match the payload",
                        payload.get("DocumentType"),
                    )
                ]
            )
        request_id = payload.get("RequestId") or ""
        payload = dict(payload, Password=self.config.password)
        response, body = self._exchange("register", "POST", self.config.command_url, payload)
        try:
            return self._registration(response, body, payload, request_id)
        except PARSE_ERRORS as exc:
            raise UnreadableAnswer(
                f"Checkonline's answer cannot be read: {exc}",
                uncertain=True,
                http_status=response.status_code,
            ) from exc

    def check_connection(self):
        """GET on the Complex command (ST32 §2.1.7: the command describes its fields).

        Registers nothing. Any Checkonline answer after the TLS handshake proves the URL and
        the client certificate: DONE (``raw`` holds the answer); an unexpected answer is
        FAILED; TLS and network problems raise ``TransientError``
        (``CheckonlineCertificateError`` for a refused certificate).
        """
        response, body = self._exchange("check", "GET", self.config.command_url, None)
        status = response.status_code
        raw = body if isinstance(body, dict) else {"fields": body}
        if (status == 200 and isinstance(body, list)) or (isinstance(body, dict) and "FCEError" in body):
            return oc.Outcome(oc.DONE, http_status=status, raw=raw)
        if status == 200 and isinstance(body, dict) and ("Response" in body or "Path" in body):
            return oc.Outcome(oc.DONE, http_status=status, raw=raw)
        if status >= 500:
            raise TransientError(f"Checkonline answered HTTP {status}", uncertain=False, http_status=status)
        return oc.Outcome(
            oc.FAILED,
            error_code=f"HTTP-{status}",
            error_text=f"HTTP {status}: not a Checkonline answer (check the service URL)",
            kind=oc.KIND_AUTH if status in (401, 403) else oc.KIND_CONFIG,
            http_status=status,
            raw=raw if body is not None else {"text": response.text[:500]},
        )

    def _exchange(self, action, method, url, payload):
        """One HTTP exchange, reported to ``on_exchange``; raises TransientError on transport trouble."""
        options = {}
        if payload is not None:
            options["headers"] = {"Content-Type": "application/json; charset=utf-8"}
        # The caller's session certificate (e.g. Odoo's CertificateAdapter) wins over the paths.
        if not getattr(self.session, "cert", None) and self.config.cert:
            options["cert"] = self.config.cert
        if self.config.verify is not None:
            options["verify"] = self.config.verify
        return self.transport.exchange(
            action, method, url, payload, logged_request=_masked(payload), shown=_shown, **options
        )


def _masked(payload):
    if payload is None:
        return None
    return {key: ("***" if key == "Password" else value) for key, value in payload.items()}


def _shown(response, body):
    """What the exchange log keeps of an answer: its error, and whether the cache gave it."""
    error_code, error_type, message = _summary(response.status_code, body)
    if _from_cache(response):
        message = f"{message} (answer from the FCE cache)".strip()
    shown = body if isinstance(body, dict) else ({"fields": body} if body is not None else None)
    return {"response": shown, "error_code": error_code, "error_type": error_type, "message": message}
