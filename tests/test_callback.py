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

    def test_callback_url_is_sent_but_never_kept_where_receipt_readers_see_it(self):
        sent = self.atol.registered[0]
        url = sent["service"]["callback_url"]
        self.assertEqual(url, self.receipt._l10n_ru_kkm_callback_url())
        self.assertRegex(url, rf"/l10n_ru_kkm/callback/{self.receipt.external_id}/[0-9a-f]{{64}}$")
        token = url.rsplit("/", 1)[1]
        self.assertNotIn("service", self.receipt.request_payload)
        readable = [self.receipt.request_payload, self.receipt.response_payload]
        readable += self.receipt.attempt_ids.mapped("request_payload") + self.receipt.attempt_ids.mapped(
            "message"
        )
        self.assertNotIn(token, repr(readable))

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
        callbacks = self.receipt.attempt_ids.filtered(lambda a: a.action == "callback")
        self.assertEqual(len(callbacks), 3)
        # Only what is needed of a body nobody signed: the status it claims, not its data.
        self.assertEqual(set(callbacks.mapped("message")), {"status=done"})
        self.assertFalse(any(callbacks.mapped("request_payload") + callbacks.mapped("response_payload")))
        self.atol.report_done(uuid="uuid-cb")
        job = self._report_jobs()
        # The job runs as the system, which the receipt's history then names, not the public
        # user of the call (the test environment silences tracking: the job runs without that).
        self.assertEqual(job.user_id, self.env.ref("base.user_root"))
        Job.load(self.env(context={}), job.uuid).perform()
        self.assertEqual(self.receipt.state, "done")
        tracking = self.receipt.sudo().message_ids.filtered("tracking_value_ids")
        self.assertEqual(tracking.author_id, self.env.ref("base.partner_root"))

    def test_callbacks_for_receipts_that_wait_for_nothing_are_answered_and_not_logged(self):
        self.atol.report_done(uuid="uuid-cb")
        self.receipt._l10n_ru_kkm_fetch_report()
        self.assertEqual(self.receipt.state, "done")
        path = self.receipt._l10n_ru_kkm_callback_url().split("/", 3)[3]
        response = self._post(f"/{path}")
        self.assertEqual((response.status_code, response.json()), (200, {"result": "ok"}))
        self.assertFalse(self.receipt.attempt_ids.filtered(lambda a: a.action == "callback"))
        self.assertFalse(self._report_jobs())
