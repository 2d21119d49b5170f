from odoo.tests import HttpCase, tagged

from odoo.addons.queue_job.job import Job

from .common import KkmTestCommon


@tagged("post_install", "-at_install")
class TestCallback(KkmTestCommon, HttpCase):
    def setUp(self):
        super().setUp()
        self.company.l10n_ru_kkm_callback = True
        self.atol.token_ok()
        self.atol.register_ok(uuid="uuid-cb")
        self.receipt = self.post_invoice().l10n_ru_kkm_receipt_ids
        self.receipt._l10n_ru_kkm_send()
        self.assertEqual(self.receipt.state, "sent")

    def _report_jobs(self):
        jobs = self.env["queue.job"].sudo().search([("method_name", "=", "_l10n_ru_kkm_job_fetch_report")])
        return jobs.filtered(lambda job: job.records.ids == self.receipt.ids)

    def _post(self, path):
        # A forged body: the endpoint must never take its word.
        return self.url_open(
            path,
            data='{"status": "done", "payload": {"fn_number": "forged"}}',
            headers={"Content-Type": "application/json"},
        )

    def test_callback_url_is_in_the_frozen_request(self):
        url = self.receipt.request_payload["service"]["callback_url"]
        self.assertEqual(url, self.receipt._l10n_ru_kkm_callback_url())
        self.assertRegex(url, rf"/l10n_ru_kkm/callback/{self.receipt.external_id}/[0-9a-f]{{64}}$")

    def test_wrong_token_is_not_found_and_changes_nothing(self):
        response = self._post(f"/l10n_ru_kkm/callback/{self.receipt.external_id}/{'0' * 64}")
        self.assertEqual(response.status_code, 404)
        # A valid token of this receipt does not open another one.
        response = self._post(
            f"/l10n_ru_kkm/callback/{'f' * 32}/{self.receipt._l10n_ru_kkm_callback_token()}"
        )
        self.assertEqual(response.status_code, 404)
        self.assertEqual(self.receipt.state, "sent")
        self.assertFalse(self._report_jobs())
        self.assertFalse(self.receipt.attempt_ids.filtered(lambda a: a.action == "callback"))

    def test_good_token_queues_one_status_request_and_ignores_the_body(self):
        path = self.receipt._l10n_ru_kkm_callback_url().split("/", 3)[3]
        for _ in range(3):
            response = self._post(f"/{path}")
            self.assertEqual(response.status_code, 200)
            self.assertEqual(response.json(), {"result": "ok"})
        self.assertEqual(len(self._report_jobs()), 1, "repeated callbacks queue one status request")
        self.receipt.invalidate_recordset()
        self.assertEqual(self.receipt.state, "sent")
        self.assertFalse(self.receipt.fn_number, "the body is not trusted")
        self.assertEqual(len(self.receipt.attempt_ids.filtered(lambda a: a.action == "callback")), 3)
        self.atol.report_done(uuid="uuid-cb")
        Job.load(self.env, self._report_jobs().uuid).perform()
        self.assertEqual(self.receipt.state, "done")
