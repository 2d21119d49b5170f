"""ATOL Online v4/v5 emulation: tokens, operations, wait -> done, fail, 33, callbacks."""

import json
import logging
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from ..sandbox import atol_errors
from .common import KkmCase
from .test_sandbox_common import ACCOUNTS, HTTP_TIMEOUT, SandboxMixin, body_for, sell_body

V4_OPERATIONS = ("sell", "sell_refund", "sell_correction", "buy", "buy_refund", "buy_correction")
V5_OPERATIONS = V4_OPERATIONS + ("sell_refund_correction", "buy_refund_correction")


class TestAtolToken(SandboxMixin, KkmCase):
    def test_get_token_post_and_get(self):
        for version, account in ACCOUNTS.items():
            with self.subTest(version=version):
                posted = self.http.post(
                    f"{self.sb.url}/possystem/{version}/getToken",
                    json={"login": account.login, "pass": account.password, "source": "odoo"},
                    timeout=HTTP_TIMEOUT,
                )
                self.assertEqual(posted.status_code, 200)
                body = posted.json()
                self.assertIsNone(body["error"])
                self.assertRegex(body["timestamp"], r"^\d\d\.\d\d\.\d{4} \d\d:\d\d:\d\d$")
                self.assertTrue(0 < len(body["token"]) <= 1000)
                got = self.http.get(
                    f"{self.sb.url}/possystem/{version}/getToken",
                    params={"login": account.login, "pass": account.password},
                    timeout=HTTP_TIMEOUT,
                )
                self.assertEqual(got.status_code, 200)
                # §6.1: a repeated getToken within 24 h may return the token already issued.
                self.assertEqual(got.json()["token"], body["token"])

    def test_wrong_credentials_is_12_with_401(self):
        answer = self.http.post(
            f"{self.sb.url}/possystem/v4/getToken",
            json={"login": "v4-online-atol-ru", "pass": "wrong"},
            timeout=HTTP_TIMEOUT,
        )
        self.assertEqual(answer.status_code, 401)
        error = answer.json()["error"]
        self.assertEqual(error["code"], 12)
        self.assertEqual(error["type"], "system")
        self.assertRegex(error["error_id"], r"^[0-9a-f-]{36}$")
        self.assertEqual(error["text"], "Неверный логин или пароль")

    def test_group_of_other_version_is_21(self):
        # A v4-only group answers v5 getToken with 21, and a v5-only group v4 getToken.
        for url_version, account in (("v5", ACCOUNTS["v4"]), ("v4", ACCOUNTS["v5"])):
            with self.subTest(url_version=url_version):
                answer = self.http.post(
                    f"{self.sb.url}/possystem/{url_version}/getToken",
                    json={"login": account.login, "pass": account.password},
                    timeout=HTTP_TIMEOUT,
                )
                self.assertEqual(answer.status_code, 401)
                self.assertEqual(answer.json()["error"]["code"], 21)

    def test_token_request_without_login_is_13(self):
        answer = self.http.post(
            f"{self.sb.url}/possystem/v4/getToken", json={"pass": "x"}, timeout=HTTP_TIMEOUT
        )
        self.assertEqual(answer.status_code, 400)
        self.assertEqual(answer.json()["error"]["code"], 13)
        self.assertIn("login", answer.json()["error"]["text"])

    def test_missing_and_unknown_token_is_10(self):
        group = ACCOUNTS["v4"].group
        for headers in ({}, {"Token": "not-a-token"}):
            with self.subTest(headers=headers):
                answer = self.http.post(
                    f"{self.sb.url}/possystem/v4/{group}/sell",
                    json=sell_body("v4"),
                    headers=headers,
                    timeout=5,
                )
                self.assertEqual(answer.status_code, 401)
                self.assertEqual(answer.json()["error"]["code"], 10)
        self.assertEqual(self.sb.ledger()["count"], 0)

    def test_token_in_query_string(self):
        token = self.get_token("v4")
        group = ACCOUNTS["v4"].group
        answer = self.http.post(
            f"{self.sb.url}/possystem/v4/{group}/sell",
            params={"token": token},
            json=sell_body("v4"),
            timeout=5,
        )
        self.assertEqual(answer.status_code, 200, answer.text)

    def test_token_expires_after_ttl(self):
        sb = self.start_sandbox(seed=1, done_delay=0, token_ttl=0.3, quiet=True)
        token = self.get_token("v4", sb=sb)
        first = self.register("v4", "sell", sell_body("v4", "a"), token=token, sb=sb)
        self.assertEqual(first.status_code, 200)
        time.sleep(0.35)
        expired = self.register("v4", "sell", sell_body("v4", "b"), token=token, sb=sb)
        self.assertEqual(expired.status_code, 401)
        self.assertEqual(expired.json()["error"]["code"], 11)
        fresh = self.get_token("v4", sb=sb)
        self.assertNotEqual(fresh, token)
        self.assertEqual(
            self.register("v4", "sell", sell_body("v4", "b"), token=fresh, sb=sb).status_code, 200
        )

    def test_forced_expiry_by_admin_endpoint_and_api(self):
        token = self.get_token("v5")
        answer = self.http.post(f"{self.sb.url}/sandbox/expire-tokens", timeout=HTTP_TIMEOUT)
        self.assertEqual(answer.status_code, 200)
        self.assertEqual(answer.json()["expired"], 1)
        report = self.report("v5", "00000000-0000-4000-8000-000000000000", token=token)
        self.assertEqual(report.status_code, 401)
        self.assertEqual(report.json()["error"]["code"], 11)
        token = self.get_token("v5")
        self.assertEqual(self.sb.expire_tokens(), 2)
        self.assertEqual(
            self.register("v5", "sell", sell_body("v5"), token=token).json()["error"]["code"], 11
        )

    def test_group_not_of_the_token_is_20(self):
        token = self.get_token("v4")
        answer = self.register("v4", "sell", sell_body("v4"), token=token, group=ACCOUNTS["v5"].group)
        self.assertEqual(answer.status_code, 401)
        self.assertEqual(answer.json()["error"]["code"], 20)

    def test_v4_group_on_v5_url_is_21(self):
        token = self.get_token("v4")
        answer = self.register("v5", "sell", sell_body("v5"), token=token, group=ACCOUNTS["v4"].group)
        self.assertEqual(answer.status_code, 401)
        self.assertEqual(answer.json()["error"]["code"], 21)

    def test_added_account(self):
        self.sb.add_account("both", "secret", "both_1", "7701234567", versions=("v4", "v5"))
        for version in ("v4", "v5"):
            answer = self.http.post(
                f"{self.sb.url}/possystem/{version}/getToken",
                json={"login": "both", "pass": "secret"},
                timeout=5,
            )
            self.assertEqual(answer.status_code, 200)
        listed = self.http.get(f"{self.sb.url}/sandbox/accounts", timeout=5).json()
        self.assertIn("both", [account["login"] for account in listed])
        self.assertNotIn("secret", json.dumps(listed))


class TestAtolDocuments(SandboxMixin, KkmCase):
    def _check_payload(self, payload, total):
        self.assertEqual(payload["total"], total)
        self.assertRegex(payload["fn_number"], r"^\d{16}$")
        self.assertRegex(payload["ecr_registration_number"], r"^\d{16}$")
        self.assertIsInstance(payload["fiscal_document_attribute"], int)
        self.assertRegex(str(payload["fiscal_document_attribute"]), r"^\d{10}$")
        self.assertIsInstance(payload["fiscal_document_number"], int)
        self.assertIsInstance(payload["fiscal_receipt_number"], int)
        self.assertIsInstance(payload["shift_number"], int)
        self.assertRegex(payload["receipt_datetime"], r"^\d\d\.\d\d\.\d{4} \d\d:\d\d:00$")
        self.assertEqual(payload["fns_site"], "www.nalog.ru")
        self.assertEqual(payload["ofd_inn"], "7709364346")
        url = payload["ofd_receipt_url"]
        self.assertIn(f"fn={payload['fn_number']}", url)
        self.assertIn(f"fp={payload['fiscal_document_attribute']}", url)
        self.assertIn(f"i={payload['fiscal_document_number']}", url)

    def test_every_operation_of_both_versions(self):
        for version, operations in (("v4", V4_OPERATIONS), ("v5", V5_OPERATIONS)):
            token = self.get_token(version)
            for operation in operations:
                with self.subTest(version=version, operation=operation):
                    body = body_for(version, operation, f"{operation}-1")
                    answer = self.register(version, operation, body, token=token)
                    self.assertEqual(answer.status_code, 200, answer.text)
                    registered = answer.json()
                    self.assertEqual(registered["status"], "wait")
                    self.assertIsNone(registered["error"])
                    report = self.wait_final(version, registered["uuid"])
                    self.assertEqual(report["status"], "done", report)
                    self.assertEqual(report["external_id"], f"{operation}-1")
                    self.assertEqual(report["group_code"], ACCOUNTS[version].group)
                    self.assertTrue(report["device_code"])
                    total = 2000 if operation.endswith("_correction") else 400
                    self._check_payload(report["payload"], total)
        ledger = self.sb.ledger()
        self.assertEqual(ledger["count"], len(V4_OPERATIONS) + len(V5_OPERATIONS))
        self.assertEqual(ledger["by_status"], {"done": ledger["count"]})

    def test_unknown_operation_is_31(self):
        for version, operation in (("v4", "sell_refund_correction"), ("v5", "sale")):
            with self.subTest(version=version, operation=operation):
                answer = self.register(version, operation, sell_body(version))
                self.assertEqual(answer.status_code, 400)
                self.assertEqual(answer.json()["error"]["code"], 31)
                self.assertIn(operation, answer.json()["error"]["text"])

    def test_wait_then_done(self):
        sb = self.start_sandbox(seed=1, done_delay=0.3, quiet=True)
        uuid = self.sell("v5", sb=sb)
        answer = self.report("v5", uuid, sb=sb)
        # §6.3: still processing -> HTTP 200, code 34, status wait, no uuid or payload.
        self.assertEqual(answer.status_code, 200)
        body = answer.json()
        self.assertEqual(body["status"], "wait")
        self.assertEqual(body["error"]["code"], 34)
        self.assertNotIn("payload", body)
        self.assertIn("callback_url", body)
        final = self.wait_final("v5", uuid, sb=sb)
        self.assertEqual(final["status"], "done")
        self._check_payload(final["payload"], 400)

    def test_counters_grow_per_group(self):
        payloads = [self.wait_final("v4", self.sell("v4", f"c-{n}"))["payload"] for n in range(3)]
        self.assertEqual(len({payload["fn_number"] for payload in payloads}), 1)
        numbers = [payload["fiscal_document_number"] for payload in payloads]
        self.assertEqual(numbers, list(range(numbers[0], numbers[0] + 3)))
        receipts = [payload["fiscal_receipt_number"] for payload in payloads]
        self.assertEqual(receipts, [1, 2, 3])
        self.assertEqual(len({payload["shift_number"] for payload in payloads}), 1)
        other = self.wait_final("v5", self.sell("v5", "c-0"))["payload"]
        self.assertNotEqual(other["fn_number"], payloads[0]["fn_number"])
        self.assertEqual(other["fiscal_receipt_number"], 1)

    def test_report_of_unknown_uuid_is_30(self):
        uuid = self.sell("v4")
        for version, wanted in (("v4", "11111111-2222-4333-8444-555555555555"), ("v5", uuid)):
            with self.subTest(version=version):
                # The v4 document is unknown in the v5 group too.
                answer = self.report(version, wanted)
                self.assertEqual(answer.status_code, 400)
                body = answer.json()
                self.assertEqual(body["error"]["code"], 30)
                self.assertEqual(body["status"], "fail")
                self.assertIn(wanted, body["error"]["text"])

    def test_repeated_external_id_is_33_with_existing_uuid(self):
        token = self.get_token("v4")
        first = self.register("v4", "sell", sell_body("v4", "dup-1"), token=token).json()
        self.assertEqual(self.wait_final("v4", first["uuid"])["status"], "done")
        again = self.register("v4", "sell_refund", sell_body("v4", "dup-1"), token=token)
        self.assertEqual(again.status_code, 400)
        body = again.json()
        self.assertEqual(body["error"]["code"], 33)
        self.assertEqual(body["uuid"], first["uuid"])
        self.assertEqual(body["status"], "wait")  # §8.1: IncomingExternalIdAlreadyExists -> Wait
        self.assertIn("dup-1", body["error"]["text"])
        self.assertIn(ACCOUNTS["v4"].group, body["error"]["text"])
        # The same external_id in another group is another document.
        self.assertEqual(self.register("v5", "sell", sell_body("v5", "dup-1")).status_code, 200)
        ledger = self.sb.ledger()
        self.assertEqual(ledger["count"], 2)
        row = next(row for row in ledger["documents"] if row["version"] == "v4")
        self.assertEqual(row["submitted"], 2)
        self.assertEqual(ledger["duplicates_by_id"]["count"], 0)

    def test_fail_share_ends_in_driver_error(self):
        sb = self.start_sandbox(seed=3, done_delay=0, fail_share=1.0, quiet=True)
        uuid = self.sell("v5", sb=sb)
        report = self.wait_final("v5", uuid, sb=sb)
        self.assertEqual(report["status"], "fail")
        self.assertIsNone(report["payload"])
        self.assertEqual(report["error"]["type"], "driver")
        self.assertIn(report["error"]["code"], atol_errors.DEVICE_FAILURES)
        self.assertEqual(report["error"]["text"], atol_errors.DEVICE_FAILURES[report["error"]["code"]][1])
        # The failed document keeps its external_id: resending it answers 33.
        again = self.register("v5", "sell", sell_body("v5"), sb=sb)
        self.assertEqual(again.json()["error"]["code"], 33)
        self.assertEqual(again.json()["uuid"], uuid)

    def test_fail_share_is_reproducible_with_a_seed(self):
        def outcomes(seed):
            sb = self.start_sandbox(seed=seed, done_delay=0, fail_share=0.5, quiet=True)
            uuids = [self.sell("v4", f"r-{n}", sb=sb) for n in range(16)]
            return [self.wait_final("v4", uuid, sb=sb)["status"] for uuid in uuids]

        first = outcomes(7)
        self.assertEqual(first, outcomes(7))
        self.assertIn("done", first)
        self.assertIn("fail", first)

    def test_company_inn_other_than_the_account_fails_2003(self):
        body = sell_body("v4")
        body["receipt"]["company"]["inn"] = "7701234567"
        answer = self.register("v4", "sell", body)
        self.assertEqual(answer.status_code, 200)  # v4 Табл.7: checked on the cash register
        report = self.wait_final("v4", answer.json()["uuid"])
        self.assertEqual(report["status"], "fail")
        self.assertEqual(report["error"]["code"], 2003)
        self.assertEqual(report["error"]["type"], "agent")

    def test_logs_one_line_without_secrets(self):
        # A number, not "INFO": Odoo renames its levels when it is loaded.
        with self.assertLogs("kkm_sandbox", level=logging.INFO) as captured:
            token = self.get_token("v4")
            self.register("v4", "sell", sell_body("v4"), token=token)
            self.http.get(
                f"{self.sb.url}/possystem/v4/getToken",
                params={"login": ACCOUNTS["v4"].login, "pass": ACCOUNTS["v4"].password},
                timeout=HTTP_TIMEOUT,
            )
        text = "\n".join(captured.output)
        self.assertEqual(len(captured.output), 3)
        self.assertNotIn(token, text)
        self.assertNotIn(ACCOUNTS["v4"].password, text)
        self.assertRegex(captured.output[1], r"POST /possystem/v4/\S+/sell 200 registered")


class _CallbackReceiver:
    """A tiny HTTP server that records the POSTs it receives."""

    def __init__(self):
        received = self.received = []
        self.event = threading.Event()
        event = self.event

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                received.append(
                    (self.path, self.headers.get("Content-Type"), json.loads(self.rfile.read(length)))
                )
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()
                event.set()

            def log_message(self, format, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def wait(self, count, timeout=3.0):
        deadline = time.monotonic() + timeout
        while len(self.received) < count and time.monotonic() < deadline:
            time.sleep(0.01)
        return len(self.received) >= count

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class TestAtolCallback(SandboxMixin, KkmCase):
    def setUp(self):
        super().setUp()
        self.receiver = _CallbackReceiver()
        self.addCleanup(self.receiver.close)

    def test_callback_posts_the_report_body(self):
        for version in ("v4", "v5"):
            body = sell_body(version, f"cb-{version}")
            body["service"] = {"callback_url": f"{self.receiver.url}/kkm/callback?token=abc"}
            answer = self.register(version, "sell", body)
            self.assertEqual(answer.status_code, 200, answer.text)
        self.assertTrue(self.receiver.wait(2))
        self.assertTrue(self.sb.wait_settled())
        by_id = {
            payload["external_id"]: (path, ctype, payload) for path, ctype, payload in self.receiver.received
        }
        for version in ("v4", "v5"):
            path, content_type, payload = by_id[f"cb-{version}"]
            self.assertEqual(path, "/kkm/callback?token=abc")
            self.assertTrue(content_type.startswith("application/json"))
            self.assertEqual(payload["status"], "done")
            self.assertEqual(payload, self.report(version, payload["uuid"]).json())
        rows = self.sb.ledger()["documents"]
        self.assertEqual({row["callback"] for row in rows}, {"sent 200"})

    def test_callback_after_fail(self):
        sb = self.start_sandbox(seed=1, done_delay=0, fail_share=1.0, quiet=True)
        body = sell_body("v4", "cb-fail")
        body["service"] = {"callback_url": f"{self.receiver.url}/cb"}
        self.register("v4", "sell", body, sb=sb)
        self.assertTrue(self.receiver.wait(1))
        self.assertEqual(self.receiver.received[0][2]["status"], "fail")
        self.assertEqual(self.receiver.received[0][2]["error"]["type"], "driver")

    def test_v4_callback_url_outside_the_mask_is_a_warning(self):
        body = sell_body("v4", "cb-bad")
        body["service"] = {"callback_url": "ftp://shop.example.com/cb"}
        answer = self.register("v4", "sell", body)
        self.assertEqual(answer.status_code, 200)
        report = self.wait_final("v4", answer.json()["uuid"])
        self.assertEqual(report["warnings"], {"callback_url": "callback_url не соответствует маске"})
        self.assertTrue(self.sb.wait_settled())
        self.assertEqual(self.sb.ledger()["documents"][0]["callback"], "not sent: mask")
        self.assertEqual(self.receiver.received, [])

    def test_unreachable_callback_is_ignored(self):
        body = sell_body("v5", "cb-down")
        body["service"] = {"callback_url": "http://127.0.0.1:9/cb"}
        uuid = self.register("v5", "sell", body).json()["uuid"]
        self.assertTrue(self.sb.wait_settled())
        self.assertTrue(re.match(r"^error: ", self.sb.ledger()["documents"][0]["callback"]))
        self.assertEqual(self.report("v5", uuid).json()["status"], "done")
