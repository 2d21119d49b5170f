"""How each register is doing, from its exchanges and receipts (docs/architecture.rst, "Cash
registers"): the last success, the backlog, the share of failures and the median latency over
the last hour and day, the fiscal drive it reported; and one activity when it fails or falls
behind for longer than it allows."""

from datetime import timedelta

from odoo import api, fields, models

HEALTH_ACTIVITY = "l10n_ru_kkm.mail_activity_register_health"
MANAGERS = "l10n_ru_kkm.group_kkm_manager"
# An exchange failed when the service could not be reached or could not answer; a refusal (4xx)
# is an answer: the register works.
FAILED = "(a.error_type IS NOT NULL AND a.error_type != '') OR a.http_status >= 500 OR a.http_status = 429"


class L10nRuKkmRegister(models.Model):
    _inherit = "l10n_ru_kkm.register"

    def _compute_health(self):
        figures = self._l10n_ru_kkm_health_figures()
        now = fields.Datetime.now()
        for register in self:
            values = figures.get(register.id, {})
            register.update({name: values.get(name) or False for name in HEALTH_FIELDS})
            if values.get("failing_since") and now - values["failing_since"] >= timedelta(
                minutes=register.alert_minutes
            ):
                register.health = "failing"
            elif register.backlog_count > register.alert_backlog:
                register.health = "backlog"
            elif not values.get("last_success_at") and not values.get("failing_since"):
                register.health = "idle"
            else:
                register.health = "ok"

    def _l10n_ru_kkm_health_figures(self):
        """{register id: figures}, a few grouped queries for all the registers in ``self``."""
        ids = tuple(self.ids) or (0,)
        now = fields.Datetime.now()
        hour, day = now - timedelta(hours=1), now - timedelta(days=1)
        self.env["l10n_ru_kkm.receipt.attempt"].flush_model()
        self.env["l10n_ru_kkm.receipt"].flush_model()
        cr = self.env.cr
        cr.execute(
            f"""
            SELECT a.register_id,
                   max(a.create_date) FILTER (WHERE NOT ({FAILED}) AND a.http_status > 0),
                   count(*) FILTER (WHERE a.create_date >= %(hour)s),
                   count(*) FILTER (WHERE a.create_date >= %(hour)s AND ({FAILED})),
                   count(*) FILTER (WHERE a.create_date >= %(day)s),
                   count(*) FILTER (WHERE a.create_date >= %(day)s AND ({FAILED})),
                   percentile_cont(0.5) WITHIN GROUP (ORDER BY a.duration_ms)
                       FILTER (WHERE a.create_date >= %(hour)s AND a.http_status > 0),
                   percentile_cont(0.5) WITHIN GROUP (ORDER BY a.duration_ms)
                       FILTER (WHERE a.create_date >= %(day)s AND a.http_status > 0)
              FROM l10n_ru_kkm_receipt_attempt a
             WHERE a.register_id IN %(ids)s
             GROUP BY a.register_id
            """,  # FAILED is a constant of this module, not input
            {"ids": ids, "hour": hour, "day": day},
        )
        figures = {}
        for (
            register_id,
            success,
            hour_all,
            hour_failed,
            day_all,
            day_failed,
            hour_ms,
            day_ms,
        ) in cr.fetchall():
            figures[register_id] = {
                "last_success_at": success,
                "failure_share_hour": 100.0 * hour_failed / hour_all if hour_all else 0.0,
                "failure_share_day": 100.0 * day_failed / day_all if day_all else 0.0,
                "latency_hour_ms": int(hour_ms or 0),
                "latency_day_ms": int(day_ms or 0),
            }
        # Failing since the first failure after the last success.
        cr.execute(
            f"""
            SELECT a.register_id, min(a.create_date)
              FROM l10n_ru_kkm_receipt_attempt a
              LEFT JOIN (
                    SELECT register_id, max(create_date) AS success
                      FROM l10n_ru_kkm_receipt_attempt a
                     WHERE register_id IN %(ids)s AND NOT ({FAILED}) AND http_status > 0
                     GROUP BY register_id
                   ) s ON s.register_id = a.register_id
             WHERE a.register_id IN %(ids)s AND ({FAILED})
               AND (s.success IS NULL OR a.create_date > s.success)
             GROUP BY a.register_id
            """,  # FAILED is a constant of this module, not input
            {"ids": ids},
        )
        for register_id, since in cr.fetchall():
            figures.setdefault(register_id, {})["failing_since"] = since
        cr.execute(
            """
            SELECT register_id, count(*), min(create_date)
              FROM l10n_ru_kkm_receipt
             WHERE register_id IN %(ids)s AND state IN ('to_send', 'sent', 'unknown')
             GROUP BY register_id
            """,
            {"ids": ids},
        )
        for register_id, count, oldest in cr.fetchall():
            figures.setdefault(register_id, {}).update(backlog_count=count, backlog_oldest_at=oldest)
        cr.execute(
            """
            SELECT DISTINCT ON (register_id) register_id, fn_number, ecr_registration_number
              FROM l10n_ru_kkm_receipt
             WHERE register_id IN %(ids)s AND state = 'done' AND fn_number IS NOT NULL
             ORDER BY register_id, id DESC
            """,
            {"ids": ids},
        )
        for register_id, fn_number, registration in cr.fetchall():
            figures.setdefault(register_id, {}).update(fn_number=fn_number, registration_number=registration)
        return figures

    # -- alerts ----------------------------------------------------------------------------

    @api.model
    def _cron_l10n_ru_kkm_check_health(self):
        """One activity per register that fails or falls behind, for a fiscal administrator."""
        registers = self.sudo().search([("active", "=", True)])
        for register in registers.filtered(lambda r: r.health in ("failing", "backlog")):
            if register.activity_ids.filtered(lambda a: a.activity_type_id == self.env.ref(HEALTH_ACTIVITY)):
                continue
            register.activity_schedule(
                HEALTH_ACTIVITY,
                note=register._l10n_ru_kkm_health_text(),
                user_id=register._l10n_ru_kkm_administrator().id,
            )

    def _l10n_ru_kkm_administrator(self):
        """A fiscal administrator of the register's company (else the superuser's admin)."""
        self.ensure_one()
        managers = (
            self.env.ref(MANAGERS)
            .sudo()
            .all_user_ids.filtered(lambda u: self.company_id in u.company_ids and not u.share and u.active)
        )
        admin = self.env.ref("base.user_admin", raise_if_not_found=False)
        return managers.sorted("id")[:1] or admin or self.env.user

    def _l10n_ru_kkm_health_text(self):
        self.ensure_one()
        if self.health == "failing":
            return self.env._(
                "The cash register %(name)s has failed every request since %(since)s: check the "
                "service's status and the register's settings (Check connection).",
                name=self.name,
                since=fields.Datetime.to_string(self.failing_since),
            )
        if self.health == "backlog":
            return self.env._(
                "The cash register %(name)s has %(count)s receipts waiting, the oldest since %(since)s.",
                name=self.name,
                count=self.backlog_count,
                since=fields.Datetime.to_string(self.backlog_oldest_at),
            )
        return ""


HEALTH_FIELDS = (
    "last_success_at",
    "failing_since",
    "backlog_count",
    "backlog_oldest_at",
    "failure_share_hour",
    "failure_share_day",
    "latency_hour_ms",
    "latency_day_ms",
    "fn_number",
    "registration_number",
)
