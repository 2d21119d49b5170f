"""Fault injection: every kind, targets, "next N", seeded reproducibility, admin endpoint."""

import time

import requests

from ..sandbox import faults as faults_module
from ..sandbox import samples
from .common import KkmCase
from .test_sandbox_common import ACCOUNTS, HTTP_TIMEOUT, SandboxMixin, sell_body


class TestFaultKinds(SandboxMixin, KkmCase):
    def test_latency(self):
        self.sb.set_faults({"latency": {"next": 1, "seconds": 0.3, "targets": ["get_token"]}})
        started = time.monotonic()
        self.get_token("v4")
        self.assertGreaterEqual(time.monotonic() - started, 0.3)
        started = time.monotonic()
        self.get_token("v4")
        self.assertLess(time.monotonic() - started, 0.25)

    def test_http_5xx_html_body_registers_nothing(self):
        token = self.get_token("v4")
        self.sb.set_faults({"http_5xx": {"next": 1, "status": 502, "body": "html", "targets": ["register"]}})
        answer = self.register("v4", "sell", sell_body("v4"), token=token)
        self.assertEqual(answer.status_code, 502)
        self.assertTrue(answer.headers["Content-Type"].startswith("text/html"))
        with self.assertRaises(ValueError):
            answer.json()
        self.assertEqual(self.sb.ledger()["count"], 0)
        self.assertEqual(self.register("v4", "sell", sell_body("v4"), token=token).status_code, 200)

    def test_http_5xx_json_body(self):
        self.sb.set_faults({"http_5xx": {"next": 2, "status": 500, "body": "json"}})
        atol = self.http.post(
            f"{self.sb.url}/possystem/v5/getToken", json={"login": "x", "pass": "y"}, timeout=HTTP_TIMEOUT
        )
        self.assertEqual(atol.status_code, 500)
        self.assertEqual(atol.json()["error"]["code"], 50)  # ErrorServerConfiguration
        checkonline = self.complex(samples.checkonline_complex())
        self.assertEqual(checkonline.status_code, 500)
        self.assertEqual(checkonline.json()["FCEError"], 5)
        self.assertFalse(checkonline.json()["Fatal"])
        self.assertEqual(self.sb.ledger()["count"], 0)

    def test_drop_before_processing(self):
        token = self.get_token("v5")
        self.sb.set_faults({"drop": {"next": 1, "targets": ["register"]}})
        with self.assertRaises(requests.ConnectionError):
            self.register("v5", "sell", sell_body("v5", "drop-1"), token=token)
        self.assertEqual(self.sb.ledger()["count"], 0)
        retry = self.register("v5", "sell", sell_body("v5", "drop-1"), token=token)
        self.assertEqual(retry.status_code, 200)  # nothing was registered: a plain success
        self.assertEqual(self.sb.ledger()["documents"][0]["submitted"], 1)

    def test_registered_but_answer_lost(self):
        token = self.get_token("v4")
        self.sb.set_faults({"lost_answer": {"next": 1, "targets": ["register"]}})
        with self.assertRaises(requests.ConnectionError):
            self.register("v4", "sell", sell_body("v4", "lost-1"), token=token)
        ledger = self.sb.ledger()
        self.assertEqual(ledger["count"], 1)  # the document IS registered
        uuid = ledger["documents"][0]["uuid"]
        # The right reaction: resend the same external_id and read the uuid from error 33.
        retry = self.register("v4", "sell", sell_body("v4", "lost-1"), token=token)
        self.assertEqual(retry.json()["error"]["code"], 33)
        self.assertEqual(retry.json()["uuid"], uuid)
        ledger = self.sb.ledger()
        self.assertEqual((ledger["count"], ledger["documents"][0]["submitted"]), (1, 2))
        self.assertEqual(ledger["duplicates_by_content"]["count"], 0)
        # The trap: a client that mints a new external_id registers the receipt twice.
        self.register("v4", "sell", sell_body("v4", "lost-1-retry"), token=token)
        ledger = self.sb.ledger()
        self.assertEqual(ledger["duplicates_by_content"]["count"], 1)
        self.assertEqual(ledger["duplicates_by_content"]["groups"][0]["ids"], ["lost-1", "lost-1-retry"])
        self.assertEqual(ledger["duplicates_by_id"]["count"], 0)

    def test_malformed_answer_after_processing(self):
        token = self.get_token("v5")
        self.sb.set_faults({"malformed": {"next": 1, "targets": ["register"]}})
        answer = self.register("v5", "sell", sell_body("v5", "mal-1"), token=token)
        self.assertEqual(answer.status_code, 200)
        with self.assertRaises(ValueError):
            answer.json()
        self.assertEqual(self.sb.ledger()["count"], 1)
        self.assertEqual(
            self.register("v5", "sell", sell_body("v5", "mal-1"), token=token).json()["error"]["code"], 33
        )

    def test_token_expiry_now(self):
        token = self.get_token("v4")
        self.sb.set_faults({"token_expiry": {"next": 1, "targets": ["register"]}})
        answer = self.register("v4", "sell", sell_body("v4"), token=token)
        self.assertEqual(answer.status_code, 401)
        self.assertEqual(answer.json()["error"]["code"], 11)
        self.assertEqual(self.register("v4", "sell", sell_body("v4")).status_code, 200)

    def test_long_wait(self):
        self.sb.set_faults({"long_wait": {"next": 1, "seconds": 3600}})
        slow = self.sell("v5", "slow-1")
        fast = self.sell("v5", "fast-1")
        self.assertEqual(self.wait_final("v5", fast)["status"], "done")
        answer = self.report("v5", slow)
        self.assertEqual(answer.status_code, 200)
        self.assertEqual(answer.json()["status"], "wait")
        self.assertEqual(answer.json()["error"]["code"], 34)

    def test_fiscal_fail_atol(self):
        self.sb.set_faults({"fiscal_fail": {"next": 1, "code": 104, "targets": ["register"]}})
        report = self.wait_final("v4", self.sell("v4", "ff-1"))
        self.assertEqual(report["status"], "fail")
        self.assertEqual(report["error"]["code"], 104)
        self.assertEqual(report["error"]["type"], "driver")

    def test_fiscal_fail_checkonline_fce_6_is_cached(self):
        self.sb.set_faults({"fiscal_fail": {"next": 1, "fce": 6, "fatal": True}})
        body = samples.checkonline_complex("fce6")
        first = self.complex(body)
        self.assertEqual(first.status_code, 500)
        self.assertEqual(first.json()["FCEError"], 6)
        self.assertTrue(first.json()["Fatal"])
        # ST32 §3.6.4: the undefined state is cached; the same RequestId gets the same answer.
        again = self.complex(body)
        self.assertEqual(again.status_code, 500)
        self.assertEqual(again.headers.get("X-From-FCE-Cache"), "true")
        self.assertEqual(self.sb.ledger()["count"], 0)

    def test_fiscal_fail_checkonline_device_error(self):
        self.sb.set_faults({"fiscal_fail": {"next": 1, "code": 239}})
        answer = self.complex(samples.checkonline_complex("lease")).json()
        self.assertEqual(answer["Response"]["Error"], 239)

    def test_checkonline_lost_answer_then_cache(self):
        self.sb.set_faults({"lost_answer": {"next": 1, "targets": ["complex"]}})
        body = samples.checkonline_complex("co-lost")
        with self.assertRaises(requests.ConnectionError):
            self.complex(body)
        retry = self.complex(body)
        self.assertEqual(retry.headers.get("X-From-FCE-Cache"), "true")
        self.assertEqual(retry.json()["Response"]["Error"], 0)
        ledger = self.sb.ledger()
        self.assertEqual(ledger["count"], 1)
        self.assertEqual(ledger["documents"][0]["submitted"], 2)

    def test_targets_limit_the_fault(self):
        token = self.get_token("v4")
        self.sb.set_faults({"drop": {"probability": 1.0, "targets": ["report"]}})
        uuid = self.register("v4", "sell", sell_body("v4"), token=token).json()["uuid"]
        with self.assertRaises(requests.ConnectionError):
            self.report("v4", uuid, token=token)
        self.assertEqual(self.sb.get_faults()["fired"][-1]["target"], "report")


class TestFaultReproducibility(SandboxMixin, KkmCase):
    CONFIG = {
        "drop": {"probability": 0.25},
        "http_5xx": {"probability": 0.25, "status": 503, "body": "empty"},
        "latency": {"probability": 0.3, "seconds": 0.0},
    }

    def _trace(self, seed):
        sb = self.start_sandbox(seed=seed, done_delay=0, faults=self.CONFIG, quiet=True)
        account = ACCOUNTS["v4"]
        trace = []
        for _ in range(30):
            try:
                answer = self.http.post(
                    f"{sb.url}/possystem/v4/getToken",
                    json={"login": account.login, "pass": account.password},
                    timeout=HTTP_TIMEOUT,
                )
                trace.append(answer.status_code)
            except requests.ConnectionError:
                trace.append("dropped")
        return trace, sb.get_faults()["fired"]

    def test_same_seed_same_faults(self):
        first, fired = self._trace(11)
        second, fired_again = self._trace(11)
        self.assertEqual(first, second)
        self.assertEqual(fired, fired_again)
        self.assertIn("dropped", first)
        self.assertIn(503, first)
        self.assertIn(200, first)
        other, _fired = self._trace(12)
        self.assertNotEqual(first, other)

    def test_reset_restarts_the_sequence(self):
        first, _fired = self._trace(3)
        sb = self.start_sandbox(seed=3, done_delay=0, quiet=True)
        sb.set_faults(self.CONFIG)
        sb.reset()  # forgets the faults too
        sb.set_faults(self.CONFIG)
        account = ACCOUNTS["v4"]
        again = []
        for _ in range(30):
            try:
                again.append(
                    self.http.post(
                        f"{sb.url}/possystem/v4/getToken",
                        json={"login": account.login, "pass": account.password},
                        timeout=HTTP_TIMEOUT,
                    ).status_code
                )
            except requests.ConnectionError:
                again.append("dropped")
        self.assertEqual(first, again)


class TestFaultAdmin(SandboxMixin, KkmCase):
    def test_admin_endpoint_sets_and_reads_faults(self):
        config = {
            "drop": {"next": 2, "targets": ["register"]},
            "latency": {"probability": 0.5, "seconds": 0.01},
        }
        answer = self.http.post(f"{self.sb.url}/sandbox/faults", json=config, timeout=HTTP_TIMEOUT)
        self.assertEqual(answer.status_code, 200)
        self.assertEqual(answer.json()["config"]["drop"]["next"], 2)
        token = self.get_token("v4")
        with self.assertRaises(requests.ConnectionError):
            self.register("v4", "sell", sell_body("v4"), token=token)
        state = self.http.get(f"{self.sb.url}/sandbox/faults", timeout=HTTP_TIMEOUT).json()
        self.assertEqual(state["config"]["drop"]["next"], 1)
        self.assertEqual(state["fired"][-1]["target"], "register")
        self.assertIn("drop", state["fired"][-1]["faults"])
        cleared = self.http.post(f"{self.sb.url}/sandbox/faults", json={}, timeout=HTTP_TIMEOUT).json()
        self.assertEqual(cleared["config"], {})
        self.assertEqual(self.register("v4", "sell", sell_body("v4"), token=token).status_code, 200)

    def test_admin_endpoint_refuses_nonsense(self):
        for config in (
            {"explode": {}},
            {"drop": {"probability": 2}},
            {"long_wait": {"targets": ["report"]}},
            [],
        ):
            with self.subTest(config=config):
                answer = self.http.post(f"{self.sb.url}/sandbox/faults", json=config, timeout=HTTP_TIMEOUT)
                self.assertEqual(answer.status_code, 400)

    def test_cli_fault_syntax(self):
        kind, spec = faults_module.parse_cli("lost_answer=0.05,targets=register+complex")
        self.assertEqual(
            (kind, spec), ("lost_answer", {"probability": 0.05, "targets": ["register", "complex"]})
        )
        kind, spec = faults_module.parse_cli("http_5xx=0.1,status=502,body=json,next=3")
        self.assertEqual(spec, {"probability": 0.1, "status": 502, "body": "json", "next": 3})
        self.assertEqual(faults_module.normalize({kind: spec})[kind]["targets"], list(faults_module.TARGETS))
        with self.assertRaises(ValueError):
            faults_module.parse_cli("drop")
