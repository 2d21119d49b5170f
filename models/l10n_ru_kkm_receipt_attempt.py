import psycopg2

from odoo import fields, models

from ..vendors import safe


class L10nRuKkmReceiptAttempt(models.Model):
    """One exchange with the cash register service, kept even when the send rolls back."""

    _name = "l10n_ru_kkm.receipt.attempt"
    _description = "Fiscal receipt exchange"
    _order = "id desc"

    receipt_id = fields.Many2one(
        "l10n_ru_kkm.receipt", required=True, readonly=True, index=True, ondelete="cascade"
    )
    company_id = fields.Many2one(related="receipt_id.company_id", store=True, index=True)
    # The register this exchange was with (a receipt may move to a backup register): its health.
    register_id = fields.Many2one("l10n_ru_kkm.register", string="Cash register", readonly=True, index=True)
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
    external_id = fields.Char(
        string="External ID", readonly=True, help="The idempotency key a registration was sent under."
    )
    may_hold = fields.Boolean(
        string="Service may hold it",
        readonly=True,
        help="After this registration request the service may hold a document under its external ID. "
        "Committed before the request leaves, cleared only when the answer proves that nothing was "
        "registered.",
    )

    def _log_independently(self, values):
        """Commit the attempt in a cursor of its own; returns it in this environment.

        Falls back to the current transaction when the receipt itself is not committed
        yet (the foreign key cannot be seen from another transaction).
        """
        values = self._safe_values(values)
        try:
            with self.env.registry.cursor() as cr:
                attempt_id = self.env(cr=cr)[self._name].sudo().create(values).id
        except psycopg2.Error:
            attempt_id = self.sudo().create(values).id
        return self.browse(attempt_id)

    def _write_independently(self, values):
        """Update attempts in a cursor of their own (same fallback as ``_log_independently``)."""
        values = self._safe_values(values)
        with self.env.registry.cursor() as cr:
            committed = self.with_env(self.env(cr=cr)).sudo().exists()
            committed.write(values)
        if len(committed) < len(self):  # created in the current, uncommitted transaction
            self.sudo().write(values)
        self.invalidate_recordset(list(values))

    def _l10n_ru_kkm_settle(self):
        """The answer proves that nothing was registered under this attempt's external id."""
        self._write_independently({"may_hold": False})

    @staticmethod
    def _safe_values(values):
        cleaned = {}
        for name, value in values.items():
            if name in ("request_payload", "response_payload"):
                value = safe.storable(value) if value is not None else None
            elif isinstance(value, str):
                value = safe.text(value)
            cleaned[name] = value
        return cleaned
