"""The check on the seller's network: the local module of Chestny ZNAK (ЛМ ЧЗ, API v2) or a
ТС ПИоТ (local API v3). Either answers from its own base when GIS MT is out of reach (an offline
answer: the requisite then names the module's instance and base version), and a ТС ПИоТ may
declare the emergency mode (HTTP 203: the sale goes without a requisite). Values: constants.py.
"""

import base64

from ..errors import PARSE_ERRORS, TransientError
from . import constants as k
from .verdicts import (
    OFFLINE,
    ONLINE,
    MarkingAccessDenied,
    MarkingUnavailable,
    Verdict,
    emergency,
    judge,
    request_stamp,
)


class LocalModule:
    def __init__(self, transport, url, api="lm", login="", password=""):
        self.transport = transport
        self.url = url.rstrip("/")
        self.api = api
        self.auth = (login, password) if login else None

    def status(self):
        """What the module says of itself (ЛМ ЧЗ: "ready"); raises ``MarkingUnavailable``."""
        if self.api != "lm":
            # No status request is documented for ТС ПИоТ: any answer but a refusal will do.
            self._exchange("local_status", "GET", self.url + "/", None, accept=500)
            return "reachable"
        body = self._exchange("local_status", "GET", self.url + k.LM_STATUS_PATH, None)[1]
        status = body.get("status") if isinstance(body, dict) else None
        if status != k.LM_READY:
            raise MarkingUnavailable(f"the local module is not ready (status {status!r})")
        return status

    def check(self, codes):
        """One verdict per code, in order; raises ``MarkingUnavailable``, ``MarkingAccessDenied``."""
        if self.api == "lm":
            self.status()
        verdicts = []
        for start in range(0, len(codes), k.MAX_CODES_PER_REQUEST):
            batch = codes[start : start + k.MAX_CODES_PER_REQUEST]
            verdicts += self._tspiot(batch) if self.api == "tspiot" else self._lm(batch)
        return tuple(verdicts)

    def _lm(self, batch):
        body = {"cis_list": [{"cis": code} for code in batch]}
        answer = self._exchange("local_check", "POST", self.url + k.LM_CHECK_PATH, body)[1]
        return self._read(batch, answer, "results", lambda result: OFFLINE)

    def _tspiot(self, batch):
        body = {
            "codes": [{"cis": base64.b64encode(code.encode()).decode()} for code in batch],
            "client_info": dict(k.TSPIOT_CLIENT_INFO),
        }
        response, answer = self._exchange("local_check", "POST", self.url + k.TSPIOT_CHECK_PATH, body)
        if response.status_code == k.EMERGENCY_STATUS:
            return list(emergency(batch))
        return self._read(
            batch,
            answer,
            "codesResponse",
            lambda result: OFFLINE if result.get("isCheckedOffline") else ONLINE,
        )

    @staticmethod
    def _read(batch, answer, key, route_of):
        """The verdicts of an answer made of results, each with its codes and its stamp."""
        try:
            pairs = []
            for result in answer[key]:
                if result.get("code") != k.OK_CODE:
                    raise MarkingUnavailable(
                        f"the local module refused the check (code {result.get('code')!r}): "
                        f"{result.get('description') or ''}".strip()
                    )
                pairs += [(entry, result) for entry in result["codes"]]
            if len(pairs) != len(batch):
                raise ValueError(f"{len(batch)} codes asked, the answer has {len(pairs)}")
            verdicts = []
            for code, (entry, result) in zip(batch, pairs, strict=True):
                route = route_of(result)
                req_id, stamp = request_stamp(result)
                inst, version = str(result.get("inst") or ""), str(result.get("version") or "")
                if route == OFFLINE and not (inst and version):
                    raise ValueError("an offline answer without inst and version")
                reasons = judge(code, entry, route)
                verdicts.append(Verdict(code, route, reasons, req_id, stamp, inst, version, answer=entry))
            return verdicts
        except PARSE_ERRORS as error:
            raise MarkingUnavailable(f"the local module's answer cannot be read: {error}") from error

    def _exchange(self, action, method, url, payload, accept=300):
        """(response, body) of an answer with a status below ``accept`` (or ТС ПИоТ's 203)."""
        try:
            response, body = self.transport.exchange(
                action, method, url, payload, auth=self.auth, timeout=k.LOCAL_TIMEOUT
            )
        except TransientError as error:
            raise MarkingUnavailable(str(error)) from error
        if response.status_code in k.ACCESS_DENIED_STATUSES:
            raise MarkingAccessDenied(f"the local module refused the login (HTTP {response.status_code})")
        if response.status_code == k.EMERGENCY_STATUS and self.api == "tspiot":
            return response, body
        if response.status_code >= accept or (payload is not None and not isinstance(body, dict)):
            raise MarkingUnavailable(f"the local module answered HTTP {response.status_code}")
        return response, body
