from odoo import Command, api, models

DEMO_COMPANY_NAME = "ООО «Ромашка»"
SANDBOX_URL = "http://127.0.0.1:8090"
SANDBOX_ATOL_URL = f"{SANDBOX_URL}/possystem"


class L10nRuKkmDemo(models.AbstractModel):
    """Creates the demo company once the registry is ready.

    Loading a chart of accounts while modules are still being installed is unsupported
    (account warns about it), so the demo data only schedules this step, which runs in
    ``_register_hook`` at the end of the installation, as account's own first chart does.
    The records get no XML ids: a company with entries must survive an uninstallation.
    """

    _name = "l10n_ru_kkm.demo"
    _description = "Fiscal receipts demo data"

    @api.model
    def _schedule(self):
        self.env.registry._l10n_ru_kkm_demo_pending = True

    def _register_hook(self):
        super()._register_hook()
        if getattr(self.env.registry, "_l10n_ru_kkm_demo_pending", False):
            del self.env.registry._l10n_ru_kkm_demo_pending
            self._populate()

    @api.model
    def _populate(self):
        rub = self.env.ref("base.RUB")
        rub.active = True
        company = self._create_company(rub)
        self.env["account.chart.template"].try_loading("generic_coa", company, install_demo=False)
        # The generic chart takes the currency of its fiscal country (USD): a Russian shop sells in RUB.
        company.currency_id = rub
        env = self.with_company(company).env
        taxes = self._create_taxes(env, company)
        products = self._create_products(env, company, taxes)
        customer = self._create_customers(env, company)
        env["account.move"].create(
            {
                "move_type": "out_invoice",
                "company_id": company.id,
                "partner_id": customer.id,
                "invoice_line_ids": [
                    Command.create({"product_id": products[0].id, "quantity": 1}),
                    Command.create({"product_id": products[1].id, "quantity": 2, "discount": 10}),
                    Command.create({"product_id": products[2].id, "quantity": 1}),
                ],
            }
        )
        return company

    @api.model
    def _create_company(self, rub):
        company = self.env["res.company"].create(
            {
                "name": DEMO_COMPANY_NAME,
                "currency_id": rub.id,
                "country_id": self.env.ref("base.ru").id,
                "vat": "5544332219",
                "street": "ул. Тверская, 1",
                "city": "Москва",
                "zip": "125009",
                "phone": "+7 495 123-45-67",
                "email": "shop@romashka.example.ru",
                "website": "https://romashka.example.ru",
                "l10n_ru_kkm_enabled": True,
                "l10n_ru_kkm_vendor": "atol_v4",
                "l10n_ru_kkm_test_mode": True,
                "l10n_ru_kkm_service_url": SANDBOX_ATOL_URL,
                # The public test account of ATOL Online, which the sandbox also knows.
                "l10n_ru_kkm_atol_login": "v4-online-atol-ru",
                "l10n_ru_kkm_atol_password": "iGFFuihss",
                "l10n_ru_kkm_atol_group_code": "v4-online-atol-ru_4179",
                "l10n_ru_kkm_inn": "5544332219",
                "l10n_ru_kkm_payment_address": "https://romashka.example.ru",
                "l10n_ru_kkm_email": "shop@romashka.example.ru",
                "l10n_ru_kkm_sno": "osn",
                # The permissive mode's check, off until turned on, points at the sandbox too.
                "l10n_ru_kkm_mark_url": f"{SANDBOX_URL}/marking",
                "l10n_ru_kkm_mark_api_key": "sandbox-marking-key",
                "l10n_ru_kkm_mark_local_url": f"{SANDBOX_URL}/localmodule",
                "l10n_ru_kkm_mark_local_login": "admin",
                "l10n_ru_kkm_mark_local_password": "admin",
            }
        )
        users = self.env.ref("base.user_root") | self.env.ref("base.user_admin")
        users.write({"company_ids": [Command.link(company.id)]})
        return company

    @api.model
    def _create_taxes(self, env, company):
        taxes = {}
        for code, name, amount in (("vat22", "НДС 22%", 22), ("vat10", "НДС 10%", 10)):
            taxes[code] = env["account.tax"].create(
                {
                    "name": name,
                    "amount": amount,
                    "amount_type": "percent",
                    "price_include_override": "tax_included",
                    "type_tax_use": "sale",
                    "company_id": company.id,
                    "l10n_ru_kkm_vat_code": code,
                }
            )
        company.account_sale_tax_id = taxes["vat22"]
        return taxes

    @api.model
    def _create_products(self, env, company, taxes):
        return [
            env["product.product"].create(
                {
                    "name": name,
                    "type": kind,
                    "list_price": price,
                    "company_id": company.id,
                    "taxes_id": [Command.set(taxes[vat].ids)],
                }
            )
            for name, kind, price, vat in (
                ("Чайник электрический", "consu", 2990.00, "vat22"),
                ("Книга «Кассовая дисциплина»", "consu", 640.00, "vat10"),
                ("Доставка курьером", "service", 350.00, "vat22"),
            )
        ]

    @api.model
    def _create_customers(self, env, company):
        russia = self.env.ref("base.ru").id
        by_email = env["res.partner"].create(
            {
                "name": "Иванов Иван Иванович",
                "email": "ivanov@example.ru",
                "country_id": russia,
                "company_id": company.id,
            }
        )
        env["res.partner"].create(
            {
                "name": "Петрова Мария",
                "phone": "+7 925 123-45-67",
                "country_id": russia,
                "company_id": company.id,
            }
        )
        return by_email
