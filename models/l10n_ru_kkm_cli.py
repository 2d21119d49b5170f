"""What ``odoo-bin kkm`` does, as model methods (the command file only parses arguments)."""

from odoo import api, fields, models
from odoo.exceptions import UserError

OK, FAILED, USAGE = 0, 1, 2


class L10nRuKkmCli(models.AbstractModel):
    _name = "l10n_ru_kkm.cli"
    _description = "Fiscal receipts command line"

    @api.model
    def _run(self, options):
        """(exit status, text to print) for the parsed command-line options."""
        command = options.pop("command")
        try:
            return getattr(self, f"_cli_{command}")(**options)
        except UserError as error:
            return FAILED, str(error.args[0])

    @api.model
    def _invoice(self, reference):
        moves = self.env["account.move"]
        domain = [("move_type", "in", ("out_invoice", "out_refund"))]
        found = moves.search(domain + [("name", "=", reference)], limit=2)
        if not found and reference.isdigit():
            found = moves.search(domain + [("id", "=", int(reference))])
        if len(found) != 1:
            raise UserError(self.env._("No single customer invoice or credit note %(ref)s.", ref=reference))
        return found

    @api.model
    def _describe(self, receipts):
        lines = []
        for receipt in receipts:
            line = f"{receipt.display_name}: {receipt._l10n_ru_kkm_state_label()}"
            if receipt.state == "done":
                line += f" (FN {receipt.fn_number}, FD {receipt.fiscal_document_number}, FPD {receipt.fiscal_document_attribute})"
            elif receipt.error_message:
                line += f" - {receipt.error_message}"
            lines.append(line)
        return "\n".join(lines)

    @api.model
    def _exit_code(self, receipts):
        return FAILED if not receipts or any(r.state == "error" for r in receipts) else OK

    @api.model
    def _in_transaction(self, model, ids, function):
        """``function(records)`` in a transaction of its own, committed at its end: a request
        must be committed before it leaves (docs/architecture.rst, "Exactly once"), and what another transaction
        committed is only seen by a new one."""
        self.env.flush_all()
        with self.env.registry.cursor() as cr:
            cli = api.Environment(cr, api.SUPERUSER_ID, {})[self._name]
            return function(cli.env[model].browse(ids), cli)

    @api.model
    def _finish(self, receipt_ids):
        """Send what waits, ask for the results, and describe the receipts."""
        model = "l10n_ru_kkm.receipt"
        self._in_transaction(model, receipt_ids, lambda receipts, cli: receipts._l10n_ru_kkm_send())
        self._in_transaction(model, receipt_ids, lambda receipts, cli: receipts._l10n_ru_kkm_fetch_report())
        return self._in_transaction(
            model, receipt_ids, lambda receipts, cli: (cli._exit_code(receipts), cli._describe(receipts))
        )

    @api.model
    def _cli_send(self, invoice):
        move = self._invoice(invoice)
        waiting = move.l10n_ru_kkm_receipt_ids.filtered(lambda r: r.state in ("to_send", "unknown"))
        refusal = self.env["l10n_ru_kkm.receipt"]._l10n_ru_kkm_refusal(move)
        if refusal and (not waiting or move.state != "posted"):
            return FAILED, refusal
        receipt_ids = self._in_transaction(
            "account.move",
            move.ids,
            lambda moves, cli: (
                moves._l10n_ru_kkm_create_missing_receipts().ids or moves.l10n_ru_kkm_receipt_ids.ids
            ),
        )
        return self._finish(receipt_ids)

    @api.model
    def _cli_resend(self, invoice):
        move = self._invoice(invoice)
        failed = move.l10n_ru_kkm_receipt_ids.filtered(lambda r: r.state == "error")
        if not failed:
            return FAILED, self.env._("Invoice %(move)s has no failed receipt.", move=move.display_name)
        try:
            self._in_transaction(
                "l10n_ru_kkm.receipt",
                failed.ids,
                lambda receipts, cli: receipts._l10n_ru_kkm_reset_for_resend(),
            )
        except UserError as error:
            return FAILED, str(error.args[0])
        return self._finish(failed.ids)

    @api.model
    def _cli_resell(self, invoice):
        """Refund the registered sale of the invoice, then register it again as it is now."""
        move = self._invoice(invoice)
        sales = self._in_transaction(
            "account.move",
            move.ids,
            lambda moves, cli: (
                moves.l10n_ru_kkm_receipt_ids.filtered(
                    lambda r: r.operation == "sell" and r.state == "done" and not r.refund_receipt_ids
                ).ids
            ),
        )
        if not sales:
            return FAILED, self.env._(
                "Invoice %(move)s has no registered sale receipt to re-issue.", move=move.display_name
            )
        refund_ids = self._in_transaction(
            "l10n_ru_kkm.receipt", sales, lambda receipts, cli: receipts._l10n_ru_kkm_resell().ids
        )
        code, text = self._finish(refund_ids)
        new_sale_ids = self._in_transaction(
            "l10n_ru_kkm.receipt", refund_ids, lambda refunds, cli: refunds.resell_receipt_id.ids
        )
        if not new_sale_ids:
            return FAILED, text
        code, new_text = self._finish(new_sale_ids)
        return code, f"{text}\n{new_text}"

    @api.model
    def _cli_poll(self):
        receipts = self.env["l10n_ru_kkm.receipt"]
        pending = receipts.search(receipts._l10n_ru_kkm_pending_domain())
        receipts._cron_l10n_ru_kkm_poll(due_only=False)
        still = pending.filtered(lambda r: r.state in ("sent", "unknown"))
        text = self.env._(
            "%(asked)s receipt(s) asked: %(done)s done, %(failed)s failed, %(waiting)s still waiting.",
            asked=len(pending),
            done=len(pending.filtered(lambda r: r.state == "done")),
            failed=len(pending.filtered(lambda r: r.state == "error")),
            waiting=len(still),
        )
        return OK, text

    @api.model
    def _companies_and_period(self, date_from, date_to, company):
        """(companies, start, end) of a command, or (exit status, message) when they are wrong."""
        try:
            start, end = fields.Date.to_date(date_from), fields.Date.to_date(date_to)
        except ValueError:
            return None, (USAGE, self.env._("Dates are written YYYY-MM-DD."))
        companies = self.env["res.company"].search([("l10n_ru_kkm_enabled", "=", True)])
        if company:
            companies = companies.filtered(lambda c: c.name == company or str(c.id) == company)
            if not companies:
                return None, (
                    FAILED,
                    self.env._("No company %(company)s with fiscal receipts enabled.", company=company),
                )
        return (companies, start, end), None

    @api.model
    def _cli_report(self, date_from, date_to, company=None):
        scope, refusal = self._companies_and_period(date_from, date_to, company)
        if refusal:
            return refusal
        companies, start, end = scope
        receipts = self.env["l10n_ru_kkm.receipt"]
        blocks, code = [], OK
        for each in companies:
            data = receipts._l10n_ru_kkm_report_data(each, start, end)
            blocks.append(self._report_text(data))
            if data["failed"] or data["problems"]:
                code = FAILED
        return code, "\n\n".join(blocks)

    @api.model
    def _cli_reconcile(self, date_from, date_to, company=None):
        """Reconcile each enabled company over the period; fails when something disagrees."""
        scope, refusal = self._companies_and_period(date_from, date_to, company)
        if refusal:
            return refusal
        companies, start, end = scope
        discrepancies = self.env["l10n_ru_kkm.discrepancy"]
        labels = dict(discrepancies._fields["kind"]._description_selection(self.env))
        lines, code = [], OK
        for each in companies:
            found = discrepancies._l10n_ru_kkm_reconcile(each, start, end)
            still = found.filtered(lambda d: not d.explained)
            lines.append(
                self.env._(
                    "%(company)s, %(start)s - %(end)s: %(count)s discrepancies (%(explained)s explained)",
                    company=each.name,
                    start=start,
                    end=end,
                    count=len(found),
                    explained=len(found) - len(still),
                )
            )
            for each_one in still:
                lines.append(
                    f"  {labels[each_one.kind]}\t{each_one.move_id.name or ''}\t"
                    f"{each_one.expected:.2f}\t{each_one.registered:.2f}\t{each_one.detail or ''}"
                )
            if still:
                code = FAILED
        return code, "\n".join(lines)

    @api.model
    def _report_text(self, data):
        lines = [
            self.env._(
                "Fiscal receipts of %(company)s, %(start)s - %(end)s",
                company=data["company"].name,
                start=data["date_from"],
                end=data["date_to"],
            ),
            self.env._(
                "created %(count)s, registered %(done)s, waiting %(pending)s, failed %(failed)s",
                count=data["count"],
                done=data["done"],
                pending=data["pending"],
                failed=data["failed"],
            ),
            self.env._(
                "sales registered %(sold)s, refunds registered %(refunded)s",
                sold=f"{data['sold']:.2f}",
                refunded=f"{data['refunded']:.2f}",
            ),
        ]
        for problem in data["problems"]:
            lines.append(
                f"  {problem['invoice']}\t{problem['state']}\t{problem['age_hours']} h\t{problem['error']}"
            )
        return "\n".join(lines)
