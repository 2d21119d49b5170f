from datetime import UTC, datetime

import psycopg2
import psycopg2.extras

from odoo import fields, models
from odoo.tools import SQL

from ..vendors import safe


class L10nRuKkmReceiptAttempt(models.Model):
    """One exchange with the cash register service, kept even when the send rolls back."""

    _name = "l10n_ru_kkm.receipt.attempt"
    _description = "Fiscal receipt exchange"
    _order = "id desc"

    receipt_id = fields.Many2one(
        "l10n_ru_kkm.receipt", required=True, readonly=True, index=True, ondelete="cascade"
    )
    # The receipt's company, written with the row (a stored related field would cost each
    # exchange a second query).
    company_id = fields.Many2one("res.company", readonly=True, index=True)
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
        """Commit the attempt(s) (``values``: a dict or a list of dicts) in a cursor of their
        own; returns them in this environment.

        Falls back to the current transaction when the receipt itself is not committed
        yet (the foreign key cannot be seen from another transaction).
        """
        values_list = [values] if isinstance(values, dict) else values
        values_list = [self._safe_values(self._with_company(vals)) for vals in values_list]
        try:
            with self.env.registry.cursor() as cr:
                attempt_ids = self.env(cr=cr)[self._name].sudo().create(values_list).ids
        except psycopg2.Error:
            attempt_ids = self.sudo().create(values_list).ids
        return self.browse(attempt_ids)

    def _with_company(self, values):
        if "company_id" in values or not values.get("receipt_id"):
            return values
        receipt = self.env["l10n_ru_kkm.receipt"].sudo().browse(values["receipt_id"])
        return dict(values, company_id=receipt.company_id.id)

    def _l10n_ru_kkm_in_flight(self, receipt, register, message):
        """(attempt, held_before): a registration attempt of ``receipt`` marked in flight,
        committed in a cursor of its own in one statement, and whether an earlier registration
        under the same external id may have reached the service (same fallback as
        ``_log_independently``)."""
        query = SQL(
            """
            INSERT INTO l10n_ru_kkm_receipt_attempt
                   (receipt_id, company_id, register_id, action, external_id, may_hold, message,
                    create_uid, write_uid, create_date, write_date)
            VALUES (%(receipt)s, %(company)s, %(register)s, 'register', %(external_id)s, TRUE,
                    %(message)s, %(uid)s, %(uid)s, %(now)s, %(now)s)
         RETURNING id, EXISTS(
                   SELECT 1 FROM l10n_ru_kkm_receipt_attempt
                    WHERE receipt_id = %(receipt)s AND action = 'register'
                      AND external_id = %(external_id)s AND may_hold)
            """,
            receipt=receipt.id,
            company=receipt.company_id.id,
            register=register.id or None,
            external_id=receipt.external_id,
            message=message,
            uid=self.env.uid,
            now=_now(),
        )
        try:
            with self.env.registry.cursor() as cr:
                cr.execute(query)
                attempt_id, held_before = cr.fetchone()
        except psycopg2.Error:
            self.env.cr.execute(query)
            attempt_id, held_before = self.env.cr.fetchone()
        receipt.invalidate_recordset(["attempt_ids"])
        return self.browse(attempt_id), held_before

    def _write_independently(self, values):
        """Update attempts in a cursor of their own, in one statement (same fallback as
        ``_log_independently``)."""
        values = self._safe_values(dict(values, write_uid=self.env.uid))
        assignments = SQL(", ").join(
            [
                *(
                    SQL("%s = %s", SQL.identifier(name), self._column_value(name, value))
                    for name, value in values.items()
                ),
                SQL("write_date = %s", _now()),
            ]
        )
        query = SQL(
            "UPDATE l10n_ru_kkm_receipt_attempt SET %s WHERE id IN %s RETURNING id",
            assignments,
            tuple(self.ids),
        )
        with self.env.registry.cursor() as cr:
            cr.execute(query)
            written = {row[0] for row in cr.fetchall()}
        if written != set(self.ids):  # created in the current, uncommitted transaction
            orm_values = {k: v for k, v in values.items() if k != "write_uid"}
            self.browse(set(self.ids) - written).sudo().write(orm_values)
        self.invalidate_recordset(list(values))

    def _column_value(self, name, value):
        if self._fields[name].type == "json":
            return psycopg2.extras.Json(value) if value is not None else None
        if self._fields[name].type == "many2one":
            return value or None
        return value

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


def _now():
    """The time an attempt is written, to the microsecond, as a cursor of its own would stamp
    it (its order against other attempts is what the register's health reads)."""
    return datetime.now(UTC).replace(tzinfo=None)
