import requests
import responses

from odoo.tests import tagged

from .common import GROUP, KkmTestCommon


@tagged("post_install", "-at_install")
class TestReceiptFlow(KkmTestCommon):
    def test_posting_an_invoice_creates_a_frozen_sell_receipt(self):
        move = self.post_invoice(amounts=(1200.0,))
        receipt = move.l10n_ru_kkm_receipt_ids
        self.assertEqual(len(receipt), 1)
        self.assertEqual(receipt.operation, "sell")
        self.assertEqual(receipt.state, "to_send")
        self.assertEqual(move.l10n_ru_kkm_state, "to_send")
        payload = receipt.request_payload
        self.assertEqual(payload["external_id"], receipt.external_id)
        self.assertEqual(payload["receipt"]["total"], 1200.0)
        self.assertEqual(payload["receipt"]["client"], {"email": "buyer@example.ru"})
        self.assertEqual(payload["receipt"]["company"]["inn"], "5544332219")
        item = payload["receipt"]["items"][0]
        self.assertEqual((item["price"], item["quantity"], item["sum"]), (1200.0, 1.0, 1200.0))
        self.assertEqual(item["vat"], {"type": "vat20", "sum": 200.0})
        self.assertEqual(payload["receipt"]["payments"], [{"type": 1, "sum": 1200.0}])
        self.assertFalse(self.mock.calls, "nothing may be sent inside the posting transaction")

    def test_invoice_to_done_receipt_with_fiscal_data(self):
        self.atol.token_ok()
        self.atol.register_ok(uuid="uuid-77")
        self.atol.report_done(uuid="uuid-77")
        move = self.post_invoice(amounts=(1200.0,))
        receipt = move.l10n_ru_kkm_receipt_ids

        receipt._l10n_ru_kkm_send()
        self.assertEqual(receipt.state, "sent")
        self.assertEqual(receipt.vendor_uuid, "uuid-77")
        self.assertEqual(self.atol.registered[0]["external_id"], receipt.external_id)
        token_call = self.atol.calls_to("getToken")[0]
        register_call = self.atol.calls_to(f"{GROUP}/sell")[0]
        self.assertEqual(register_call.request.headers["Token"], "token-1")
        self.assertIn(b"secret-password", token_call.request.body)

        receipt._l10n_ru_kkm_fetch_report()
        self.assertEqual(receipt.state, "done")
        self.assertEqual(move.l10n_ru_kkm_state, "done")
        self.assertEqual(receipt.fn_number, "9999078900004792")
        self.assertEqual(receipt.fiscal_document_number, 133)
        self.assertEqual(receipt.fiscal_document_attribute, "3449555941")
        self.assertEqual(receipt.shift_number, 23)
        self.assertEqual(receipt.fiscal_receipt_number, 6)
        self.assertEqual(receipt.receipt_datetime, "28.11.2026 12:00:00")
        self.assertIn("consumer.1-ofd-test.ru", receipt.ofd_receipt_url)
        # The registration is marked in flight before anything leaves, the token included.
        self.assertEqual(receipt.attempt_ids.mapped("action"), ["report", "token", "register"])

    def test_secrets_stay_out_of_the_attempt_log(self):
        self.atol.token_ok(token="very-secret-token")
        self.atol.register_ok()
        receipt = self.post_invoice().l10n_ru_kkm_receipt_ids
        receipt._l10n_ru_kkm_send()
        token_attempt = receipt.attempt_ids.filtered(lambda a: a.action == "token")
        self.assertEqual(token_attempt.request_payload["pass"], "***")
        self.assertEqual(token_attempt.response_payload["token"], "***")
        logged = str(receipt.attempt_ids.mapped("request_payload")) + str(
            receipt.attempt_ids.mapped("response_payload")
        )
        self.assertNotIn("secret-password", logged)
        self.assertNotIn("very-secret-token", logged)

    def test_credit_note_gives_a_sell_refund(self):
        self.atol.token_ok()
        self.atol.register_ok(uuid="uuid-r", operation="sell_refund")
        self.atol.report_done(uuid="uuid-r")
        refund = self.post_invoice(amounts=(300.0,), move_type="out_refund")
        receipt = refund.l10n_ru_kkm_receipt_ids
        self.assertEqual(receipt.operation, "sell_refund")
        receipt._l10n_ru_kkm_send()
        receipt._l10n_ru_kkm_fetch_report()
        self.assertEqual(receipt.state, "done")
        self.assertEqual(self.atol.registered[0]["receipt"]["total"], 300.0)
        self.assertEqual(len(self.atol.calls_to(f"{GROUP}/sell_refund")), 1)

    def test_vendor_validation_error_puts_the_receipt_in_error(self):
        self.atol.token_ok()
        text = "Ошибка валидации входящего запроса. Ошибочные поля: receipt.items[0].price"
        self.atol.register_error(32, text)
        receipt = self.post_invoice().l10n_ru_kkm_receipt_ids
        receipt._l10n_ru_kkm_send()
        self.assertEqual(receipt.state, "error")
        self.assertEqual(receipt.error_code, "32")
        self.assertEqual(receipt.error_kind, "validation")
        self.assertEqual(receipt.vendor_message, text, "the service's own words are kept")
        self.assertIn(text, receipt.error_message)
        self.assertEqual(receipt.move_id.l10n_ru_kkm_state, "error")
        banner = receipt.move_id.l10n_ru_kkm_problem
        self.assertIn(text, banner, "the invoice banner shows the vendor's words")
        self.assertIn("Fix the invoice or the settings", banner, "and what to do")

    def test_company_without_fiscal_settings_gets_no_receipt(self):
        self.company.l10n_ru_kkm_enabled = False
        move = self.post_invoice()
        self.assertEqual(move.state, "posted")
        self.assertFalse(move.l10n_ru_kkm_receipt_ids)
        self.assertFalse(move.l10n_ru_kkm_state)

    def test_incomplete_settings_keep_the_receipt_visible_in_error(self):
        self.company.write({"l10n_ru_kkm_inn": "12345", "l10n_ru_kkm_payment_address": False})
        move = self.post_invoice()
        receipt = move.l10n_ru_kkm_receipt_ids
        self.assertEqual(move.state, "posted")
        self.assertEqual(receipt.state, "error")
        self.assertEqual(receipt.error_kind, "data")
        self.assertIn("10 or 12 digits", receipt.error_message)
        self.assertIn("place of settlement", receipt.error_message)
        self.assertFalse(receipt.request_payload)

    def test_customer_without_email_or_phone_is_a_clear_error(self):
        self.partner_a.write({"email": False, "phone": False})
        receipt = self.post_invoice().l10n_ru_kkm_receipt_ids
        self.assertEqual(receipt.state, "error")
        self.assertIn("neither an e-mail nor a phone", receipt.error_message)

    def test_customer_phone_is_sent_in_plus_seven_form(self):
        self.partner_a.write({"email": False, "phone": "8 (925) 123-45-67"})
        receipt = self.post_invoice().l10n_ru_kkm_receipt_ids
        self.assertEqual(receipt.request_payload["receipt"]["client"], {"phone": "+79251234567"})

    def test_foreign_currency_invoice_is_a_clear_error(self):
        usd = self.env.ref("base.USD")
        usd.active = True
        move = self.init_invoice("out_invoice", amounts=[100.0], taxes=self.vat20, currency=usd)
        move.action_post()
        receipt = move.l10n_ru_kkm_receipt_ids
        self.assertEqual(receipt.state, "error")
        self.assertIn("roubles only", receipt.error_message)
        # The receipt is in roubles: 100 dollars are not shown as 100 roubles.
        self.assertEqual(receipt.currency_id, self.env.ref("base.RUB"))
        self.assertFalse(receipt.amount_total)

    def test_token_is_reused_then_renewed_once_on_expiry(self):
        self.atol.token_ok(token="token-1")
        self.atol.register_ok(uuid="uuid-1")
        first = self.post_invoice().l10n_ru_kkm_receipt_ids
        first._l10n_ru_kkm_send()
        self.assertEqual(self.atol.tokens_issued, 1)
        self.assertEqual(self.company.sudo().l10n_ru_kkm_atol_token, "token-1")

        # The vendor now says the token expired (error 11): one renewal, same external_id.
        self.mock.reset()
        self.atol.token_ok(token="token-2")
        self.atol.register_error(11, "Срок действия токена истек", http_status=401)
        self.atol.register_ok(uuid="uuid-2")
        second = self.post_invoice().l10n_ru_kkm_receipt_ids
        second._l10n_ru_kkm_send()
        self.assertEqual(second.state, "sent")
        registrations = self.atol.calls_to(f"{GROUP}/sell")
        self.assertEqual([c.request.headers["Token"] for c in registrations], ["token-1", "token-2"])
        self.assertEqual(self.atol.registered[-1]["external_id"], second.external_id)

    def test_duplicate_answer_counts_as_accepted_with_the_existing_uuid(self):
        self.atol.token_ok()
        self.atol.register_error(33, "В системе существует чек с external_id", uuid="uuid-first")
        receipt = self.post_invoice().l10n_ru_kkm_receipt_ids
        receipt._l10n_ru_kkm_send()
        self.assertEqual(receipt.state, "sent")
        self.assertEqual(receipt.vendor_uuid, "uuid-first")

    def test_lost_answer_makes_the_outcome_unknown_and_the_retry_keeps_the_id(self):
        self.atol.token_ok()
        self.mock.add(
            responses.POST,
            f"{self.atol.root}/{GROUP}/sell",
            body=requests.exceptions.ReadTimeout("read timed out"),
        )
        receipt = self.post_invoice().l10n_ru_kkm_receipt_ids
        external_id = receipt.external_id
        receipt._l10n_ru_kkm_send()
        self.assertEqual(receipt.state, "unknown")

        # Asking again with the same key: the vendor answers that it already has it.
        self.atol.register_error(33, "В системе существует чек", uuid="uuid-kept")
        receipt._l10n_ru_kkm_send()
        self.assertEqual(receipt.state, "sent")
        self.assertEqual(receipt.vendor_uuid, "uuid-kept")
        self.assertEqual(receipt.external_id, external_id)
        bodies = [c.request.body for c in self.atol.calls_to(f"{GROUP}/sell")]
        self.assertEqual(len(bodies), 2)
        self.assertEqual(bodies[0], bodies[1])

    def test_server_error_keeps_the_receipt_to_send(self):
        self.atol.token_ok()
        self.atol.register_error(50, "Ошибка конфигурации сервера", http_status=500)
        receipt = self.post_invoice().l10n_ru_kkm_receipt_ids
        receipt._l10n_ru_kkm_send()
        self.assertEqual(receipt.state, "unknown")
        self.assertTrue(receipt.error_message)

    def test_failed_vendor_document_goes_to_error(self):
        self.atol.token_ok()
        self.atol.register_ok(uuid="uuid-f")
        self.atol.report_fail(uuid="uuid-f")
        receipt = self.post_invoice().l10n_ru_kkm_receipt_ids
        receipt._l10n_ru_kkm_send()
        receipt._l10n_ru_kkm_fetch_report()
        self.assertEqual(receipt.state, "error")
        self.assertEqual(receipt.error_kind, "device")
        self.assertEqual(receipt.vendor_message, "Неверная цена (сумма)")
        self.assertIn("Неверная цена (сумма)", receipt.error_message)

    def test_wrong_credentials_are_a_settings_error(self):
        self.mock.add(
            responses.POST,
            f"{self.atol.root}/getToken",
            status=401,
            json={"error": {"code": 12, "text": "Неверный логин или пароль", "type": "system"}},
        )
        receipt = self.post_invoice().l10n_ru_kkm_receipt_ids
        receipt._l10n_ru_kkm_send()
        self.assertEqual(receipt.state, "error")
        self.assertEqual(receipt.error_kind, "auth")
        self.assertFalse(self.atol.calls_to(f"{GROUP}/sell"))

    def test_synchronous_mode_sends_after_the_posting_commits(self):
        self.company.l10n_ru_kkm_async = False
        self.atol.token_ok()
        self.atol.register_ok(uuid="uuid-pc")
        self.atol.report_done(uuid="uuid-pc")
        move = self.post_invoice()
        self.assertFalse(self.atol.calls_to(f"{GROUP}/sell"))
        # What a real commit does: flush, then run the after-commit hooks.
        self.env.flush_all()
        self.env.cr.postcommit.run()
        move.invalidate_recordset()
        receipt = move.l10n_ru_kkm_receipt_ids
        receipt.invalidate_recordset()
        self.assertEqual(receipt.state, "done")
        self.assertEqual(len(self.atol.calls_to(f"{GROUP}/sell")), 1)

    def test_reposting_does_not_create_a_second_open_receipt(self):
        move = self.post_invoice()
        receipt = move.l10n_ru_kkm_receipt_ids
        move._l10n_ru_kkm_fiscalize(trigger="post")  # a second posting hook changes nothing
        self.assertEqual(move.l10n_ru_kkm_receipt_ids, receipt)

    def test_status_is_asked_in_the_group_the_receipt_was_registered_in(self):
        self.atol.token_ok()
        self.atol.register_ok(uuid="uuid-g")
        self.atol.report_done(uuid="uuid-g")
        receipt = self.post_invoice().l10n_ru_kkm_receipt_ids
        receipt._l10n_ru_kkm_send()
        self.company.l10n_ru_kkm_atol_group_code = "another-group"
        receipt._l10n_ru_kkm_fetch_report()
        self.assertEqual(receipt.group_code, GROUP)
        self.assertEqual(receipt.state, "done")
        self.assertFalse(self.atol.calls_to("another-group"))
