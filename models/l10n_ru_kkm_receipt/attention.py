"""What needs someone, said in the reader's language: the problems a receipt stores as codes
(see models/problems.py), and the one note and activity that tell the accountant; and the one
short note that says a receipt was registered."""

from markupsafe import Markup

from odoo import api, models

from .. import problems as pb

FAILED_ACTIVITY = "l10n_ru_kkm.mail_activity_receipt_failed"


class L10nRuKkmReceipt(models.Model):
    _inherit = "l10n_ru_kkm.receipt"

    @api.depends_context("lang")
    @api.depends(
        "problems", "vendor_message", "state", "needs_attention", "needs_decision", "retries_exhausted"
    )
    def _compute_error_message(self):
        for receipt in self:
            receipt.error_message = (
                pb.render(receipt.env, receipt.problems) or receipt.vendor_message or False
            )
            failing = receipt.state == "error" or receipt.needs_attention or receipt.needs_decision
            receipt.problem_text = failing and receipt._l10n_ru_kkm_problem_text()

    def _l10n_ru_kkm_problem_text(self):
        """What is wrong with this receipt, and what to do, in the reader's language."""
        self.ensure_one()
        text = pb.render(self.env, self.problems) or self.vendor_message
        if text:
            return text
        if self.state == "error":
            return self.env._("The service refused the receipt.")
        return pb.render(self.env, [pb.problem("no_result", count=self.poll_count).as_json()])

    def _l10n_ru_kkm_for_the_accountant(self):
        """The receipt read in the language of the invoice's accountant: a chatter note is written
        once, for the person who follows the invoice, whoever (or whichever job) wrote it."""
        self.ensure_one()
        move = self.move_id.sudo()
        accountant = move.invoice_user_id or move.create_uid
        lang = accountant.lang or move.company_id.partner_id.lang or self.env.lang
        return self.with_context(lang=lang), accountant

    def _l10n_ru_kkm_notify_failure(self):
        """A note in the invoice's chatter (no e-mail to followers) and one activity per invoice."""
        for receipt in self:
            receipt, accountant = receipt._l10n_ru_kkm_for_the_accountant()
            move = receipt.move_id.sudo()
            text = receipt._l10n_ru_kkm_problem_text()
            move._message_log(
                body=Markup("<p>%s</p><p>%s</p>")
                % (receipt.env._("Fiscal receipt %(name)s needs attention.", name=receipt.display_name), text)
            )
            activity_type = self.env.ref(FAILED_ACTIVITY)
            if move.activity_ids.filtered(lambda a, t=activity_type: a.activity_type_id == t):
                continue
            move.activity_schedule(FAILED_ACTIVITY, note=text, user_id=accountant.id)

    def _l10n_ru_kkm_note_registered(self):
        """One short note in the invoice's chatter per registered receipt: its FD number and
        the link to it at the fiscal data operator (no e-mail to followers), all in one INSERT."""
        bodies = {}
        for receipt in self:
            receipt, _accountant = receipt._l10n_ru_kkm_for_the_accountant()
            body = Markup("<p>%s") % receipt.env._(
                "Fiscal receipt %(name)s registered: FD %(fd)s.",
                name=receipt.display_name,
                fd=receipt.fiscal_document_number,
            )
            if receipt.ofd_link:
                body += Markup(' <a href="%s" target="_blank">%s</a>') % (
                    receipt.ofd_link,
                    receipt.env._("Receipt at the OFD"),
                )
            move_id = receipt.move_id.id
            bodies[move_id] = bodies.get(move_id, Markup()) + body + Markup("</p>")
        if bodies:
            self.move_id.sudo()._message_log_batch(bodies)
