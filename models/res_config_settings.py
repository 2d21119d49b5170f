from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    l10n_ru_kkm_enabled = fields.Boolean(related="company_id.l10n_ru_kkm_enabled", readonly=False)
    l10n_ru_kkm_vendor = fields.Selection(related="company_id.l10n_ru_kkm_vendor", readonly=False)
    l10n_ru_kkm_test_mode = fields.Boolean(related="company_id.l10n_ru_kkm_test_mode", readonly=False)
    l10n_ru_kkm_service_url = fields.Char(related="company_id.l10n_ru_kkm_service_url", readonly=False)
    l10n_ru_kkm_atol_login = fields.Char(related="company_id.l10n_ru_kkm_atol_login", readonly=False)
    l10n_ru_kkm_atol_password = fields.Char(related="company_id.l10n_ru_kkm_atol_password", readonly=False)
    l10n_ru_kkm_atol_group_code = fields.Char(
        related="company_id.l10n_ru_kkm_atol_group_code", readonly=False
    )
    l10n_ru_kkm_inn = fields.Char(related="company_id.l10n_ru_kkm_inn", readonly=False)
    l10n_ru_kkm_payment_address = fields.Char(
        related="company_id.l10n_ru_kkm_payment_address", readonly=False
    )
    l10n_ru_kkm_email = fields.Char(related="company_id.l10n_ru_kkm_email", readonly=False)
    l10n_ru_kkm_sno = fields.Selection(related="company_id.l10n_ru_kkm_sno", readonly=False)
    l10n_ru_kkm_cashier = fields.Char(related="company_id.l10n_ru_kkm_cashier", readonly=False)
    l10n_ru_kkm_cashier_inn = fields.Char(related="company_id.l10n_ru_kkm_cashier_inn", readonly=False)
    l10n_ru_kkm_trigger = fields.Selection(related="company_id.l10n_ru_kkm_trigger", readonly=False)
    l10n_ru_kkm_credit = fields.Boolean(related="company_id.l10n_ru_kkm_credit", readonly=False)
    l10n_ru_kkm_prepayment = fields.Boolean(related="company_id.l10n_ru_kkm_prepayment", readonly=False)
    l10n_ru_kkm_async = fields.Boolean(related="company_id.l10n_ru_kkm_async", readonly=False)
    l10n_ru_kkm_retry_intervals = fields.Char(
        related="company_id.l10n_ru_kkm_retry_intervals", readonly=False
    )
    l10n_ru_kkm_max_attempts = fields.Integer(related="company_id.l10n_ru_kkm_max_attempts", readonly=False)
    l10n_ru_kkm_resume_hours = fields.Integer(related="company_id.l10n_ru_kkm_resume_hours", readonly=False)
    l10n_ru_kkm_max_polls = fields.Integer(related="company_id.l10n_ru_kkm_max_polls", readonly=False)
    l10n_ru_kkm_callback = fields.Boolean(related="company_id.l10n_ru_kkm_callback", readonly=False)
    l10n_ru_kkm_internet = fields.Boolean(related="company_id.l10n_ru_kkm_internet", readonly=False)

    l10n_ru_kkm_checkonline_certificate_id = fields.Many2one(
        related="company_id.l10n_ru_kkm_checkonline_certificate_id", readonly=False
    )
    l10n_ru_kkm_checkonline_group = fields.Char(
        related="company_id.l10n_ru_kkm_checkonline_group", readonly=False
    )
    l10n_ru_kkm_checkonline_client_id = fields.Char(
        related="company_id.l10n_ru_kkm_checkonline_client_id", readonly=False
    )
    l10n_ru_kkm_checkonline_tax_ids = fields.Char(
        related="company_id.l10n_ru_kkm_checkonline_tax_ids", readonly=False
    )
    l10n_ru_kkm_ofd = fields.Selection(related="company_id.l10n_ru_kkm_ofd", readonly=False)
    l10n_ru_kkm_email_receipt_copy = fields.Boolean(
        related="company_id.l10n_ru_kkm_email_receipt_copy", readonly=False
    )
    l10n_ru_kkm_checkonline_password = fields.Integer(
        related="company_id.l10n_ru_kkm_checkonline_password", readonly=False, groups="base.group_system"
    )

    l10n_ru_kkm_report_partner_ids = fields.Many2many(
        related="company_id.l10n_ru_kkm_report_partner_ids", readonly=False
    )
    l10n_ru_kkm_report_period = fields.Selection(
        related="company_id.l10n_ru_kkm_report_period", readonly=False
    )

    # -- marked goods: the permissive mode ---------------------------------------------------
    l10n_ru_kkm_permissive = fields.Boolean(related="company_id.l10n_ru_kkm_permissive", readonly=False)
    l10n_ru_kkm_permissive_categ_ids = fields.Many2many(
        related="company_id.l10n_ru_kkm_permissive_categ_ids", readonly=False
    )
    l10n_ru_kkm_mark_route = fields.Selection(related="company_id.l10n_ru_kkm_mark_route", readonly=False)
    l10n_ru_kkm_mark_fallback = fields.Selection(
        related="company_id.l10n_ru_kkm_mark_fallback", readonly=False
    )
    l10n_ru_kkm_mark_url = fields.Char(related="company_id.l10n_ru_kkm_mark_url", readonly=False)
    l10n_ru_kkm_mark_api_key = fields.Char(
        related="company_id.l10n_ru_kkm_mark_api_key", readonly=False, groups="base.group_system"
    )
    l10n_ru_kkm_mark_local_url = fields.Char(related="company_id.l10n_ru_kkm_mark_local_url", readonly=False)
    l10n_ru_kkm_mark_local_api = fields.Selection(
        related="company_id.l10n_ru_kkm_mark_local_api", readonly=False
    )
    l10n_ru_kkm_mark_local_login = fields.Char(
        related="company_id.l10n_ru_kkm_mark_local_login", readonly=False, groups="base.group_system"
    )
    l10n_ru_kkm_mark_local_password = fields.Char(
        related="company_id.l10n_ru_kkm_mark_local_password", readonly=False, groups="base.group_system"
    )

    def action_l10n_ru_kkm_check_marking_connection(self):
        self.ensure_one()
        kind, message = self.env["l10n_ru_kkm.mark.check"]._l10n_ru_kkm_check_connection(self.company_id)
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": self.env._("Marking check"),
                "message": message,
                "type": kind,
                "sticky": kind != "success",
            },
        }

    def action_l10n_ru_kkm_check_connection(self):
        """Save the settings as shown, then check them: the first click checks what is on screen."""
        self.ensure_one()
        self.set_values()
        kind, message = self.company_id._l10n_ru_kkm_check_connection()
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": self.env._("Fiscal receipts"),
                "message": message,
                "type": kind,
                "sticky": kind != "success",
            },
        }

    def action_l10n_ru_kkm_set_vat_codes(self):
        """Save the settings, then propose the fiscal VAT code of every sales tax, to confirm."""
        self.ensure_one()
        self.set_values()
        return self.env["l10n_ru_kkm.vat.code.wizard"]._l10n_ru_kkm_open(self.company_id)
