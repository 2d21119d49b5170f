"""Admin endpoints under ``/sandbox/``: faults, ledger, documents, accounts, settings, reset.

They are part of the emulator, not of the vendors' APIs, and never meet injected faults.
"""

from .exchange import json_response
from .util import loads


def _body(request):
    if not request.body:
        return {}
    return loads(request.body)


def handle(app, request, name):
    """Dispatch ``/sandbox/<name>``; ``app`` is the ``server.Sandbox``."""
    try:
        return _dispatch(app, request, name)
    except (ValueError, TypeError, KeyError) as exc:
        return json_response(400, {"error": str(exc)}, f"admin error: {exc}")


def _dispatch(app, request, name):
    method = request.method
    if name == "faults":
        if method == "POST":
            app.set_faults(_body(request))
        return json_response(200, app.get_faults(), "faults")
    if name == "ledger" and method == "GET":
        return json_response(200, app.ledger_summary(), "ledger")
    if name == "documents" and method == "GET":
        vendor = request.query.get("vendor")
        return json_response(200, app.documents(vendor=vendor), "documents")
    if name == "reset" and method == "POST":
        app.reset()
        return json_response(200, {"reset": True}, "reset")
    if name == "expire-tokens" and method == "POST":
        return json_response(200, {"expired": app.expire_tokens()}, "tokens expired")
    if name == "accounts":
        if method == "POST":
            spec = _body(request)
            versions = spec.get("versions") or ["v5"]
            if isinstance(versions, str):
                versions = [versions]
            app.add_account(
                spec["login"],
                spec["password"],
                spec["group"],
                spec["inn"],
                versions=tuple(versions),
                payment_address=spec.get("payment_address", ""),
            )
        return json_response(200, app.account_list(), "accounts")
    if name == "marking":
        if method == "POST":
            app.marking.configure(**_body(request))
        return json_response(200, app.marking.snapshot(), "marking")
    if name == "marking/checks" and method == "GET":
        return json_response(200, app.marking.checks(), "marking checks")
    if name == "config":
        if method == "POST":
            app.configure(**_body(request))
        return json_response(200, app.settings_snapshot(), "config")
    return json_response(404, {"error": f"unknown admin endpoint {method} /sandbox/{name}"}, "unknown admin")
