"""No English string of the module is left on its main screens in a Russian session (issue "The
accountant's day, polished"): the receipt's form and list, the cash register's form, the
settings and the invoice's form, rendered as the web client gets them, with their fields."""

import os
import re

import polib
from lxml import etree

from odoo.tests import TransactionCase, tagged

MODULE = "l10n_ru_kkm"
POT_PATH = os.path.join(os.path.dirname(__file__), "..", "i18n", f"{MODULE}.pot")
# The screens: (model, view of the module or of Odoo that it extends, the module's views in it).
SCREENS = (
    ("l10n_ru_kkm.receipt", "form", "l10n_ru_kkm.l10n_ru_kkm_receipt_view_form", ()),
    ("l10n_ru_kkm.receipt", "list", "l10n_ru_kkm.l10n_ru_kkm_receipt_view_list", ()),
    ("l10n_ru_kkm.register", "form", "l10n_ru_kkm.l10n_ru_kkm_register_view_form", ()),
    ("res.config.settings", "form", "base.res_config_settings_view_form", ("res_config_settings_view_form",)),
    ("account.move", "form", "account.view_move_form", ("view_move_form_inherit_l10n_ru_kkm",)),
)
# What a rendered view says to its reader.
SAID = ("string", "help", "placeholder", "title", "confirm", "data-tooltip")


def _normal(text):
    return " ".join(text.split())


@tagged("post_install", "-at_install")
class TestRussianScreens(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["res.lang"]._activate_lang("ru_RU")
        cls.env["ir.module.module"]._load_module_terms(
            ["base", "web", "mail", "account", MODULE], ["ru_RU"], overwrite=True
        )
        cls.template = [entry for entry in polib.pofile(POT_PATH) if entry.msgid and not entry.obsolete]

    def _rendered(self, model, view_type, view_ref):
        """The texts of a view and of its fields' labels, helps and values, in Russian."""
        env = self.env(context={"lang": "ru_RU"})
        result = env[model].get_views([(env.ref(view_ref).id, view_type)])
        texts = set()
        for node in etree.fromstring(result["views"][view_type]["arch"]).iter():
            if node.text and node.text.strip():
                texts.add(_normal(node.text))
            if node.tail and node.tail.strip():
                texts.add(_normal(node.tail))
            texts.update(_normal(node.get(attribute)) for attribute in SAID if node.get(attribute))
        fields = {}
        for model_name, description in result["models"].items():
            for name, field in description["fields"].items():
                fields[(model_name, name)] = field
                texts.update(_normal(field[key]) for key in ("string", "help") if field.get(key))
                texts.update(_normal(label) for _value, label in field.get("selection") or ())
        return texts, fields

    def _english_sources(self, view_names, fields):
        """The module's msgids that these views and fields show."""
        places = {f"model_terms:ir.ui.view,arch_db:{MODULE}.{name}" for name in view_names}
        for model_name, name in fields:
            technical = model_name.replace(".", "_")
            places.add(f"model:ir.model.fields,field_description:{MODULE}.field_{technical}__{name}")
            places.add(f"model:ir.model.fields,help:{MODULE}.field_{technical}__{name}")
        selection = re.compile(
            rf"model:ir\.model\.fields\.selection,name:{MODULE}\.selection__("
            + "|".join(re.escape(f"{m.replace('.', '_')}__{n}") for m, n in fields)
            + r")__"
        )
        return {
            _normal(entry.msgid)
            for entry in self.template
            if any(place in places or selection.match(place) for place, _line in entry.occurrences)
            # Names that are the same in both languages (e.g. "OFD.ru") are not English.
            and len(re.findall("[a-z]", entry.msgid, re.IGNORECASE)) > 3
        }

    def test_no_english_string_of_the_module_in_a_russian_session(self):
        for model, view_type, view_ref, extensions in SCREENS:
            with self.subTest(view=view_ref):
                texts, fields = self._rendered(model, view_type, view_ref)
                own = extensions or (view_ref.split(".", 1)[1],)
                sources = self._english_sources(own, fields)
                self.assertGreater(len(sources), 5, "the module's strings of this screen are found")
                self.assertTrue(any(re.search("[а-яё]", text, re.IGNORECASE) for text in texts))
                english = sorted(sources & texts)
                self.assertFalse(english, f"English left on {view_ref}:\n" + "\n".join(english))
