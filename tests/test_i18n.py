"""The Russian translation is complete, keeps the placeholders, and follows the code.

When a string of the module is added or changed, TestTemplateUpToDate fails: export the template
again from a database with the module up to date, merge it into ru.po, translate the new entries
(then no entry may stay empty or fuzzy):

    odoo-bin -d DB --addons-path=... -u l10n_ru_kkm --stop-after-init
    odoo-bin --addons-path=... i18n export -d DB -l pot -- l10n_ru_kkm
    msgmerge --quiet --update --backup=none --no-fuzzy-matching i18n/ru.po i18n/l10n_ru_kkm.pot
    msgattrib --no-obsolete -o i18n/ru.po i18n/ru.po
    python3 -c "import polib; polib.pofile('i18n/ru.po').save()"   # Odoo's 78-column wrapping
"""

import io
import os
import re

import polib

from odoo.tests import TransactionCase, tagged
from odoo.tools.translate import trans_export

from .common import KkmCase

MODULE = "l10n_ru_kkm"
I18N_DIR = os.path.join(os.path.dirname(__file__), "..", "i18n")
POT_PATH = os.path.join(I18N_DIR, f"{MODULE}.pot")
RU_PATH = os.path.join(I18N_DIR, "ru.po")

# printf-style placeholders as Python formats them: "%%", "%(name)s", "%s", "%d", ...
PLACEHOLDER = re.compile(
    r"%%|%\([^)]+\)[-#0+]*\d*(?:\.\d+)?[sdifrxXeEgGc]|%[-#0+]*\d*(?:\.\d+)?[sdifrxXeEgGc]"
)
MARKUP = re.compile(r"</?([a-zA-Z][a-zA-Z0-9]*)\b")
# A bare percent sign in text that is not formatted ("VAT 20%", "НДС 20 %") is no placeholder.
POSITIONAL = re.compile(r"^%[-#0+]*\d*(?:\.\d+)?[sdifrxXeEgGc]$")


def _entries(path):
    return [entry for entry in polib.pofile(path) if not entry.obsolete]


def _placeholders(text):
    return PLACEHOLDER.findall(text)


def _short(text, width=90):
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


class TestRussianTranslation(KkmCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.pot = _entries(POT_PATH)
        cls.ru = _entries(RU_PATH)
        cls.ru_by_msgid = {entry.msgid: entry for entry in cls.ru}

    def test_files_parse_and_header(self):
        self.assertTrue(self.pot, "the template has no entry")
        metadata = polib.pofile(RU_PATH).metadata
        self.assertEqual(metadata.get("Language"), "ru")
        self.assertIn("nplurals=3", metadata.get("Plural-Forms", ""))
        self.assertEqual(len(self.ru_by_msgid), len(self.ru), "ru.po defines a msgid twice")

    def test_every_template_entry_is_translated(self):
        problems = []
        for entry in self.pot:
            translation = self.ru_by_msgid.get(entry.msgid)
            if translation is None:
                problems.append(f"missing from ru.po: {_short(entry.msgid)!r}")
            elif "fuzzy" in translation.flags:
                problems.append(f"fuzzy: {_short(entry.msgid)!r}")
            elif not translation.msgstr.strip():
                problems.append(f"not translated: {_short(entry.msgid)!r}")
        self.assertFalse(problems, "\n".join(problems))

    def test_no_stale_or_fuzzy_entry_in_ru_po(self):
        template = {entry.msgid for entry in self.pot}
        stale = [_short(entry.msgid) for entry in self.ru if entry.msgid not in template]
        self.assertFalse(stale, "entries of ru.po that the template no longer has:\n" + "\n".join(stale))
        fuzzy = [_short(entry.msgid) for entry in self.ru if "fuzzy" in entry.flags]
        self.assertFalse(fuzzy, "fuzzy entries:\n" + "\n".join(fuzzy))

    def test_placeholders_are_kept(self):
        problems = []
        for entry in self.ru:
            if not entry.msgstr:
                continue
            source, translated = _placeholders(entry.msgid), _placeholders(entry.msgstr)
            positional = [token for token in source if POSITIONAL.match(token)]
            positional_translated = [token for token in translated if POSITIONAL.match(token)]
            if set(source) != set(translated) or positional != positional_translated:
                problems.append(
                    f"{_short(entry.msgid)!r}: {sorted(set(source))} != {sorted(set(translated))}"
                )
        self.assertFalse(problems, "placeholders differ:\n" + "\n".join(problems))

    def test_markup_is_kept(self):
        problems = [
            _short(entry.msgid)
            for entry in self.ru
            if entry.msgstr and sorted(MARKUP.findall(entry.msgid)) != sorted(MARKUP.findall(entry.msgstr))
        ]
        self.assertFalse(problems, "HTML tags differ:\n" + "\n".join(problems))

    def test_translation_is_russian(self):
        cyrillic = re.compile("[а-яё]", re.IGNORECASE)
        untranslated = [
            _short(entry.msgid)
            for entry in self.ru
            # URLs, codes and the like have no letter to translate.
            if len(re.findall("[a-z]", entry.msgid, re.IGNORECASE)) > 3
            and not entry.msgid.startswith("http")
            and entry.msgid not in {"URL", "ID"}
            and not cyrillic.search(entry.msgstr)
        ]
        self.assertFalse(untranslated, "msgstr without Russian text:\n" + "\n".join(untranslated))

    def test_placeholder_parser(self):
        self.assertEqual(_placeholders("a %(n)s b %s c %% d %(x)d"), ["%(n)s", "%s", "%%", "%(x)d"])
        self.assertEqual(_placeholders("VAT 20% and НДС 20 %"), [])


@tagged("post_install", "-at_install")
class TestTemplateUpToDate(TransactionCase):
    """The .pot holds exactly the terms that Odoo exports for the installed module."""

    def test_pot_matches_the_code(self):
        buffer = io.BytesIO()
        self.assertTrue(trans_export(None, [MODULE], buffer, "po", self.env), "no term exported")
        exported = {entry.msgid for entry in polib.pofile(buffer.getvalue().decode("utf-8")) if entry.msgid}
        template = {entry.msgid for entry in _entries(POT_PATH)}
        missing = sorted(_short(msgid) for msgid in exported - template)
        gone = sorted(_short(msgid) for msgid in template - exported)
        self.assertFalse(
            missing or gone,
            "i18n/l10n_ru_kkm.pot is out of date: export it again and merge it into ru.po.\n"
            + "".join(f"new in the code: {msgid!r}\n" for msgid in missing)
            + "".join(f"no longer in the code: {msgid!r}\n" for msgid in gone),
        )
