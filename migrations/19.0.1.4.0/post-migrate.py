"""Cash registers are records since 19.0.1.4.0: each company that was set up for fiscal
receipts gets one register holding the settings it kept until then, becomes its default
register, and its receipts are linked to it (docs/architecture.rst, "Cash registers"). The old
columns of res_company are read, never dropped: nothing is lost."""

from odoo import SUPERUSER_ID, api

# register field <- res_company column of 19.0.1.3.0
COLUMNS = {
    "vendor": "l10n_ru_kkm_vendor",
    "test_mode": "l10n_ru_kkm_test_mode",
    "service_url": "l10n_ru_kkm_service_url",
    "atol_login": "l10n_ru_kkm_atol_login",
    "atol_password": "l10n_ru_kkm_atol_password",
    "atol_group_code": "l10n_ru_kkm_atol_group_code",
    "atol_token": "l10n_ru_kkm_atol_token",
    "atol_token_expiry": "l10n_ru_kkm_atol_token_expiry",
    "checkonline_certificate_id": "l10n_ru_kkm_checkonline_certificate_id",
    "checkonline_group": "l10n_ru_kkm_checkonline_group",
    "checkonline_client_id": "l10n_ru_kkm_checkonline_client_id",
    "checkonline_password": "l10n_ru_kkm_checkonline_password",
    "checkonline_tax_ids": "l10n_ru_kkm_checkonline_tax_ids",
    "ofd": "l10n_ru_kkm_ofd",
    "payment_address": "l10n_ru_kkm_payment_address",
    "email": "l10n_ru_kkm_email",
    "internet": "l10n_ru_kkm_internet",
    "callback": "l10n_ru_kkm_callback",
}


def migrate(cr, version):
    cr.execute("SELECT column_name FROM information_schema.columns WHERE table_name = 'res_company'")
    existing = {row[0] for row in cr.fetchall()}
    columns = {field: column for field, column in COLUMNS.items() if column in existing}
    if "vendor" not in columns:
        return
    selected = ", ".join(f"c.{column}" for column in columns.values())
    cr.execute(
        f"""
        SELECT c.id, c.name, {selected}
          FROM res_company c
         WHERE c.l10n_ru_kkm_register_id IS NULL
           AND (c.l10n_ru_kkm_enabled
                OR EXISTS (SELECT 1 FROM l10n_ru_kkm_receipt r WHERE r.company_id = c.id))
        """
    )
    rows = cr.fetchall()
    env = api.Environment(cr, SUPERUSER_ID, {})
    for company_id, name, *values in rows:
        settings = {field: value for field, value in zip(columns, values, strict=True) if value is not None}
        register = env["l10n_ru_kkm.register"].create(dict(settings, name=name, company_id=company_id))
        cr.execute(
            "UPDATE res_company SET l10n_ru_kkm_register_id = %s WHERE id = %s", [register.id, company_id]
        )
        cr.execute(
            "UPDATE l10n_ru_kkm_receipt SET register_id = %s WHERE company_id = %s AND register_id IS NULL",
            [register.id, company_id],
        )
    env.invalidate_all()
