"""The marking check of the permissive mode, as the seller's settings reach it.

``MarkingClient.check(codes)`` asks the route the settings choose (GIS MT directly, or the
seller's local module / ТС ПИоТ); when no check can be made, the fallback decides: the local
module's offline check, the emergency mode (the sale goes without the requisite, where the law
allows it), or nothing (``MarkingUnavailable``: the sale waits and is checked again). A verdict
is never made up: every allowed code was allowed by an answer, or sold in the emergency mode the
settings chose. Plain Python, no Odoo; values in constants.py.
"""

from dataclasses import dataclass

from ..transport import Transport
from . import constants as k
from .local import LocalModule
from .online import SHARED, OnlineCheck
from .verdicts import MarkingAccessDenied, MarkingUnavailable, emergency

# How the check is reached, and what happens when it cannot be made.
ROUTE_ONLINE, ROUTE_LOCAL = "online", "local"
ROUTES = (ROUTE_ONLINE, ROUTE_LOCAL)
FALLBACK_WAIT, FALLBACK_LOCAL, FALLBACK_EMERGENCY = "wait", "local", "emergency"
FALLBACKS = (FALLBACK_WAIT, FALLBACK_LOCAL, FALLBACK_EMERGENCY)


@dataclass(frozen=True)
class MarkingConfig:
    route: str = ROUTE_ONLINE
    fallback: str = FALLBACK_WAIT
    test_mode: bool = True  # the operator's sandbox CDN
    cdn_url: str = ""  # replaces the operator's CDN, e.g. the module's sandbox
    api_key: str = ""  # the organisation's X-API-KEY for the online check
    fiscal_drive: str = ""  # optional: the FN the receipts go to
    local_url: str = ""  # e.g. http://127.0.0.1:5995
    local_api: str = "lm"  # constants.LOCAL_APIS
    local_login: str = ""
    local_password: str = ""

    @property
    def cdn_root(self):
        return (self.cdn_url or k.CDN_URLS[bool(self.test_mode)]).rstrip("/")

    @property
    def uses_local(self):
        return self.route == ROUTE_LOCAL or self.fallback == FALLBACK_LOCAL

    def missing(self):
        """The settings the chosen route and fallback need and lack: "api_key", "local_url"."""
        missing = []
        if self.route == ROUTE_ONLINE and not self.api_key:
            missing.append("api_key")
        if self.uses_local and not self.local_url:
            missing.append("local_url")
        return tuple(missing)


class MarkingClient:
    def __init__(self, config, session=None, on_exchange=None, hosts=SHARED, now=None):
        self.config = config
        on_exchange = on_exchange or (lambda exchange: None)
        transport = Transport("GIS MT", session, on_exchange, k.INFO_TIMEOUT, k.INFO_TIMEOUT, registering=())
        self.session = transport.session
        self.online = OnlineCheck(
            transport, config.cdn_root, config.api_key, config.fiscal_drive, hosts=hosts, now=now
        )
        local_transport = Transport(
            "local module", self.session, on_exchange, k.LOCAL_TIMEOUT, k.LOCAL_TIMEOUT, registering=()
        )
        self.local = LocalModule(
            local_transport, config.local_url, config.local_api, config.local_login, config.local_password
        )

    def check(self, codes):
        """One ``Verdict`` per code, in their order.

        Raises ``MarkingUnavailable`` when no check could be made and the fallback is to wait,
        ``MarkingAccessDenied`` when a credential was refused (never covered by a fallback: an
        administrator must see it).
        """
        codes = tuple(codes)
        if not codes:
            return ()
        failures = []
        if self.config.route == ROUTE_ONLINE:
            try:
                return self.online.check(codes)
            except MarkingUnavailable as error:
                failures.append(str(error))
        if self.config.uses_local:
            try:
                return self.local.check(codes)
            except MarkingUnavailable as error:
                failures.append(str(error))
        if self.config.fallback == FALLBACK_EMERGENCY:
            return emergency(codes)
        raise MarkingUnavailable("; ".join(failures))

    def check_connection(self):
        """[(part, ok, detail)] for each part the settings use: "online" (detail: the hosts,
        fastest first) and "local" (detail: what the module says of itself)."""
        parts = []
        if self.config.route == ROUTE_ONLINE:
            parts.append(self._try("online", lambda: self.online.hosts(refresh=True)))
        if self.config.uses_local:
            parts.append(self._try("local", self.local.status))
        return parts

    @staticmethod
    def _try(part, function):
        try:
            return part, True, function()
        except (MarkingUnavailable, MarkingAccessDenied) as error:
            return part, False, str(error)
