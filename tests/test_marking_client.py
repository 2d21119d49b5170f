"""The marking check client alone (vendors/marking): no Odoo, HTTP faked at the transport
boundary, time on a clock the tests move."""

import base64
import json
from dataclasses import replace
from datetime import UTC, datetime

import requests
import responses

from ..vendors import receipt as rd
from ..vendors.atol import AtolConfig, AtolV4Client, AtolV5Client
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
from ..vendors.marking import constants as k
from .common import KkmCase
from .test_vendor_atol import sample_receipt

CDN = "https://cdn.test"
HOSTS = ("https://h1.test", "https://h2.test", "https://h3.test")
LOCAL = "http://lm.test:5995"
NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
CODE = "0104601234567890215abcDEF\x1d93dGVz"
GOOD = {
    "cis": "0104601234567890215abcDEF",
    "valid": True,
    "found": True,
    "utilised": True,
    "verified": True,
    "realizable": True,
    "sold": False,
    "isBlocked": False,
    "expireDate": "2027-06-02T00:00:00.000Z",
    "grayZone": False,
    "errorCode": 0,
    "gtin": "04601234567890",
}


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


class TestMarkingClient(KkmCase):
    def setUp(self):
        super().setUp()
        self.mock = responses.RequestsMock(assert_all_requests_are_fired=False)
        self.mock.start()
        self.addCleanup(self.mock.stop)
        self.addCleanup(self.mock.reset)
        self.clock = Clock()
        self.cache = HostCache(clock=self.clock)
        self.checked = []  # (host, request body) of each codes/check

    # -- helpers -------------------------------------------------------------------------

    def client(self, **settings):
        config = MarkingConfig(**{"cdn_url": CDN, "api_key": "key-1", **settings})
        return MarkingClient(config, hosts=self.cache, now=lambda: NOW)

    def cdn(self, hosts=HOSTS, health=None):
        """The CDN lists ``hosts``; ``health`` maps a host to its health answer (default: code 0,
        the host's position times 10 ms)."""
        self.mock.add(
            responses.GET, CDN + k.CDN_INFO_PATH, json={"code": 0, "hosts": [{"host": h} for h in hosts]}
        )
        for index, host in enumerate(hosts):
            answer = (health or {}).get(host, {"code": 0, "avgTimeMs": 10 * (index + 1)})
            self.mock.add(responses.GET, host + k.HEALTH_PATH, json=answer)

    def host_answers(self, host, entries=None, status=200, delay=0.0, req_id="req-1", stamp=1764331200000):
        """``host`` answers the check: ``entries`` (default: the good answer for every code)."""

        def answer(request):
            body = json.loads(request.body)
            self.checked.append((host, body))
            self.clock.now += delay
            codes = entries if entries is not None else [dict(GOOD) for _code in body["codes"]]
            payload = {"code": 0, "description": "ok", "codes": codes, "reqId": req_id, "reqTimestamp": stamp}
            return status, {}, json.dumps(payload if status == 200 else {"error": "down"})

        self.mock.add_callback(responses.POST, host + k.CODES_CHECK_PATH, callback=answer)

    def lm(self, status="ready", entries=None, inst="inst-1", version="ver-7"):
        self.mock.add(responses.GET, LOCAL + k.LM_STATUS_PATH, json={"status": status})

        def answer(request):
            body = json.loads(request.body)
            codes = entries if entries is not None else [dict(GOOD) for _item in body["cis_list"]]
            result = {
                "code": 0,
                "description": "ok",
                "codes": codes,
                "reqId": "lm-req",
                "reqTimestamp": 1764331200001,
                "inst": inst,
                "version": version,
            }
            return 200, {}, json.dumps({"results": [result]})

        self.mock.add_callback(responses.POST, LOCAL + k.LM_CHECK_PATH, callback=answer)

    # -- the online check ----------------------------------------------------------------

    def test_fastest_healthy_host_answers_with_the_requisite(self):
        self.cdn(health={HOSTS[0]: {"code": 0, "avgTimeMs": 40}, HOSTS[2]: {"code": 1, "avgTimeMs": 1}})
        self.host_answers(HOSTS[1], req_id="8f1d0b0e-uuid", stamp=1710391776278)
        (verdict,) = self.client(fiscal_drive="9999078900004792").check([CODE])
        self.assertEqual(verdict.route, ONLINE)
        self.assertTrue(verdict.allowed)
        self.assertEqual(self.checked[0][0], HOSTS[1])  # h3 is faster but unhealthy
        self.assertEqual(self.checked[0][1], {"codes": [CODE], "fiscalDriveNumber": "9999078900004792"})
        check_call = [call for call in self.mock.calls if k.CODES_CHECK_PATH in call.request.url][0]
        self.assertEqual(check_call.request.headers[k.API_KEY_HEADER], "key-1")
        self.assertEqual(
            verdict.requisite,
            rd.IndustryProp("030", "21.11.2023", "1944", "UUID=8f1d0b0e-uuid&Time=1710391776278"),
        )

    def test_the_host_list_is_kept_for_hours(self):
        self.cdn()
        self.host_answers(HOSTS[0])
        client = self.client()
        client.check([CODE])
        client.check([CODE])
        info = lambda: [c for c in self.mock.calls if k.CDN_INFO_PATH in c.request.url]  # noqa: E731
        self.assertEqual(len(info()), 1)
        self.clock.now += k.HOST_LIST_TTL.total_seconds() + 1
        client.check([CODE])
        self.assertEqual(len(info()), 2)

    def test_a_failing_host_is_skipped_for_a_quarter_of_an_hour(self):
        self.cdn()
        self.host_answers(HOSTS[0], status=503)
        self.host_answers(HOSTS[1])
        client = self.client()
        self.assertTrue(client.check([CODE])[0].allowed)
        self.assertEqual([host for host, _body in self.checked], [HOSTS[0], HOSTS[1]])
        client.check([CODE])
        self.assertEqual(self.checked[-1][0], HOSTS[1])
        self.assertEqual(len(self.checked), 3)
        self.clock.now += k.FAILED_HOST_PAUSE.total_seconds() + 1
        client.check([CODE])
        self.assertEqual(self.checked[-2][0], HOSTS[0])

    def test_an_answer_after_the_time_limit_is_not_taken(self):
        self.cdn()
        self.host_answers(HOSTS[0], delay=k.CHECK_TIME_LIMIT + 0.1)
        self.host_answers(HOSTS[1])
        with self.assertRaisesRegex(MarkingUnavailable, "in time"):
            self.client().check([CODE])
        # The law's limit is spent: the next host is not asked within the same check.
        self.assertEqual([host for host, _body in self.checked], [HOSTS[0]])
        self.assertEqual(self.cache.usable(HOSTS), list(HOSTS[1:]))

    def test_a_timeout_fails_over_to_the_next_host_within_the_limit(self):
        self.cdn()
        self.mock.add(
            responses.POST, HOSTS[0] + k.CODES_CHECK_PATH, body=requests.exceptions.ReadTimeout("slow")
        )
        self.host_answers(HOSTS[1])
        self.assertTrue(self.client().check([CODE])[0].allowed)

    def test_codes_go_a_hundred_per_request(self):
        self.cdn(hosts=HOSTS[:1])
        self.host_answers(HOSTS[0])
        codes = [f"01046012345678902100000{number:05d}" for number in range(250)]
        verdicts = self.client().check(codes)
        self.assertEqual([len(body["codes"]) for _host, body in self.checked], [100, 100, 50])
        self.assertEqual([verdict.code for verdict in verdicts], codes)

    def test_each_refusal_rule(self):
        cases = [
            ({"valid": False}, "invalid"),
            ({"found": False}, "not_found"),
            ({"utilised": False}, "not_utilised"),
            ({"verified": False}, "not_verified"),
            ({"sold": True}, "sold"),
            ({"realizable": False}, "not_realizable"),
            ({"isBlocked": True}, "blocked"),
            ({"expireDate": "2026-11-27T00:00:00.000Z"}, "expired"),
            ({"grayZone": True}, "gray_zone"),
            ({"errorCode": 5}, "check_error"),
        ]
        self.assertEqual(sorted(reason for _change, reason in cases), sorted(k.REASONS))
        self.cdn(hosts=HOSTS[:1])
        self.host_answers(HOSTS[0], entries=[dict(GOOD, **change) for change, _reason in cases])
        verdicts = self.client().check([f"{CODE}{index}" for index in range(len(cases))])
        for verdict, (change, reason) in zip(verdicts, cases, strict=True):
            self.assertEqual(verdict.reasons, (reason,), change)
            self.assertFalse(verdict.allowed)
            self.assertIsNone(verdict.requisite)

    def test_every_reason_is_kept(self):
        self.cdn(hosts=HOSTS[:1])
        self.host_answers(HOSTS[0], entries=[dict(GOOD, sold=True, isBlocked=True)])
        self.assertEqual(self.client().check([CODE])[0].reasons, ("sold", "blocked"))

    def test_an_answer_missing_a_rule_field_is_never_a_sale(self):
        entry = dict(GOOD)
        del entry["isBlocked"]
        self.cdn(hosts=HOSTS[:1])
        self.host_answers(HOSTS[0], entries=[entry])
        with self.assertRaisesRegex(MarkingUnavailable, "isBlocked"):
            self.client().check([CODE])
        with self.assertRaisesRegex(MarkingUnavailable, "no check host"):
            self.client().check([CODE])  # the host that answered nonsense is skipped

    def test_wrong_count_or_stamp_is_unreadable(self):
        for entries, stamp in (([GOOD, GOOD], 1), ([GOOD], None)):
            self.mock.reset()
            self.cache.clear()
            self.cdn(hosts=HOSTS[:1])
            self.host_answers(HOSTS[0], entries=entries, stamp=stamp)
            with self.assertRaises(MarkingUnavailable):
                self.client().check([CODE])

    def test_a_refused_key_is_for_an_administrator(self):
        self.mock.add(responses.GET, CDN + k.CDN_INFO_PATH, status=401, json={"error": "unauthorized"})
        with self.assertRaises(MarkingAccessDenied):
            self.client(fallback="emergency").check([CODE])

    def test_a_refused_request_is_no_answer(self):
        self.cdn(hosts=HOSTS[:1])
        self.mock.add(
            responses.POST, HOSTS[0] + k.CODES_CHECK_PATH, json={"code": 2, "description": "bad codes"}
        )
        with self.assertRaisesRegex(MarkingUnavailable, "bad codes"):
            self.client().check([CODE])

    # -- the local module and ТС ПИоТ ----------------------------------------------------

    def test_offline_fallback_names_the_module(self):
        self.cdn(hosts=HOSTS[:1])
        self.host_answers(HOSTS[0], status=500)
        self.lm()
        (verdict,) = self.client(
            fallback="local", local_url=LOCAL, local_login="admin", local_password="pw"
        ).check([CODE])
        self.assertEqual(verdict.route, OFFLINE)
        self.assertEqual(verdict.requisite.value, "UUID=lm-req&Time=1764331200001&Inst=inst-1&Ver=ver-7")
        out_check = [c for c in self.mock.calls if k.LM_CHECK_PATH in c.request.url][0]
        self.assertEqual(json.loads(out_check.request.body), {"cis_list": [{"cis": CODE}]})
        self.assertTrue(out_check.request.headers["Authorization"].startswith("Basic "))

    def test_offline_answers_decide_on_blocked_and_sold_only(self):
        self.lm(
            entries=[
                dict(GOOD, found=False, valid=False, realizable=False, utilised=False, verified=False),
                dict(GOOD, isBlocked=True),
                dict(GOOD, sold=True),
            ]
        )
        verdicts = self.client(route="local", local_url=LOCAL).check(["c1", "c2", "c3"])
        self.assertEqual([v.reasons for v in verdicts], [(), ("blocked",), ("sold",)])
        self.assertFalse([c for c in self.mock.calls if k.CDN_INFO_PATH in c.request.url])

    def test_a_module_not_ready_leaves_the_sale_to_the_fallback(self):
        self.lm(status="initialization")
        with self.assertRaisesRegex(MarkingUnavailable, "not ready"):
            self.client(route="local", local_url=LOCAL).check([CODE])
        verdicts = self.client(route="local", local_url=LOCAL, fallback="emergency").check([CODE])
        self.assertEqual(verdicts[0].route, EMERGENCY)
        self.assertTrue(verdicts[0].allowed)
        self.assertIsNone(verdicts[0].requisite)

    def test_offline_answer_without_instance_is_unreadable(self):
        self.lm(inst="")
        with self.assertRaisesRegex(MarkingUnavailable, "inst"):
            self.client(route="local", local_url=LOCAL).check([CODE])

    def test_tspiot_online_and_offline_answers(self):
        def answer(request):
            body = json.loads(request.body)
            self.checked.append(body)
            offline = len(self.checked) > 1
            result = {
                "code": 0,
                "codes": [dict(GOOD)],
                "reqId": "ts-req",
                "reqTimestamp": "1764331200002",
                "isCheckedOffline": offline,
                "inst": "ts-inst",
                "version": "ts-ver",
            }
            return 200, {}, json.dumps({"codesResponse": [result]})

        self.mock.add_callback(responses.POST, LOCAL + k.TSPIOT_CHECK_PATH, callback=answer)
        client = self.client(route="local", local_url=LOCAL, local_api="tspiot")
        online, offline = client.check([CODE])[0], client.check([CODE])[0]
        self.assertEqual(self.checked[0]["codes"], [{"cis": base64.b64encode(CODE.encode()).decode()}])
        self.assertEqual(online.requisite.value, "UUID=ts-req&Time=1764331200002")
        self.assertEqual(offline.requisite.value, "UUID=ts-req&Time=1764331200002&Inst=ts-inst&Ver=ts-ver")

    def test_tspiot_emergency_mode(self):
        self.mock.add(responses.POST, LOCAL + k.TSPIOT_CHECK_PATH, status=203, json={})
        verdicts = self.client(route="local", local_url=LOCAL, local_api="tspiot").check([CODE, "c2"])
        self.assertEqual([(v.route, v.allowed, v.requisite) for v in verdicts], [(EMERGENCY, True, None)] * 2)

    # -- the policy --------------------------------------------------------------------------

    def test_nothing_answers(self):
        self.mock.add(responses.GET, CDN + k.CDN_INFO_PATH, status=502, body="<html>")
        with self.assertRaisesRegex(MarkingUnavailable, "HTTP 502"):
            self.client().check([CODE])
        self.mock.add(
            responses.GET, LOCAL + k.LM_STATUS_PATH, body=requests.exceptions.ConnectionError("refused")
        )
        with self.assertRaises(MarkingUnavailable):
            self.client(fallback="local", local_url=LOCAL).check([CODE])
        verdicts = self.client(fallback="emergency").check([CODE])
        self.assertEqual(verdicts[0].route, EMERGENCY)
        self.assertEqual(self.client().check([]), ())

    def test_missing_settings(self):
        self.assertEqual(MarkingConfig().missing(), ("api_key",))
        self.assertEqual(MarkingConfig(api_key="k", fallback="local").missing(), ("local_url",))
        self.assertEqual(MarkingConfig(route="local", local_url=LOCAL).missing(), ())
        self.assertEqual(MarkingConfig(test_mode=False).cdn_root, k.CDN_URLS[False])
        self.assertEqual(MarkingConfig(cdn_url="http://x/").cdn_root, "http://x")

    def test_check_connection(self):
        self.cdn(health={HOSTS[0]: {"code": 0, "avgTimeMs": 50}})
        self.mock.add(responses.GET, LOCAL + k.LM_STATUS_PATH, json={"status": "sync_error"})
        parts = self.client(fallback="local", local_url=LOCAL).check_connection()
        self.assertEqual(parts[0], ("online", True, [HOSTS[1], HOSTS[2], HOSTS[0]]))
        self.assertEqual(parts[1][:2], ("local", False))

    # -- the receipt --------------------------------------------------------------------------

    def test_v5_items_carry_their_own_requisite(self):
        prop = rd.IndustryProp(k.FEDERAL_ID, k.DOCUMENT_DATE, k.DOCUMENT_NUMBER, "UUID=a&Time=1")
        receipt = sample_receipt()
        item = replace(receipt.items[0], marked=True, mark_code=CODE, industry_props=(prop,))
        receipt = replace(receipt, items=(item,))
        v5 = AtolV5Client(AtolConfig("l", "p", "g")).build_payload(receipt)["receipt"]["items"][0]
        self.assertEqual(
            v5["sectoral_item_props"],
            [{"federal_id": "030", "date": "21.11.2023", "number": "1944", "value": "UUID=a&Time=1"}],
        )
        self.assertTrue(AtolV5Client.industry_props)
        self.assertFalse(AtolV4Client.industry_props)
        # A payment of credit is no sale of goods: it carries no check.
        paid = rd.credit_payment(receipt, lambda name: name)
        self.assertEqual(paid.items[0].industry_props, ())
