import psycopg2

from odoo import fields, models


class L10nRuKkmReceiptAttempt(models.Model):
    """One exchange with the cash register service, kept even when the send rolls back."""

    _name = "l10n_ru_kkm.receipt.attempt"
    _description = "Fiscal receipt exchange"
    _order = "id desc"

    receipt_id = fields.Many2one(
        "l10n_ru_kkm.receipt", required=True, readonly=True, index=True, ondelete="cascade"
    )
    company_id = fields.Many2one(related="receipt_id.company_id", store=True, index=True)
    action = fields.Selection(
        selection=[
            ("token", "Authentication"),
            ("register", "Registration"),
            ("report", "Status request"),
            ("callback", "Callback"),
            ("check", "Connection check"),
        ],
        required=True,
        readonly=True,
    )
    url = fields.Char(string="URL", readonly=True)
    http_status = fields.Integer(string="HTTP status", readonly=True)
    duration_ms = fields.Integer(string="Duration (ms)", readonly=True)
    error_code = fields.Char(readonly=True)
    error_type = fields.Char(readonly=True)
    message = fields.Text(readonly=True)
    request_payload = fields.Json(readonly=True)
    response_payload = fields.Json(readonly=True)

    def _log_independently(self, values):
        """Commit the attempt in a cursor of its own.

        Falls back to the current transaction when the receipt itself is not committed
        yet (the foreign key cannot be seen from another transaction).
        """
        try:
            with self.env.registry.cursor() as cr:
                self.env(cr=cr)[self._name].sudo().create(values)
        except psycopg2.Error:
            self.sudo().create(values)
