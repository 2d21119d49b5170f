"""Advance payments (company option "Receipts for advance payments"): a customer payment still
unmatched when its transaction commits is registered at once as an advance (tag 1214 = 3: the
goods are not known yet). When an invoice is paid with it, the invoice's receipt offsets the
advance (payment type 2) and only the rest is paid electronically (see the builder's stages).
"""

from odoo import models


class AccountPayment(models.Model):
    _inherit = "account.payment"

    def action_post(self):
        result = super().action_post()
        if self.env.context.get("active_model") in ("account.move", "account.move.line"):
            return result  # registered from invoices or journal items: it pays them
        advances = self.filtered(
            lambda p: (
                p.payment_type == "inbound"
                and p.partner_type == "customer"
                and p.company_id.l10n_ru_kkm_enabled
                and p.company_id.l10n_ru_kkm_prepayment
                # Offsets are known when the invoice is paid, not when it is confirmed.
                and p.company_id.l10n_ru_kkm_trigger == "paid"
            )
        )
        if advances:
            # Paying an invoice posts the payment, then matches it: only what is still unmatched
            # when the transaction ends is an advance. (A savepoint taken in between would run
            # this early: the payment would get an advance receipt that its invoice's receipt
            # then offsets, two coherent receipts instead of one.)
            payment_ids, env = advances.ids, self.env
            self.env.cr.precommit.add(
                lambda: env["account.payment"].browse(payment_ids)._l10n_ru_kkm_register_advance()
            )
        return result

    def _l10n_ru_kkm_register_advance(self):
        self.env.flush_all()
        values_list = []
        for payment in self.exists():
            move = payment.move_id
            receivable = move.line_ids.filtered(
                lambda line: line.account_id.account_type == "asset_receivable"
            )
            if (
                payment.state not in ("in_process", "paid")
                or not receivable
                or any(
                    line.reconciled or line.matched_credit_ids or line.matched_debit_ids
                    for line in receivable
                )
            ):
                continue
            if move.l10n_ru_kkm_receipt_ids:
                continue
            values_list.append(
                self.env["l10n_ru_kkm.receipt"]._l10n_ru_kkm_values(
                    move, "sell", payment_stage="prepayment", amount_total=payment.amount
                )
            )
        receipts = self.env["l10n_ru_kkm.receipt"]._l10n_ru_kkm_create_prepared(values_list)
        receipts._l10n_ru_kkm_dispatch()
        return receipts
