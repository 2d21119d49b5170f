from odoo import api, fields, models
from odoo.exceptions import UserError

from ..models.l10n_ru_kkm_receipt.receipt import CORRECTION_TYPE_SELECTION
from ..vendors import CLIENTS


class L10nRuKkmCorrectionWizard(models.TransientModel):
    """Register a correction receipt for an invoice that was never, or wrongly, fiscalized."""

    _name = "l10n_ru_kkm.correction.wizard"
    _description = "Fiscal correction receipt"

    move_id = fields.Many2one("account.move", string="Invoice", required=True, readonly=True)
    company_id = fields.Many2one(related="move_id.company_id")
    register_id = fields.Many2one(
        "l10n_ru_kkm.register", string="Cash register", compute="_compute_register_id"
    )
    vendor = fields.Selection(related="register_id.vendor")
    operation = fields.Selection(
        selection=[
            ("sell_correction", "Correction of a sale"),
            ("sell_refund_correction", "Correction of a sale refund (FFD 1.2)"),
        ],
        required=True,
        default="sell_correction",
    )
    correction_type = fields.Selection(
        selection=CORRECTION_TYPE_SELECTION,
        string="Basis",
        required=True,
        default="self",
    )
    base_date = fields.Date(
        string="Date of the corrected settlement",
        required=True,
        help="When the sale that was not (or wrongly) registered took place (tag 1178).",
    )
    number_always = fields.Boolean(
        string="Number always required",
        compute="_compute_number_always",
        help="The service asks for the basis document's number even on the seller's own initiative.",
    )
    base_number = fields.Char(
        string="Document number",
        help="The tax office's order number (tag 1179); ATOL v4 also asks for the number of the "
        "seller's own act when correcting on its own initiative.",
    )

    @api.model
    def default_get(self, fields_list):
        values = super().default_get(fields_list)
        if self.env.context.get("active_model") == "account.move" and self.env.context.get("active_id"):
            move = self.env["account.move"].browse(self.env.context["active_id"])
            values.update(move_id=move.id, base_date=move.invoice_date)
            if move.move_type == "out_refund":
                values["operation"] = "sell_refund_correction"
        return values

    @api.depends("vendor")
    def _compute_number_always(self):
        for wizard in self:
            wizard.number_always = bool(wizard.vendor) and CLIENTS[wizard.vendor].correction_number_always

    def _check(self):
        receipts = self.env["l10n_ru_kkm.receipt"]
        receipts._l10n_ru_kkm_check_rights("l10n_ru_kkm.group_kkm_manager")
        refusal = receipts._l10n_ru_kkm_refusal(self.move_id)
        if refusal:
            raise UserError(refusal)
        client = CLIENTS[self.vendor]
        if not client.correction_operations:
            raise UserError(
                self.env._(
                    "Correction receipts through %(service)s are not supported yet: register it in the "
                    "service's account.",
                    service=client.label,
                )
            )
        if self.operation not in client.correction_operations:
            raise UserError(
                self.env._(
                    "A correction of a refund exists from FFD 1.2 only: choose ATOL Online v5 as the service."
                )
            )
        if not self.base_number and (self.correction_type == "instruction" or self.number_always):
            raise UserError(
                self.env._("Enter the number of the document that is the basis of the correction.")
            )

    @api.depends("move_id")
    def _compute_register_id(self):
        # The register that holds the sale being corrected (routing, as for any receipt).
        route = self.env["l10n_ru_kkm.register"]._l10n_ru_kkm_route
        for wizard in self:
            wizard.register_id = route(wizard.move_id)[0] if wizard.move_id else False

    def action_register(self):
        self.ensure_one()
        self._check()
        receipts = self.env["l10n_ru_kkm.receipt"]
        receipt = receipts._l10n_ru_kkm_create_prepared(
            [
                receipts._l10n_ru_kkm_values(
                    self.move_id,
                    self.operation,
                    register=self.register_id,
                    correction_type=self.correction_type,
                    correction_base_date=self.base_date,
                    correction_base_number=self.base_number,
                )
            ]
        )
        failed = receipt.filtered(lambda r: r.state == "error")
        if failed:
            raise UserError(failed[0].error_message)
        receipt._l10n_ru_kkm_enqueue()
        # One receipt, or one per part when the invoice needs several.
        action = {"type": "ir.actions.act_window", "res_model": "l10n_ru_kkm.receipt"}
        if len(receipt) == 1:
            return dict(action, res_id=receipt.id, view_mode="form")
        return dict(
            action,
            name=self.env._("Correction receipts"),
            domain=[("id", "in", receipt.ids)],
            view_mode="list,form",
        )
