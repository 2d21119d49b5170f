"""The marking check of the permissive mode: GIS MT's "True API" behind its CDN, the seller's
local module (ЛМ ЧЗ, API v2) and a ТС ПИоТ (local API v3), as the facts we have describe them
(shared/vendor-docs/permissive-mode-facts.md).

Paths under the sandbox's URL (the client's CDN setting is ``{url}/marking``):

- ``GET  /marking/api/v4/true-api/cdn/info``                 the host list (X-API-KEY)
- ``GET  /marking/hosts/<name>/api/v4/true-api/cdn/health/check``
- ``POST /marking/hosts/<name>/api/v4/true-api/codes/check``   at most 100 codes
- ``GET  /localmodule/api/v2/status``, ``POST /localmodule/api/v2/cis/outCheck`` (Basic auth)
- ``POST /tspiot/api/v3/codes/check`` (HTTP 203 in the emergency mode), ``GET /tspiot/``

What a code's check says: a code registered with ``set_code`` says that; otherwise its serial
(after ``01<GTIN>21``) decides: SOLD…, BLOCKED…, EXPIRED…, UNKNOWN… (not found), INVALID…,
GRAY…, NOTREAL… (not in circulation); any other GS1 code is valid and may be sold. A code an ATOL
sale registered is sold from then on (a refund puts it back). Slow answers and 5xx come from the
fault plan (targets ``mark_info``, ``mark_health``, ``mark_check``, ``local_check``).
"""

import base64
import random
import re
import time
from datetime import UTC, datetime, timedelta

from .exchange import json_response
from .util import loads, seeded_uuid

API_PREFIX = "/api/v4/true-api"
GS = "\x1d"
GS1 = re.compile(r"^01(\d{14})21([^\x1d]+)")
# Serial prefixes and what the operator answers for them.
SERIAL_STATES = {
    "SOLD": {"sold": True},
    "BLOCKED": {"isBlocked": True},
    "EXPIRED": {"expireDate": "2020-01-01T00:00:00.000Z"},
    "UNKNOWN": {"found": False, "utilised": False, "verified": False, "realizable": False},
    "INVALID": {"valid": False, "verified": False},
    "GRAY": {"grayZone": True},
    "NOTREAL": {"realizable": False},
}
DEFAULT_HOSTS = {  # name -> average answer time it reports, whether its health check is good
    "cdn01": {"avg": 30, "healthy": True, "down": False},
    "cdn02": {"avg": 8, "healthy": True, "down": False},
    "cdn03": {"avg": 2, "healthy": False, "down": False},
}
DEFAULTS = {
    "api_key": "sandbox-marking-key",
    "local_login": "admin",
    "local_password": "admin",
    "local_status": "ready",
    "local_inst": "sandbox-lm-1",
    "local_version": "sandbox-base-7",
    "tspiot_offline": False,
    "tspiot_emergency": False,
}
TARGETS = ("mark_info", "mark_health", "mark_check", "local_check")


class MarkingService:
    def __init__(self, app):
        self.app = app
        self.clear()

    def clear(self):
        with self.app.lock:
            self.settings = dict(DEFAULTS)
            self.hosts = {name: dict(spec) for name, spec in DEFAULT_HOSTS.items()}
            self.codes = {}  # code -> fields that override the answer
            self.sold = set()
            self.log = []  # every check: {"where", "codes", "reqId", "reqTimestamp"}
            self.rng = random.Random(f"marking:{self.app.seed}")

    # -- Python API (and /sandbox/marking) --------------------------------------------------

    def configure(self, **settings):
        unknown = set(settings) - set(DEFAULTS) - {"hosts", "codes"}
        if unknown:
            raise ValueError(f"unknown marking settings {sorted(unknown)}")
        with self.app.lock:
            for name, spec in (settings.pop("hosts", None) or {}).items():
                self.hosts.setdefault(name, {"avg": 10, "healthy": True, "down": False}).update(spec)
            for code, fields in (settings.pop("codes", None) or {}).items():
                self.codes[code] = dict(fields)
            self.settings.update(settings)
            return self.snapshot()

    def set_code(self, code, **fields):
        """What the operator answers for ``code`` from now on (e.g. ``sold=True``)."""
        with self.app.lock:
            self.codes[code] = dict(fields)

    def checks(self):
        with self.app.lock:
            return [dict(entry) for entry in self.log]

    def snapshot(self):
        with self.app.lock:
            return {
                "settings": dict(self.settings),
                "hosts": {name: dict(spec) for name, spec in self.hosts.items()},
                "sold": sorted(self.sold),
                "checks": len(self.log),
            }

    def registered(self, operation, items):
        """An ATOL document was registered: its marked items are sold (or back, for a refund)."""
        codes = set()
        for item in items or ():
            encoded = (item.get("mark_code") or {}).get("gs1m")
            if encoded:
                codes.add(base64.b64decode(encoded).decode("utf-8", "replace"))
        with self.app.lock:
            if operation == "sell":
                self.sold |= codes
            elif operation == "sell_refund":
                self.sold -= codes

    @staticmethod
    def marks_result(items):
        """ATOL's ``marks_result`` (tag 2106) of a v5 receipt's items: 15 (code and status right)
        for an item that carries the permissive mode's check, else 3 (status not checked)."""
        return [
            {
                "position": position,
                "mark_code": item["mark_code"]["gs1m"],
                "result": 15 if item.get("sectoral_item_props") else 3,
            }
            for position, item in enumerate(items or ())
            if (item.get("mark_code") or {}).get("gs1m")
        ]

    # -- routing -----------------------------------------------------------------------------

    def route(self, path, method):
        """(fault target, handler) of a marking path, or None."""
        if path == f"/marking{API_PREFIX}/cdn/info" and method == "GET":
            return "mark_info", self.info
        match = re.match(rf"^/marking/hosts/([\w-]+){API_PREFIX}/(cdn/health/check|codes/check)$", path)
        if match:
            name, action = match.groups()
            if action == "codes/check" and method == "POST":
                return "mark_check", lambda request: self.check(request, name)
            if method == "GET" and action != "codes/check":
                return "mark_health", lambda request: self.health(request, name)
        if path == "/localmodule/api/v2/status" and method == "GET":
            return "local_check", self.lm_status
        if path == "/localmodule/api/v2/cis/outCheck" and method == "POST":
            return "local_check", self.lm_check
        if path == "/tspiot/api/v3/codes/check" and method == "POST":
            return "local_check", self.tspiot_check
        if path in ("/tspiot", "/tspiot/") and method == "GET":
            return "local_check", lambda request: json_response(200, {"status": "ok"}, "ТС ПИоТ status")
        return None

    # -- GIS MT --------------------------------------------------------------------------

    def _key_refused(self, request):
        if request.headers.get("X-API-KEY") != self.settings["api_key"]:
            return json_response(401, {"code": 401, "description": "Unauthorized"}, "marking 401 key")
        return None

    def info(self, request):
        refused = self._key_refused(request)
        if refused:
            return refused
        base = f"{self.app.url}/marking/hosts"
        with self.app.lock:
            hosts = [{"host": f"{base}/{name}"} for name in self.hosts]
        return json_response(200, {"code": 0, "hosts": hosts}, f"{len(hosts)} hosts")

    def health(self, request, name):
        with self.app.lock:
            host = self.hosts.get(name)
        if host is None:
            return json_response(404, {"error": "no such host"}, "marking 404")
        code = 0 if host["healthy"] else 1
        return json_response(200, {"code": code, "avgTimeMs": host["avg"]}, f"health {name} {code}")

    def check(self, request, name):
        refused = self._key_refused(request)
        if refused:
            return refused
        with self.app.lock:
            host = self.hosts.get(name)
        if host is None or host["down"]:
            return json_response(503, {"error": "Service Unavailable"}, f"marking host {name} down")
        try:
            codes = loads(request.body)["codes"]
            if not isinstance(codes, list) or not 1 <= len(codes) <= 100:
                raise ValueError("1 to 100 codes")
            codes = [str(code) for code in codes]
        except (ValueError, KeyError, TypeError, UnicodeDecodeError) as error:
            return json_response(400, {"code": 400, "description": str(error)}, "marking 400")
        answer = self._answer(codes, f"online {name}")
        return json_response(200, dict(answer, code=0, description="ok"), f"checked {len(codes)} on {name}")

    def _answer(self, codes, where, offline=False):
        with self.app.lock:
            stamp = str(int(time.time() * 1000))
            req_id = seeded_uuid(self.rng)
            entries = [self._entry(code, offline) for code in codes]
            self.log.append({"where": where, "codes": list(codes), "reqId": req_id, "reqTimestamp": stamp})
        return {"codes": entries, "reqId": req_id, "reqTimestamp": int(stamp)}

    def _entry(self, code, offline):
        """What the operator knows of ``code`` (under the lock)."""
        match = GS1.match(code)
        entry = {
            "cis": code.split(GS)[0],
            "valid": bool(match),
            "found": bool(match),
            "utilised": bool(match),
            "verified": bool(match),
            "realizable": bool(match),
            "sold": code in self.sold,
            "isBlocked": False,
            "expireDate": (datetime.now(UTC) + timedelta(days=180)).strftime("%Y-%m-%dT00:00:00.000Z"),
            "grayZone": False,
            "errorCode": 0 if match else 4,
            "gtin": match.group(1) if match else "",
            "groupIds": [3],
        }
        serial = match.group(2) if match else ""
        for prefix, fields in SERIAL_STATES.items():
            if serial.upper().startswith(prefix):
                entry.update(fields)
        entry.update(self.codes.get(code, {}))
        if offline:  # the local base knows the blocked and sold lists only
            entry = {key: entry[key] for key in ("cis", "sold", "isBlocked", "gtin")}
        return entry

    # -- the local module and ТС ПИоТ ------------------------------------------------------

    def _login_refused(self, request):
        expected = base64.b64encode(
            f"{self.settings['local_login']}:{self.settings['local_password']}".encode()
        ).decode()
        if request.headers.get("Authorization") != f"Basic {expected}":
            return json_response(401, {"error": "Unauthorized"}, "local module 401")
        return None

    def lm_status(self, request):
        refused = self._login_refused(request)
        if refused:
            return refused
        status = self.settings["local_status"]
        return json_response(200, {"status": status, "version": self.settings["local_version"]}, status)

    def lm_check(self, request):
        refused = self._login_refused(request)
        if refused:
            return refused
        try:
            codes = [str(entry["cis"]) for entry in loads(request.body)["cis_list"]]
        except (ValueError, KeyError, TypeError, UnicodeDecodeError) as error:
            return json_response(400, {"error": str(error)}, "local module 400")
        result = dict(
            self._answer(codes, "local module", offline=True),
            code=0,
            description="ok",
            inst=self.settings["local_inst"],
            version=self.settings["local_version"],
        )
        return json_response(200, {"results": [result]}, f"local module checked {len(codes)}")

    def tspiot_check(self, request):
        if self.settings["tspiot_emergency"]:
            return json_response(203, {}, "ТС ПИоТ emergency mode")
        try:
            codes = [base64.b64decode(entry["cis"]).decode() for entry in loads(request.body)["codes"]]
        except (ValueError, KeyError, TypeError, UnicodeDecodeError) as error:
            return json_response(400, {"error": str(error)}, "ТС ПИоТ 400")
        offline = bool(self.settings["tspiot_offline"])
        result = dict(
            self._answer(codes, "ТС ПИоТ", offline=offline),
            code=0,
            isCheckedOffline=offline,
            inst=self.settings["local_inst"],
            version=self.settings["local_version"],
        )
        return json_response(200, {"codesResponse": [result]}, f"ТС ПИоТ checked {len(codes)}")
