"""One HTTP exchange with a cash register service, for every client (design: docs/architecture.rst,
"Exactly once"): what a transport failure means for the request is decided here, once.

A request that certainly never reached the service (connection refused, connect timeout, a TLS
handshake refused) raises ``TransientError(uncertain=False)``; one that may have reached it
raises ``uncertain=True`` when its action can register something. Every exchange is reported to
``on_exchange``, with what the client masks.
"""

import time

import requests

from . import outcome as oc
from . import safe
from .errors import CertificateError, TransientError


class Transport:
    def __init__(
        self, service, session, on_exchange, connect_timeout, read_timeout, registering=("register",)
    ):
        self.service = service  # its name in messages
        self.session = session or requests.Session()
        self.on_exchange = on_exchange
        self.timeouts = (connect_timeout, read_timeout)
        self.registering = registering  # actions whose request may register a document

    def exchange(
        self, action, method, url, payload=None, logged_request=None, shown=None, timeout=None, **options
    ):
        """(response, JSON body or None). ``shown(body)`` is what the log keeps of the answer,
        ``logged_request`` what it keeps of the request; ``timeout`` replaces the transport's."""
        started = time.monotonic()
        report = self._reporter(action, url, started, logged_request)
        may_register = action in self.registering
        try:
            response = self.session.request(
                method, url, json=payload, timeout=timeout or self.timeouts, **options
            )
        except requests.exceptions.ConnectTimeout as exc:
            report(message=str(exc), error_type="transport", reached=False)
            raise TransientError(f"{self.service} unreachable: {exc}", uncertain=False) from exc
        except requests.exceptions.SSLError as exc:
            refused = _tls_refusal(exc)
            report(message=str(exc), error_type="tls", reached=False if refused else None)
            if refused:
                raise CertificateError(
                    f"{self.service} refused the TLS handshake (client certificate missing, expired or not "
                    f"issued by the service, or the server certificate not trusted): {exc}",
                    uncertain=False,
                ) from exc
            raise TransientError(
                f"{self.service} TLS connection failed: {exc}", uncertain=may_register
            ) from exc
        except requests.exceptions.ConnectionError as exc:
            refused = _refused(exc)
            report(message=str(exc), error_type="transport", reached=False if refused else None)
            raise TransientError(
                f"{self.service} connection failed: {exc}", uncertain=may_register and not refused
            ) from exc
        except requests.exceptions.Timeout as exc:
            report(message=str(exc), error_type="transport")
            raise TransientError(
                f"{self.service} did not answer in time: {exc}", uncertain=may_register
            ) from exc
        body = _json(response)
        summary = shown(response, body) if shown else {}
        report(
            http_status=response.status_code,
            response=summary.get("response", body if isinstance(body, dict) else None),
            error_code=summary.get("error_code", ""),
            error_type=summary.get("error_type", ""),
            message=summary.get("message") or ("" if body is not None else safe.text(response.text, 500)),
            reached=True,
        )
        return response, body

    def _reporter(self, action, url, started, request):
        def report(**values):
            duration = int((time.monotonic() - started) * 1000)
            self.on_exchange(
                oc.Exchange(action=action, url=url, duration_ms=duration, request=request, **values)
            )

        return report


def _json(response):
    try:
        return response.json()
    except (ValueError, RecursionError):
        return None


def _refused(exc):
    text = str(exc)
    return "Connection refused" in text or "NewConnectionError" in text


# TLS failures that prove the server refused the handshake (or we refused the server): the
# HTTP request was never processed. An EOF during the exchange proves nothing.
_TLS_REFUSALS = (
    "certificate",
    "unknown ca",
    "unknown_ca",
    "handshake failure",
    "handshake_failure",
    "access denied",
    "access_denied",
)


def _tls_refusal(exc):
    """True when the chain of ``exc`` shows a certificate/handshake refusal (not an EOF)."""
    seen, stack = set(), [exc]
    while stack:
        current = stack.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        text = f"{getattr(current, 'reason', '')} {current}".lower()
        if any(marker in text for marker in _TLS_REFUSALS) and "eof" not in text:
            return True
        stack.extend((current.__cause__, current.__context__))
        stack.extend(arg for arg in getattr(current, "args", ()) if isinstance(arg, BaseException))
        reason = getattr(current, "reason", None)
        if isinstance(reason, BaseException):
            stack.append(reason)
    return False
