"""The sandbox's marking check (sandbox/marking.py) asked by the module's own client over
loopback: hosts, health, the check's answers, slow and failing hosts, the local module, ТС ПИоТ."""

from ..sandbox.server import Sandbox
from ..vendors.marking import (
    EMERGENCY,
    OFFLINE,
    ONLINE,
    HostCache,
    MarkingAccessDenied,
    MarkingClient,
    MarkingConfig,
    MarkingUnavailable,
)
from .common import KkmCase

GTIN = "04601234567890"


def code(serial):
    return f"01{GTIN}21{serial}\x1d93dGVz"


class TestSandboxMarking(KkmCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.sandbox = Sandbox(seed=3, done_delay=0, quiet=True).start()
        cls.addClassCleanup(cls.sandbox.stop)

    def setUp(self):
        super().setUp()
        self.sandbox.reset()
        self.hosts = HostCache()

    def client(self, **settings):
        values = {
            "cdn_url": f"{self.sandbox.url}/marking",
            "api_key": "sandbox-marking-key",
            "local_url": f"{self.sandbox.url}/localmodule",
            "local_login": "admin",
            "local_password": "admin",
            **settings,
        }
        return MarkingClient(MarkingConfig(**values), hosts=self.hosts)

    def test_the_fastest_healthy_host_checks_every_state(self):
        serials = ["GOOD1", "SOLD1", "BLOCKED1", "EXPIRED1", "UNKNOWN1", "INVALID1", "GRAY1", "NOTREAL1"]
        verdicts = self.client().check([code(serial) for serial in serials])
        self.assertEqual(
            [verdict.reasons for verdict in verdicts],
            [
                (),
                ("sold",),
                ("blocked",),
                ("expired",),
                ("not_found", "not_verified", "not_utilised", "not_realizable"),
                ("invalid", "not_verified"),
                ("gray_zone",),
                ("not_realizable",),
            ],
        )
        (check,) = self.sandbox.marking.checks()
        self.assertEqual(check["where"], "online cdn02")  # cdn03 is faster, but unhealthy
        self.assertEqual(verdicts[0].route, ONLINE)
        self.assertEqual(verdicts[0].requisite.value, f"UUID={check['reqId']}&Time={check['reqTimestamp']}")

    def test_a_code_set_by_the_test(self):
        self.sandbox.marking.set_code(code("X1"), isBlocked=True)
        self.assertEqual(self.client().check([code("X1")])[0].reasons, ("blocked",))

    def test_a_host_down_and_a_slow_host(self):
        self.sandbox.marking.configure(hosts={"cdn02": {"down": True}})
        self.assertTrue(self.client().check([code("A")])[0].allowed)
        self.assertEqual(self.sandbox.marking.checks()[-1]["where"], "online cdn01")
        self.hosts.clear()
        self.sandbox.marking.configure(hosts={"cdn02": {"down": False}})
        self.sandbox.set_faults({"latency": {"next": 1, "seconds": 1.7, "targets": ["mark_check"]}})
        with self.assertRaisesRegex(MarkingUnavailable, "in time"):
            self.client().check([code("B")])

    def test_wrong_key(self):
        with self.assertRaises(MarkingAccessDenied):
            self.client(api_key="wrong").check([code("A")])

    def test_local_module_offline_and_not_ready(self):
        self.sandbox.set_faults({"http_5xx": {"next": 1, "status": 502, "targets": ["mark_info"]}})
        (verdict,) = self.client(fallback="local").check([code("C")])
        self.assertEqual(verdict.route, OFFLINE)
        self.assertTrue(verdict.requisite.value.endswith("&Inst=sandbox-lm-1&Ver=sandbox-base-7"))
        self.sandbox.marking.configure(local_status="initialization")
        with self.assertRaisesRegex(MarkingUnavailable, "not ready"):
            self.client(route="local").check([code("C")])
        with self.assertRaises(MarkingAccessDenied):
            self.client(route="local", local_password="wrong").check([code("C")])

    def test_tspiot(self):
        tspiot = {"route": "local", "local_api": "tspiot", "local_url": f"{self.sandbox.url}/tspiot"}
        self.assertEqual(self.client(**tspiot).check([code("D")])[0].route, ONLINE)
        self.sandbox.marking.configure(tspiot_offline=True)
        self.assertEqual(self.client(**tspiot).check([code("D")])[0].route, OFFLINE)
        self.sandbox.marking.configure(tspiot_emergency=True)
        self.assertEqual(self.client(**tspiot).check([code("D")])[0].route, EMERGENCY)
        self.assertEqual(self.client(**tspiot).check_connection(), [("local", True, "reachable")])
