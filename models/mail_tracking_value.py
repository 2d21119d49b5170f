from odoo import models

# Tracked selections of the module, shown in the reader's language.
TRANSLATED_TRACKING = {"l10n_ru_kkm.receipt": ("state",)}


class MailTrackingValue(models.Model):
    _inherit = "mail.tracking.value"

    def _tracking_value_format_model(self, model):
        """A receipt's state changes read in the reader's language: Odoo keeps a selection's
        label as the writer (often a job) said it, so the label is mapped back to its value."""
        formatted = super()._tracking_value_format_model(model)
        names = TRANSLATED_TRACKING.get(model)
        if not names:
            return formatted
        by_id = {tracking.id: tracking for tracking in self}
        records = self.env[model]
        for entry in formatted:
            tracking = by_id.get(entry["id"])
            if not tracking or tracking.field_id.name not in names:
                continue
            field = records._fields[tracking.field_id.name]
            values = {}
            for lang, _name in self.env["res.lang"].get_installed():
                for value, label in field._description_selection(records.with_context(lang=lang).env):
                    values.setdefault(label, value)
            shown = dict(field._description_selection(self.env))
            for key in ("oldValue", "newValue"):
                value = values.get(entry[key])
                if value in shown:
                    entry[key] = shown[value]
        return formatted
