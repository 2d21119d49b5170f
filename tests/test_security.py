from odoo import Command
from odoo.exceptions import AccessError
from odoo.tests import new_test_user, tagged

from .common import KkmTestCommon


@tagged("post_install", "-at_install")
class TestSecurity(KkmTestCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company_b = cls.setup_other_company(name="Company B")["company"]
        cls.user_b = new_test_user(
            cls.env,
            login="kkm_user_b",
            groups="base.group_user,account.group_account_invoice",
            company_id=cls.company_b.id,
            company_ids=[Command.set(cls.company_b.ids)],
        )

    def test_invoicing_users_get_the_fiscal_user_group(self):
        self.assertTrue(self.user_b.has_group("l10n_ru_kkm.group_kkm_user"))
        self.assertFalse(self.user_b.has_group("l10n_ru_kkm.group_kkm_manager"))
        manager = new_test_user(self.env, login="kkm_manager", groups="account.group_account_manager")
        self.assertTrue(manager.has_group("l10n_ru_kkm.group_kkm_manager"))

    def test_a_user_of_another_company_sees_none_of_its_receipts(self):
        self.atol.token_ok()
        self.atol.register_ok()
        receipt = self.post_invoice().l10n_ru_kkm_receipt_ids
        receipt._l10n_ru_kkm_send()
        self.assertTrue(receipt.attempt_ids)
        receipts_b = self.env["l10n_ru_kkm.receipt"].with_user(self.user_b)
        attempts_b = self.env["l10n_ru_kkm.receipt.attempt"].with_user(self.user_b)
        self.assertEqual(receipts_b.search_count([]), 0)
        self.assertEqual(attempts_b.search_count([]), 0)
        with self.assertRaises(AccessError):
            receipts_b.browse(receipt.id).read(["state"])
        with self.assertRaises(AccessError):
            attempts_b.browse(receipt.attempt_ids[:1].id).read(["message"])

    def test_users_cannot_write_receipts_directly(self):
        receipt = self.post_invoice().l10n_ru_kkm_receipt_ids.with_user(self.user_b)
        accountant = new_test_user(
            self.env,
            login="kkm_accountant_a",
            groups="base.group_user,account.group_account_invoice",
            company_id=self.company.id,
            company_ids=[Command.set(self.company.ids)],
        )
        with self.assertRaises(AccessError):
            receipt.with_user(accountant).write({"state": "done"})
