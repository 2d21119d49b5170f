"""Resell: re-issue a registered sale whose data was wrong.

The registered sale is refunded by a receipt that mirrors it (same items and payments, the
original's fiscal sign as additional attribute, tag 1192); only when that refund is done is a
new sale built from the invoice as it is now. The chain is kept on the receipts.
"""

from odoo import fields, models
from odoo.exceptions import UserError

# ATOL's additional receipt attribute holds at most 16 characters (tag 1192).
ADDITIONAL_PROPS_MAX = 16


class L10nRuKkmReceipt(models.Model):
    _inherit = "l10n_ru_kkm.receipt"

    origin_receipt_id = fields.Many2one(
        "l10n_ru_kkm.receipt",
        string="Refunded receipt",
        readonly=True,
        index="btree_not_null",
        help="The registered sale this refund cancels (resell).",
    )
    resell_receipt_id = fields.Many2one(
        "l10n_ru_kkm.receipt",
        string="New sale receipt",
        readonly=True,
        help="The sale registered again once this refund was done (resell).",
    )
    refund_receipt_ids = fields.One2many(
        "l10n_ru_kkm.receipt", "origin_receipt_id", string="Refunds of this receipt", readonly=True
    )

    def _l10n_ru_kkm_check_resellable(self):
        for receipt in self:
            if receipt.operation != "sell" or receipt.state != "done":
                raise UserError(
                    self.env._(
                        "Only a registered sale receipt can be re-issued; %(name)s is %(state)s.",
                        name=receipt.display_name,
                        state=receipt._l10n_ru_kkm_state_label(),
                    )
                )
            if receipt.refund_receipt_ids.filtered(lambda r: r.state not in ("error", "cancelled")):
                raise UserError(
                    self.env._(
                        "%(name)s is already being re-issued: follow its refund receipt.",
                        name=receipt.display_name,
                    )
                )

    def _l10n_ru_kkm_resell(self):
        """Create and queue the refund of each registered sale; the new sale follows it."""
        self._l10n_ru_kkm_check_resellable()
        # The refund repeats the registered sale: same service, group and amount.
        refunds = self._l10n_ru_kkm_create_prepared(
            [
                self._l10n_ru_kkm_values(
                    receipt.move_id,
                    "sell_refund",
                    vendor=receipt.vendor,
                    group_code=receipt.group_code,
                    origin_receipt_id=receipt.id,
                    amount_total=receipt.amount_total,
                )
                for receipt in self
            ]
        )
        refunds._l10n_ru_kkm_enqueue()
        return refunds

    def _l10n_ru_kkm_build_requests(self):
        # A resell's refund repeats what was registered, whatever the invoice says now: the
        # same part of a split invoice.
        original = self.origin_receipt_id
        if original:
            values = {
                "part": original.part,
                "part_count": original.part_count,
                "external_id": self.external_id,
            }
            return [(values, self._l10n_ru_kkm_mirror_payload(original))]
        return super()._l10n_ru_kkm_build_requests()

    def _l10n_ru_kkm_mirror_payload(self, original):
        """The original's request with this receipt's id, refunding exactly what it registered."""
        payload = dict(original.request_payload)
        attribute = (original.fiscal_document_attribute or "")[:ADDITIONAL_PROPS_MAX]
        if self.vendor == "checkonline":
            payload.update(RequestId=self.external_id, DocumentType=2)
            return payload
        payload["external_id"] = self.external_id
        payload.pop("service", None)  # requests frozen before callbacks were added at send time
        payload["receipt"] = dict(payload["receipt"], additional_check_props=attribute)
        return payload

    def _l10n_ru_kkm_on_done(self):
        """A resell's refund is done: the invoice is sold again, as it is now."""
        result = super()._l10n_ru_kkm_on_done()
        for refund in self.filtered(lambda r: r.origin_receipt_id and not r.resell_receipt_id):
            new_sale = refund._l10n_ru_kkm_new_sale()
            refund.sudo().resell_receipt_id = new_sale
            new_sale._l10n_ru_kkm_dispatch()
        return result

    def _l10n_ru_kkm_new_sale(self):
        """The sale registered again, as the invoice is now: the same part of a split invoice."""
        self.ensure_one()
        values = self._l10n_ru_kkm_values(self.move_id, "sell", part=self.part, part_count=self.part_count)
        return self._l10n_ru_kkm_create_prepared([values])

    def action_l10n_ru_kkm_resume_resell(self):
        """Resume a chain whose new sale is missing (e.g. fiscalization was disabled meanwhile)."""
        self._l10n_ru_kkm_check_rights("l10n_ru_kkm.group_kkm_manager")
        done = self.filtered(lambda r: r.origin_receipt_id and r.state == "done" and not r.resell_receipt_id)
        done._l10n_ru_kkm_on_done()
        return done.resell_receipt_id
