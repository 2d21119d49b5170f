"""Helpers shared by the sandbox tests (this module defines no tests itself).

Every test starts its own ``Sandbox`` on an ephemeral loopback port and talks to it over real
HTTP with ``requests``, like the addon's vendor clients will.
"""

import copy
import time

import requests

from ..sandbox import samples
from ..sandbox.server import Sandbox

ACCOUNTS = {"v4": samples.V4_ACCOUNT, "v5": samples.V5_ACCOUNT}
HTTP_TIMEOUT = 5


def sell_body(version, external_id="order-1", **kwargs):
    if version == "v4":
        return samples.atol_v4_sell(external_id, **kwargs)
    return samples.atol_v5_sell(external_id, **kwargs)


def correction_body(version, external_id="correction-1"):
    if version == "v4":
        return samples.atol_v4_correction(external_id)
    return samples.atol_v5_correction(external_id)


def body_for(version, operation, external_id):
    if operation.endswith("_correction"):
        return correction_body(version, external_id)
    return sell_body(version, external_id)


class SandboxMixin:
    """Starts a sandbox per test; ``sandbox_options`` tunes it. Mixed into unittest.TestCase."""

    sandbox_options = {}

    def setUp(self):
        super().setUp()
        options = {"seed": 1, "done_delay": 0.0, "quiet": True}
        options.update(self.sandbox_options)
        self.sb = self.start_sandbox(**options)
        self.http = requests.Session()
        self.addCleanup(self.http.close)

    def start_sandbox(self, **options):
        sandbox = Sandbox(**options).start()
        self.addCleanup(sandbox.stop)
        return sandbox

    # -- ATOL -----------------------------------------------------------------------------

    def get_token(self, version="v4", sb=None):
        account = ACCOUNTS[version]
        answer = self.http.post(
            f"{(sb or self.sb).url}/possystem/{version}/getToken",
            json={"login": account.login, "pass": account.password},
            timeout=HTTP_TIMEOUT,
        )
        self.assertEqual(answer.status_code, 200, answer.text)
        return answer.json()["token"]

    def register(self, version, operation, body, token=None, group=None, sb=None, **kwargs):
        token = token if token is not None else self.get_token(version, sb)
        group = group or ACCOUNTS[version].group
        return self.http.post(
            f"{(sb or self.sb).url}/possystem/{version}/{group}/{operation}",
            json=body,
            headers={"Token": token},
            timeout=HTTP_TIMEOUT,
            **kwargs,
        )

    def report(self, version, uuid, token=None, group=None, sb=None):
        token = token if token is not None else self.get_token(version, sb)
        group = group or ACCOUNTS[version].group
        return self.http.get(
            f"{(sb or self.sb).url}/possystem/{version}/{group}/report/{uuid}",
            headers={"Token": token},
            timeout=HTTP_TIMEOUT,
        )

    def sell(self, version="v4", external_id="order-1", sb=None):
        """Register a valid sell receipt; returns its uuid."""
        answer = self.register(version, "sell", sell_body(version, external_id), sb=sb)
        self.assertEqual(answer.status_code, 200, answer.text)
        return answer.json()["uuid"]

    def wait_final(self, version, uuid, timeout=3.0, sb=None):
        """Poll the report until the document leaves ``wait``; returns the body."""
        token = self.get_token(version, sb)
        deadline = time.monotonic() + timeout
        while True:
            answer = self.report(version, uuid, token=token, sb=sb)
            body = answer.json()
            if body.get("status") != "wait" or time.monotonic() > deadline:
                return body
            time.sleep(0.02)

    # -- Checkonline ----------------------------------------------------------------------

    def complex(self, body, sb=None, **kwargs):
        return self.http.post(
            f"{(sb or self.sb).url}/fr/api/v2/Complex", json=body, timeout=HTTP_TIMEOUT, **kwargs
        )


def mutated(body, change):
    """A deep copy of ``body`` after ``change(copy)``."""
    result = copy.deepcopy(body)
    change(result)
    return result
