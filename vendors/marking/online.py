"""The online check: GIS MT's "True API" through the operator's CDN.

The CDN lists the check hosts (kept ``HOST_LIST_TTL``); each host's health check tells how fast
it is; the codes go to the fastest healthy host, at most ``MAX_CODES_PER_REQUEST`` a request.
A host that fails (unreachable, 5xx, an answer that cannot be read, or slower than the law's
``CHECK_TIME_LIMIT``) is skipped for ``FAILED_HOST_PAUSE``; the next one is asked while the time
limit allows. Values: constants.py.
"""

import threading
import time

from ..errors import PARSE_ERRORS, TransientError
from . import constants as k
from .verdicts import ONLINE, MarkingAccessDenied, MarkingUnavailable, Verdict, judge, request_stamp


class HostCache:
    """The check hosts of each CDN, fastest first, and the hosts that failed lately: shared by
    every client of the process (``SHARED``), on a clock tests may replace."""

    def __init__(self, clock=time.monotonic):
        self.clock = clock
        self.lock = threading.Lock()
        self.lists = {}  # CDN root -> (kept until, hosts ranked)
        self.failed = {}  # host -> skipped until

    def ranked(self, cdn):
        with self.lock:
            until, hosts = self.lists.get(cdn, (0, ()))
            return hosts if until > self.clock() else None

    def keep(self, cdn, hosts):
        with self.lock:
            self.lists[cdn] = (self.clock() + k.HOST_LIST_TTL.total_seconds(), tuple(hosts))

    def fail(self, host):
        with self.lock:
            self.failed[host] = self.clock() + k.FAILED_HOST_PAUSE.total_seconds()

    def usable(self, hosts):
        with self.lock:
            now = self.clock()
            return [host for host in hosts if self.failed.get(host, 0) <= now]

    def clear(self):
        with self.lock:
            self.lists.clear()
            self.failed.clear()


SHARED = HostCache()


class OnlineCheck:
    def __init__(self, transport, cdn_root, api_key, fiscal_drive="", hosts=SHARED, now=None):
        self.transport = transport
        self.cdn_root = cdn_root
        self.api_key = api_key
        self.fiscal_drive = fiscal_drive
        self.cache = hosts
        self.now = now

    # -- hosts ---------------------------------------------------------------------------

    def hosts(self, refresh=False):
        """The hosts that may be asked, fastest first; raises ``MarkingUnavailable``."""
        ranked = None if refresh else self.cache.ranked(self.cdn_root)
        if ranked is None:
            ranked = self._rank(self._host_list())
            if ranked:  # an empty ranking is asked again next time, not kept for hours
                self.cache.keep(self.cdn_root, ranked)
        usable = self.cache.usable(ranked)
        if not usable:
            raise MarkingUnavailable("no check host of GIS MT is available")
        return usable

    def _host_list(self):
        response, body = self._get("mark_info", self.cdn_root + k.CDN_INFO_PATH, k.INFO_TIMEOUT)
        try:
            if body.get("code") != k.OK_CODE:
                raise ValueError(f"code {body.get('code')!r}: {body.get('description') or body.get('error')}")
            hosts = [entry["host"].rstrip("/") for entry in body["hosts"]]
            if not hosts or not all(host.startswith(("http://", "https://")) for host in hosts):
                raise ValueError("no host")
        except PARSE_ERRORS as error:
            raise MarkingUnavailable(f"GIS MT's host list cannot be read: {error}") from error
        return list(dict.fromkeys(hosts))

    def _rank(self, hosts):
        """The hosts whose health check answers code 0, by their average time (then ours)."""
        measured = []
        for host in hosts:
            started = time.monotonic()
            try:
                _response, body = self._get("mark_health", host + k.HEALTH_PATH, k.HEALTH_TIMEOUT)
                if body.get("code") != k.OK_CODE:
                    continue
                average = float(body.get("avgTimeMs") or 0)
            except (MarkingUnavailable, *PARSE_ERRORS):
                continue
            measured.append((average, time.monotonic() - started, host))
        return [host for _average, _elapsed, host in sorted(measured)]

    def _get(self, action, url, timeout):
        try:
            response, body = self.transport.exchange(
                action, "GET", url, headers={k.API_KEY_HEADER: self.api_key}, timeout=timeout
            )
        except TransientError as error:
            raise MarkingUnavailable(str(error)) from error
        if response.status_code in k.ACCESS_DENIED_STATUSES:
            raise MarkingAccessDenied(f"GIS MT refused the API key (HTTP {response.status_code})")
        if response.status_code != 200 or not isinstance(body, dict):
            raise MarkingUnavailable(f"GIS MT answered HTTP {response.status_code} to {action}")
        return response, body

    # -- the check -----------------------------------------------------------------------

    def check(self, codes):
        """One verdict per code, in order; raises ``MarkingUnavailable``, ``MarkingAccessDenied``."""
        verdicts = []
        for start in range(0, len(codes), k.MAX_CODES_PER_REQUEST):
            verdicts += self._check_batch(codes[start : start + k.MAX_CODES_PER_REQUEST])
        return tuple(verdicts)

    def _check_batch(self, batch):
        body = {"codes": list(batch)}
        if self.fiscal_drive:
            body["fiscalDriveNumber"] = self.fiscal_drive
        clock = self.cache.clock
        started = clock()
        failure = "no host was asked"
        for host in self.hosts():
            left = k.CHECK_TIME_LIMIT - (clock() - started)
            if left <= 0:
                break
            try:
                response, answer = self.transport.exchange(
                    "mark_check",
                    "POST",
                    host + k.CODES_CHECK_PATH,
                    body,
                    headers={k.API_KEY_HEADER: self.api_key},
                    timeout=(left, left),
                )
            except TransientError as error:
                self.cache.fail(host)
                failure = str(error)
                continue
            if clock() - started > k.CHECK_TIME_LIMIT:
                # The law's limit passed: whatever it says, the offline check decides now.
                self.cache.fail(host)
                failure = f"{host} answered after {k.CHECK_TIME_LIMIT} s"
                break
            status = response.status_code
            if status in k.ACCESS_DENIED_STATUSES:
                raise MarkingAccessDenied(f"GIS MT refused the API key (HTTP {status})")
            if status >= 500 or status == 429 or not isinstance(answer, dict):
                self.cache.fail(host)
                failure = f"{host} answered HTTP {status}"
                continue
            if status != 200 or answer.get("code") != k.OK_CODE:
                raise MarkingUnavailable(
                    f"GIS MT refused the check (HTTP {status}, code {answer.get('code')!r}): "
                    f"{answer.get('description') or answer.get('error') or ''}".strip()
                )
            try:
                return self._verdicts(batch, answer)
            except PARSE_ERRORS as error:
                self.cache.fail(host)
                failure = f"the answer of {host} cannot be read: {error}"
        raise MarkingUnavailable(f"GIS MT did not answer the check in time ({failure})")

    def _verdicts(self, batch, answer):
        entries = answer["codes"]
        if not isinstance(entries, list) or len(entries) != len(batch):
            raise ValueError(f"{len(batch)} codes asked, the answer has {len(entries)}")
        req_id, stamp = request_stamp(answer)
        now = self.now() if self.now else None
        return [
            Verdict(code, ONLINE, judge(code, entry, ONLINE, now), req_id, stamp, answer=entry)
            for code, entry in zip(batch, entries, strict=True)
        ]
