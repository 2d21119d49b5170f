from odoo import Command, api, models

DEMO_COMPANY = "l10n_ru_kkm.demo_company_ru"


class L10nRuKkmDemo(models.AbstractModel):
    """Completes the demo company once the registry is ready.

    Loading a chart of accounts while modules are still being installed is unsupported
    (account warns about it), so the demo data only schedules this step, which runs in
    ``_register_hook`` at the end of the installation, as account's own first chart does.
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
            self._populate(self.env.ref(DEMO_COMPANY))

    @api.model
    def _populate(self, company):
        self.env["account.chart.template"].try_loading("generic_coa", company, install_demo=False)
        # The generic chart takes the currency of its fiscal country (USD): a Russian shop sells in RUB.
        company.currency_id = self.env.ref("base.RUB")
        env = self.with_company(company).env
        taxes = {
            code: env["account.tax"].create(
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
            for code, name, amount in (("vat22", "НДС 22%", 22), ("vat10", "НДС 10%", 10))
        }
        company.account_sale_tax_id = taxes["vat22"]
        products = [
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
        env["account.move"].create(
            {
                "move_type": "out_invoice",
                "company_id": company.id,
                "partner_id": self.env.ref("l10n_ru_kkm.demo_customer_email").id,
                "invoice_line_ids": [
                    Command.create({"product_id": products[0].id, "quantity": 1}),
                    Command.create({"product_id": products[1].id, "quantity": 2, "discount": 10}),
                    Command.create({"product_id": products[2].id, "quantity": 1}),
                ],
            }
        )
