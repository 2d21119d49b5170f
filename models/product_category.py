from odoo import api, models


class ProductCategory(models.Model):
    _inherit = "product.category"

    # Registers take the receipts of categories with their subcategories: the cached routing
    # table (l10n_ru_kkm_register/routing.py) is read again when the tree changes.
    @api.model_create_multi
    def create(self, vals_list):
        self.env.registry.clear_cache()
        return super().create(vals_list)

    def write(self, vals):
        if "parent_id" in vals:
            self.env.registry.clear_cache()
        return super().write(vals)
