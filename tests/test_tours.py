import json

import responses

from odoo import Command
from odoo.tests import HttpCase, tagged

from odoo.addons.queue_job.job import Job

from ..sandbox.server import Sandbox
from .common import ATOL_URL, GROUP, KkmTestCommon


@tagged("post_install", "-at_install")
class TestTours(KkmTestCommon, HttpCase):
    """The main screens in headless Chromium, as an administrator and an accountant use them."""

    def _perform_jobs(self):
        jobs = (
            self.env["queue.job"]
            .sudo()
            .search([("state", "=", "pending"), ("channel", "=", "root.l10n_ru_kkm")])
        )
        for job in jobs:
            Job.load(self.env, job.uuid).perform()
            job.state = "done"
        self.env.invalidate_all()

    def _admin_in_the_company(self, lang="en_US", company=None):
        company = company or self.company
        # The test chart has cash-basis taxes: the settings refuse to open with the option off.
        company.tax_exigibility = True
        self.env.ref("base.user_admin").write(
            {"company_ids": [Command.link(company.id)], "company_id": company.id, "lang": lang}
        )

    def test_settings_check_connection_with_unsaved_changes(self):
        def answer(request):
            if json.loads(request.body)["login"] != "good-login":
                return 401, {}, json.dumps({"error": {"code": 12, "text": "Неверный логин или пароль"}})
            return 200, {}, json.dumps({"error": None, "token": "t"})

        self.mock.add_callback(responses.POST, f"{ATOL_URL}/v4/getToken", callback=answer)
        self.company.write({"l10n_ru_kkm_inn": False, "l10n_ru_kkm_atol_login": "old-login"})
        self._admin_in_the_company()
        self.start_tour("/odoo/action-account.action_account_config", "l10n_ru_kkm_settings", login="admin")
        self.assertEqual(self.company.l10n_ru_kkm_inn, "5544332219", "saved by the check")
        self.assertEqual(self.company.sudo().l10n_ru_kkm_atol_login, "good-login")

    def test_settings_fit_their_boxes_in_russian_and_english(self):
        self.env["res.lang"]._activate_lang("ru_RU")
        self.env["ir.module.module"]._load_module_terms(
            ["base", "web", "base_setup", "account", "l10n_ru_kkm"], ["ru_RU"], overwrite=True
        )
        # The longest values: the longest taxation system, the longest service name.
        self.company.write({"l10n_ru_kkm_sno": "usn_income_outcome", "l10n_ru_kkm_vendor": "atol_v5"})
        for lang, tour in (
            ("ru_RU", "l10n_ru_kkm_settings_fit_ru"),
            ("en_US", "l10n_ru_kkm_settings_fit_en"),
        ):
            with self.subTest(lang=lang):
                self._admin_in_the_company(lang=lang)
                self.start_tour("/odoo/action-account.action_account_config", tour, login="admin")

    def test_post_an_invoice_and_see_its_receipt_done(self):
        self.atol.token_ok()
        self.atol.register_ok(uuid="uuid-tour")
        self.atol.report_done(uuid="uuid-tour")
        move = self.init_invoice("out_invoice", amounts=[1200.0], taxes=self.vat20)
        url = f"/odoo/action-account.action_move_out_invoice_type/{move.id}"
        self.start_tour(url, "l10n_ru_kkm_post_invoice", login=self.env.user.login)
        self.assertEqual(move.state, "posted")
        self._perform_jobs()
        move.l10n_ru_kkm_receipt_ids._l10n_ru_kkm_fetch_report()
        self.assertEqual(move.l10n_ru_kkm_state, "done")
        self.start_tour(url, "l10n_ru_kkm_receipt_done", login=self.env.user.login)

    def test_open_a_failed_receipt_and_resend_it(self):
        self.partner_a.write({"email": False, "phone": False})
        receipt = self.post_invoice().l10n_ru_kkm_receipt_ids
        self.assertEqual(receipt.state, "error")
        self.partner_a.email = "fixed@example.ru"
        url = f"/odoo/action-l10n_ru_kkm.l10n_ru_kkm_receipt_action/{receipt.id}"
        self.start_tour(url, "l10n_ru_kkm_resend_failed", login=self.env.user.login)
        self.assertEqual(receipt.state, "to_send")
        self.atol.token_ok()
        self.atol.register_ok(uuid="uuid-resent")
        self._perform_jobs()
        self.assertEqual(receipt.state, "sent")
        self.assertEqual(len(self.atol.calls_to(f"{GROUP}/sell")), 1)

    def test_the_demo_tells_its_story_in_russian(self):
        sandbox = Sandbox(seed=19, done_delay=0, quiet=True).start()
        self.addCleanup(sandbox.stop)
        self.env["res.lang"]._activate_lang("ru_RU")
        self.env["ir.module.module"]._load_module_terms(
            ["base", "web", "mail", "account", "l10n_ru_kkm"], ["ru_RU"], overwrite=True
        )
        shop = self.env["l10n_ru_kkm.demo"]._populate()
        shop.l10n_ru_kkm_service_url = f"{sandbox.url}/possystem"
        move = self.env["account.move"].search(
            [("company_id", "=", shop.id), ("state", "=", "draft"), ("move_type", "=", "out_invoice")]
        )
        self.assertEqual(len(move), 1)
        self._admin_in_the_company(lang="ru_RU", company=shop)
        admin = self.env.ref("base.user_admin")
        move.invoice_user_id = admin
        url = f"/odoo/action-account.action_move_out_invoice_type/{move.id}"
        self.start_tour(url, "l10n_ru_kkm_demo_post", login="admin")
        self._perform_jobs()
        move.l10n_ru_kkm_receipt_ids._l10n_ru_kkm_fetch_report()
        self.assertEqual(move.l10n_ru_kkm_state, "done", move.l10n_ru_kkm_problem)
        self.start_tour(url, "l10n_ru_kkm_demo_done", login="admin")
        receipt = move.l10n_ru_kkm_receipt_ids
        receipt_url = f"/odoo/action-l10n_ru_kkm.l10n_ru_kkm_receipt_action/{receipt.id}"
        self.start_tour(receipt_url, "l10n_ru_kkm_demo_copy", login="admin")
