from odoo import Command, api, models

DEMO_COMPANY_NAME = "ООО «Ромашка»"
ADVANCE_COMPANY_NAME = "ИП Лютикова Анна Сергеевна"
SANDBOX_URL = "http://127.0.0.1:8090"
SANDBOX_ATOL_URL = f"{SANDBOX_URL}/possystem"
# A marking code as a scanner types it (GTIN, serial, then the check key after <GS>).
DEMO_MARK_CODE = "010460620309818721DEMOSNEAKER01<GS>93Ab1c"


class L10nRuKkmDemo(models.AbstractModel):
    """Creates the demo companies once the registry is ready.

    Loading a chart of accounts while modules are still being installed is unsupported
    (account warns about it), so the demo data only schedules this step, which runs in
    ``_register_hook`` at the end of the installation, as account's own first chart does.
    The records get no XML ids: a company with entries must survive an uninstallation.

    The story at first login: a shop selling goods, services, marked goods and goods of a
    principal, on credit to businesses (ООО «Ромашка»: an invoice with a discount to confirm, a
    credit sale and its credit note), and a workshop taking advances before its invoices
    (ИП Лютикова: receipts when invoices are paid, advances registered at once).
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
        customers = self._create_customers()
        shop = self._create_company(
            rub,
            DEMO_COMPANY_NAME,
            inn="5544332219",
            site="romashka.example.ru",
            # Goods handed over before they are paid are a transfer on credit (tag 1214 = 6).
            l10n_ru_kkm_credit=True,
        )
        env = self.with_company(shop).env
        taxes = self._create_taxes(env, shop)
        products = self._create_products(env, shop, taxes)
        self._create_shop_invoices(env, shop, products, customers)

        workshop = self._create_company(
            rub,
            ADVANCE_COMPANY_NAME,
            inn="772345678912",
            site="lutikova.example.ru",
            # Receipts when invoices are paid: a payment before its invoice is an advance.
            l10n_ru_kkm_trigger="paid",
            l10n_ru_kkm_prepayment=True,
        )
        self._create_workshop_documents(self.with_company(workshop).env, workshop, customers)
        return shop

    @api.model
    def _create_company(self, rub, name, inn, site, **options):
        company = self.env["res.company"].create(
            {
                "name": name,
                "currency_id": rub.id,
                "country_id": self.env.ref("base.ru").id,
                "vat": inn,
                "street": "ул. Тверская, 1",
                "city": "Москва",
                "zip": "125009",
                "phone": "+7 495 123-45-67",
                "email": f"shop@{site}",
                "website": f"https://{site}",
            }
        )
        users = self.env.ref("base.user_root") | self.env.ref("base.user_admin")
        users.write({"company_ids": [Command.link(company.id)]})
        self.env["account.chart.template"].try_loading("generic_coa", company, install_demo=False)
        # The generic chart takes the currency of its fiscal country (USD): a Russian shop sells in RUB.
        company.currency_id = rub
        company.write(
            {
                "l10n_ru_kkm_enabled": True,
                "l10n_ru_kkm_vendor": "atol_v4",
                "l10n_ru_kkm_test_mode": True,
                "l10n_ru_kkm_service_url": SANDBOX_ATOL_URL,
                # The public test account of ATOL Online, which the sandbox also knows.
                "l10n_ru_kkm_atol_login": "v4-online-atol-ru",
                "l10n_ru_kkm_atol_password": "iGFFuihss",
                "l10n_ru_kkm_atol_group_code": "v4-online-atol-ru_4179",
                # The sandbox's account is registered for this INN.
                "l10n_ru_kkm_inn": "5544332219",
                "l10n_ru_kkm_payment_address": f"https://{site}",
                "l10n_ru_kkm_email": f"shop@{site}",
                "l10n_ru_kkm_sno": "osn",
                # The permissive mode's check, off until turned on, points at the sandbox too.
                "l10n_ru_kkm_mark_url": f"{SANDBOX_URL}/marking",
                "l10n_ru_kkm_mark_api_key": "sandbox-marking-key",
                "l10n_ru_kkm_mark_local_url": f"{SANDBOX_URL}/localmodule",
                "l10n_ru_kkm_mark_local_login": "admin",
                "l10n_ru_kkm_mark_local_password": "admin",
                **options,
            }
        )
        return company

    @api.model
    def _create_taxes(self, env, company):
        """The sales taxes of a Russian shop, each in its tax group, with its fiscal VAT code."""
        taxes = {}
        for code, name, amount in (
            ("vat22", "НДС 22%", 22),
            ("vat10", "НДС 10%", 10),
            ("none", "Без НДС", 0),
        ):
            group = env["account.tax.group"].create({"name": name, "company_id": company.id})
            taxes[code] = env["account.tax"].create(
                {
                    "name": name,
                    "amount": amount,
                    "amount_type": "percent",
                    "price_include_override": "tax_included",
                    "type_tax_use": "sale",
                    "company_id": company.id,
                    "tax_group_id": group.id,
                    "l10n_ru_kkm_vat_code": code,
                }
            )
        company.account_sale_tax_id = taxes["vat22"]
        return taxes

    @api.model
    def _create_products(self, env, company, taxes):
        principal = env["res.partner"].create(
            {
                "name": "ООО «Книжный дом»",
                "is_company": True,
                "vat": "7701234567",
                "phone": "+7 495 765-43-21",
                "country_id": self.env.ref("base.ru").id,
                "company_id": company.id,
            }
        )
        products = {}
        for key, name, kind, price, vat, extra in (
            ("kettle", "Чайник электрический", "consu", 2990.00, "vat22", {}),
            ("delivery", "Доставка курьером", "service", 350.00, "vat22", {}),
            ("sneakers", "Кроссовки беговые", "consu", 5490.00, "vat22", {"l10n_ru_kkm_marked": True}),
            (
                "book",
                "Книга «Кассовая дисциплина»",
                "consu",
                640.00,
                "vat10",
                # Sold for the publisher: the receipt names it (tags 1222, 1224-1226).
                {"l10n_ru_kkm_agent_type": "commission_agent", "l10n_ru_kkm_supplier_id": principal.id},
            ),
            ("setup", "Настройка кофемашины", "service", 1500.00, "none", {}),
        ):
            products[key] = env["product.product"].create(
                {
                    "name": name,
                    "type": kind,
                    "list_price": price,
                    "company_id": company.id,
                    "taxes_id": [Command.set(taxes[vat].ids)],
                    **extra,
                }
            )
        return products

    @api.model
    def _create_customers(self):
        russia = self.env.ref("base.ru").id
        values = [
            {"name": "Иванов Иван Иванович", "email": "ivanov@example.ru", "phone": "+7 916 555-01-01"},
            {"name": "Петрова Мария", "phone": "+7 925 123-45-67"},
            {
                "name": "ООО «Вектор»",
                "is_company": True,
                "vat": "7707083893",
                "email": "buh@vektor.example.ru",
                "phone": "+7 495 222-33-44",
            },
        ]
        # Russian speakers, when the database has Russian (receipts' item names follow it).
        lang = {"lang": "ru_RU"} if self.env["res.lang"]._get_code("ru_RU") else {}
        return self.env["res.partner"].create([dict(v, country_id=russia, **lang) for v in values])

    @api.model
    def _invoice(self, env, company, partner, lines, ref, move_type="out_invoice"):
        return env["account.move"].create(
            {
                "move_type": move_type,
                "company_id": company.id,
                "partner_id": partner.id,
                "ref": ref,
                "invoice_line_ids": [Command.create(line) for line in lines],
            }
        )

    @api.model
    def _create_shop_invoices(self, env, company, products, customers):
        ivanov, _petrova, vektor = customers
        # To confirm at first login: goods, a discount, marked goods with their code, an agent's book.
        self._invoice(
            env,
            company,
            ivanov,
            [
                {"product_id": products["kettle"].id, "quantity": 1, "discount": 10},
                {
                    "product_id": products["sneakers"].id,
                    "quantity": 1,
                    "l10n_ru_kkm_mark_codes": DEMO_MARK_CODE,
                },
                {"product_id": products["book"].id, "quantity": 2},
                {"product_id": products["delivery"].id, "quantity": 1},
            ],
            "Заказ 1001 (скидка 10 %)",
        )
        # Sold on credit to a business: confirmed unpaid, its receipt is a transfer on credit.
        credit_sale = self._invoice(
            env,
            company,
            vektor,
            [
                {"product_id": products["kettle"].id, "quantity": 3},
                {"product_id": products["setup"].id, "quantity": 1},
            ],
            "Договор 15/11 (отсрочка платежа)",
        )
        credit_sale.action_post()
        # One kettle comes back: a credit note to confirm once the sale is registered.
        credit_note = credit_sale._reverse_moves([{"ref": "Возврат по договору 15/11"}])
        credit_note.invoice_line_ids.filtered(lambda line: line.product_id == products["setup"]).unlink()
        credit_note.invoice_line_ids.quantity = 1

    @api.model
    def _create_workshop_documents(self, env, company, customers):
        _ivanov, petrova, _vektor = customers
        taxes = self._create_taxes(env, company)
        chair = env["product.product"].create(
            {
                "name": "Стул из массива дуба (на заказ)",
                "type": "consu",
                "list_price": 12000.00,
                "company_id": company.id,
                "taxes_id": [Command.set(taxes["vat22"].ids)],
            }
        )
        # An advance before the order is made: registered at once (tag 1214 = 3).
        journal = env["account.journal"].search(
            [("company_id", "=", company.id), ("type", "=", "bank")], limit=1
        )
        advance = env["account.payment"].create(
            {
                "payment_type": "inbound",
                "partner_type": "customer",
                "partner_id": petrova.id,
                "amount": 10000.00,
                "journal_id": journal.id,
                "company_id": company.id,
                "memo": "Аванс за стулья на заказ",
            }
        )
        advance.action_post()
        # The order, to confirm and pay with the advance: its receipt offsets it.
        self._invoice(env, company, petrova, [{"product_id": chair.id, "quantity": 2}], "Заказ 7 (стулья)")
