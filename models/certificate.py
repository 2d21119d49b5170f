from odoo import fields, models


class CertificateCertificate(models.Model):
    _inherit = "certificate.certificate"

    scope = fields.Selection(selection_add=[("l10n_ru_kkm", "Fiscal receipts (Checkonline)")])
