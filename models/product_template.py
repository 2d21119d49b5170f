from odoo import fields, models

from ..vendors.receipt import AGENT_TYPES, PAYMENT_METHODS, PAYMENT_OBJECTS

PAYMENT_OBJECT_LABELS = {
    "commodity": "Goods",
    "excise": "Excise goods",
    "job": "Work",
    "service": "Service",
    "payment": "Payment (advance, deposit)",
    "agent_commission": "Agent's commission",
    "another": "Other",
}
PAYMENT_METHOD_LABELS = {
    "full_prepayment": "Full prepayment",
    "prepayment": "Partial prepayment",
    "advance": "Advance",
    "full_payment": "Full payment",
    "partial_payment": "Partial payment and credit",
    "credit": "Credit",
    "credit_payment": "Credit payment",
}
AGENT_TYPE_LABELS = {
    "attorney": "Attorney (poverenny)",
    "commission_agent": "Commission agent",
    "another": "Other agent",
}


class ProductTemplate(models.Model):
    _inherit = "product.template"

    l10n_ru_kkm_payment_object = fields.Selection(
        selection=[(code, PAYMENT_OBJECT_LABELS[code]) for code in PAYMENT_OBJECTS],
        string="Fiscal payment object",
        help="What is sold, as printed on fiscal receipts (tag 1212). "
        "Empty: Service for services, Goods otherwise.",
    )
    l10n_ru_kkm_payment_method = fields.Selection(
        selection=[(code, PAYMENT_METHOD_LABELS[code]) for code in PAYMENT_METHODS],
        string="Fiscal payment method",
        help="How this product is settled, as printed on fiscal receipts (tag 1214). Empty: full payment.",
    )
    l10n_ru_kkm_marked = fields.Boolean(
        string="Marked goods",
        help="Goods under mandatory marking (Chestny ZNAK). Scan the marking code of each unit into "
        "its invoice line; without codes, FFD 1.2 receipts report them as marked goods without a code.",
    )
    l10n_ru_kkm_agent_type = fields.Selection(
        selection=[(code, AGENT_TYPE_LABELS[code]) for code in AGENT_TYPES],
        string="Sold as agent",
        help="You sell this product on behalf of a supplier (tag 1222): receipts name the supplier.",
    )
    l10n_ru_kkm_supplier_id = fields.Many2one(
        "res.partner",
        string="Supplier (principal)",
        help="Whom you sell this product for: receipts print its name, INN and phone (tags 1224-1226).",
    )
