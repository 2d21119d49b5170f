"""The ledger and the admin endpoints (/sandbox/...)."""

from ..sandbox import samples
from .common import KkmCase
from .test_sandbox_common import HTTP_TIMEOUT, SandboxMixin, sell_body


class TestLedger(SandboxMixin, KkmCase):
    def test_rows_and_counts(self):
        token = self.get_token("v5")
        uuid = self.register("v5", "sell", sell_body("v5", "L-1"), token=token).json()["uuid"]
        self.register("v5", "sell", sell_body("v5", "L-1"), token=token)  # 33
        self.register("v5", "sell", sell_body("v5", "L-1"), token=token)  # 33
        self.complex(samples.checkonline_complex("R-1"))
        self.assertTrue(self.sb.wait_settled())
        ledger = self.http.get(f"{self.sb.url}/sandbox/ledger", timeout=HTTP_TIMEOUT).json()
        self.assertEqual(ledger["count"], 2)
        self.assertEqual(ledger["submissions"], 4)
        atol, checkonline = ledger["documents"]
        self.assertEqual(
            {
                key: atol[key]
                for key in (
                    "vendor",
                    "version",
                    "operation",
                    "external_id",
                    "uuid",
                    "status",
                    "total",
                    "submitted",
                )
            },
            {
                "vendor": "atol",
                "version": "v5",
                "operation": "sell",
                "external_id": "L-1",
                "uuid": uuid,
                "status": "done",
                "total": "400.00",
                "submitted": 3,
            },
        )
        self.assertEqual(atol["group"], "v5-online-atol-ru_5179")
        self.assertEqual(checkonline["vendor"], "checkonline")
        self.assertEqual(checkonline["request_id"], "R-1")
        self.assertEqual(checkonline["group"], "GROUP0")
        self.assertEqual(checkonline["submitted"], 1)
        self.assertIn("fiscal_document_number", checkonline["fiscal"])
        self.assertEqual(ledger["duplicates_by_id"], {"count": 0, "ids": []})
        self.assertEqual(ledger["duplicates_by_content"]["count"], 0)

    def test_duplicates_by_content(self):
        token = self.get_token("v4")
        for external_id in ("D-1", "D-2", "D-3"):
            self.register("v4", "sell", sell_body("v4", external_id), token=token)
        other = sell_body("v4", "D-4", email="someone.else@example.com")
        self.register("v4", "sell", other, token=token)
        ledger = self.sb.ledger()
        self.assertEqual(ledger["count"], 4)
        self.assertEqual(ledger["duplicates_by_content"]["count"], 2)  # 3 documents of one receipt
        self.assertEqual(ledger["duplicates_by_content"]["groups"][0]["ids"], ["D-1", "D-2", "D-3"])

    def test_failed_documents_are_not_content_duplicates(self):
        sb = self.start_sandbox(seed=1, done_delay=0, quiet=True)
        sb.set_faults({"fiscal_fail": {"next": 1, "code": 241}})
        first = self.sell("v4", "F-1", sb=sb)
        self.assertEqual(self.wait_final("v4", first, sb=sb)["status"], "fail")
        self.sell("v4", "F-1-attempt-2", sb=sb)  # the correct reaction to a fail
        self.assertTrue(sb.wait_settled())
        self.assertEqual(sb.ledger()["duplicates_by_content"]["count"], 0)

    def test_duplicates_by_id_are_counted(self):
        # Impossible through the API; forced here to prove the counter counts.
        self.sell("v4", "X-1")
        ledger = self.sb.records
        document = next(iter(ledger.documents.values()))
        ledger.by_id[document.id_key].append(document.uuid)
        self.assertEqual(self.sb.ledger()["duplicates_by_id"]["count"], 1)
        self.assertEqual(self.sb.ledger()["duplicates_by_id"]["ids"][0]["id"], "X-1")


class TestAdminEndpoints(SandboxMixin, KkmCase):
    def test_documents_and_reset(self):
        uuid = self.sell("v4", "A-1")
        documents = self.http.get(
            f"{self.sb.url}/sandbox/documents", params={"vendor": "atol"}, timeout=5
        ).json()
        self.assertEqual(len(documents), 1)
        self.assertEqual(documents[0]["request"]["external_id"], "A-1")
        self.assertEqual(self.sb.document(uuid)["uuid"], uuid)
        self.assertEqual(
            self.http.get(f"{self.sb.url}/sandbox/documents?vendor=checkonline", timeout=5).json(), []
        )
        answer = self.http.post(f"{self.sb.url}/sandbox/reset", timeout=HTTP_TIMEOUT)
        self.assertEqual(answer.json(), {"reset": True})
        self.assertEqual(self.sb.ledger()["count"], 0)
        # Tokens are forgotten too, and the external_id is free again.
        self.assertEqual(self.report("v4", uuid).json()["error"]["code"], 30)
        self.assertEqual(self.sell("v4", "A-1"), uuid)  # same seed, same first uuid

    def test_accounts_endpoint(self):
        spec = {"login": "shop", "password": "pw", "group": "shop_1", "inn": "7701234567", "versions": ["v4"]}
        answer = self.http.post(f"{self.sb.url}/sandbox/accounts", json=spec, timeout=HTTP_TIMEOUT)
        self.assertEqual(answer.status_code, 200)
        self.assertIn("shop", [row["login"] for row in answer.json()])
        token = self.http.post(
            f"{self.sb.url}/possystem/v4/getToken", json={"login": "shop", "pass": "pw"}, timeout=HTTP_TIMEOUT
        ).json()["token"]
        body = sell_body("v4")
        body["receipt"]["company"]["inn"] = "7701234567"
        registered = self.register("v4", "sell", body, token=token, group="shop_1")
        self.assertEqual(registered.status_code, 200, registered.text)
        self.assertTrue(self.sb.wait_settled())
        report = self.report("v4", registered.json()["uuid"], token=token, group="shop_1").json()
        self.assertEqual(report["status"], "done")
        self.assertEqual(report["group_code"], "shop_1")
        # A v4-only account is refused on v5.
        refused = self.http.post(
            f"{self.sb.url}/possystem/v5/getToken", json={"login": "shop", "pass": "pw"}, timeout=HTTP_TIMEOUT
        )
        self.assertEqual(refused.json()["error"]["code"], 21)

    def test_config_endpoint(self):
        answer = self.http.post(f"{self.sb.url}/sandbox/config", json={"done_delay": 5}, timeout=HTTP_TIMEOUT)
        self.assertEqual(answer.json()["done_delay"], 5.0)
        uuid = self.sell("v4")
        self.assertEqual(self.report("v4", uuid).json()["error"]["code"], 34)
        self.assertEqual(
            self.http.post(f"{self.sb.url}/sandbox/config", json={"nope": 1}, timeout=5).status_code, 400
        )

    def test_unknown_admin_endpoint(self):
        self.assertEqual(
            self.http.get(f"{self.sb.url}/sandbox/nothing", timeout=HTTP_TIMEOUT).status_code, 404
        )
