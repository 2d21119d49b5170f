"""The pace of status requests, shared by every worker and server through the database
(docs/architecture.rst, "Speed and scale"): ATOL accepts one status request per second per
group of cash registers (vendor-api.md, "Report polling"), however many processes ask."""

import psycopg2.extensions

from odoo import api, models
from odoo.tools import SQL

PACE_TABLE = "l10n_ru_kkm_poll_pace"


class L10nRuKkmRegister(models.Model):
    _inherit = "l10n_ru_kkm.register"

    def init(self):
        result = super().init()
        # Unlogged: a lost pace after a crash only means one more second of caution.
        self.env.cr.execute(
            SQL(
                "CREATE UNLOGGED TABLE IF NOT EXISTS %s (key varchar PRIMARY KEY, next_at timestamp NOT NULL)",
                SQL.identifier(PACE_TABLE),
            )
        )
        return result

    @api.model
    def _l10n_ru_kkm_reserve_slots(self, key, count, spacing):
        """Reserve ``count`` consecutive request slots ``spacing`` seconds apart for ``key``;
        returns how many seconds from now the first one starts.

        One short transaction of its own (READ COMMITTED: concurrent reservations queue on the
        row instead of failing), so that two workers never get the same slot.
        """
        if count <= 0 or spacing <= 0:
            return 0.0
        span = count * spacing
        with self.env.registry.cursor() as cr:
            read_committed(cr)
            cr.execute(
                SQL(
                    """
                    INSERT INTO %(table)s AS pace (key, next_at)
                         VALUES (%(key)s, (clock_timestamp() AT TIME ZONE 'UTC') + make_interval(secs => %(span)s))
                    ON CONFLICT (key) DO UPDATE
                            SET next_at = GREATEST(pace.next_at, clock_timestamp() AT TIME ZONE 'UTC')
                                          + make_interval(secs => %(span)s)
                      RETURNING EXTRACT(EPOCH FROM pace.next_at - (clock_timestamp() AT TIME ZONE 'UTC'))
                    """,
                    table=SQL.identifier(PACE_TABLE),
                    key=key,
                    span=span,
                )
            )
            (ahead,) = cr.fetchone()
        return max(float(ahead) - span, 0.0)


def read_committed(cr):
    """READ COMMITTED for a transaction not started yet (a test cursor shares one that is)."""
    connection = getattr(cr, "_cnx", None)
    if connection is not None and (
        connection.get_transaction_status() == psycopg2.extensions.TRANSACTION_STATUS_IDLE
    ):
        cr.execute("SET TRANSACTION ISOLATION LEVEL READ COMMITTED")
