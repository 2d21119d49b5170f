"""Screens that never mislead (issue "The accountant's day, polished"): no fiscal number that was
never given, no foreign amount passed for roubles, one clock per row, no *Send receipt* while a
receipt is being registered, marking codes only where marked goods are, one name for the service,
and menu paths that exist."""

import re
from datetime import date
from pathlib import Path

import polib
from lxml import etree

from odoo.tests import Form, tagged

from ..models.problems import TEMPLATES
from .common import KkmTestCommon

README = Path(__file__).parent.parent / "README.rst"
# "Invoicing › Fiscal receipts › Configuration › Cash registers", "Settings › Invoicing › ...".
SEGMENT = r"[A-Z][\w'’-]*(?: [\w'’-]+)*(?: \(54-FZ\))?"
PATH = re.compile(rf"(?:Invoicing|Settings|Accounting|Fiscal receipts)(?: › {SEGMENT})+")


def _view_fields(env, model, view_type, view_ref=None):
    """The <field> nodes of a view as the web client gets it, by name."""
    view_id = env.ref(view_ref).id if view_ref else False
    arch = env[model].get_views([(view_id, view_type)])["views"][view_type]["arch"]
    nodes = {}
    for node in etree.fromstring(arch).iter("field"):
        nodes.setdefault(node.get("name"), node)
    return nodes


@tagged("post_install", "-at_install")
class TestTruthfulScreens(KkmTestCommon):
    def test_fiscal_numbers_never_given_are_not_shown_as_zero(self):
        self.partner_a.write({"email": False, "phone": False})
        receipt = self.post_invoice().l10n_ru_kkm_receipt_ids
        self.assertEqual((receipt.state, receipt.fiscal_document_number), ("error", 0))
        lists = (
            _view_fields(self.env, "l10n_ru_kkm.receipt", "list"),
            _view_fields(self.env, "account.move", "form", "account.view_move_form")[
                "l10n_ru_kkm_receipt_ids"
            ],
        )
        receipt_list = lists[0]
        tab = {node.get("name"): node for node in lists[1].iter("field")}
        for fields_ in (receipt_list, tab):
            self.assertEqual(fields_["fiscal_document_number"].get("invisible"), "not fiscal_document_number")
            self.assertEqual(fields_["amount_total"].get("invisible"), "not amount_total")

    def test_one_clock_per_row_the_registration_in_moscow_time(self):
        receipt_list = _view_fields(self.env, "l10n_ru_kkm.receipt", "list")
        tab = {
            node.get("name"): node
            for node in _view_fields(self.env, "account.move", "form", "account.view_move_form")[
                "l10n_ru_kkm_receipt_ids"
            ].iter("field")
        }
        for fields_ in (receipt_list, tab):
            self.assertIn("receipt_datetime", fields_)
            self.assertEqual(fields_["create_date"].get("optional"), "hide", "a second clock is hidden")
        self.assertEqual(
            self.env["l10n_ru_kkm.receipt"]._fields["receipt_datetime"].string, "Registered (Moscow time)"
        )

    def test_send_receipt_is_not_offered_while_a_receipt_is_being_registered(self):
        move = self.post_invoice()
        receipt = move.l10n_ru_kkm_receipt_ids
        self.assertEqual(receipt.state, "to_send")
        self.assertTrue(move.l10n_ru_kkm_show_send, "a receipt that waits may be sent now")
        receipt._l10n_ru_kkm_mark_in_flight()
        move.invalidate_recordset(["l10n_ru_kkm_show_send"])
        self.assertFalse(move.l10n_ru_kkm_show_send, "its request is in flight")

        for state in ("sent", "unknown"):
            with self.subTest(state=state):
                other = self.post_invoice()
                other.l10n_ru_kkm_receipt_ids._l10n_ru_kkm_set_state(state)
                self.assertFalse(other.l10n_ru_kkm_show_send)

    def test_marking_codes_only_where_a_marked_product_is_on_the_invoice(self):
        marked = self.env["product.product"].create({"name": "Кроссовки", "l10n_ru_kkm_marked": True})
        plain = self.env["product.product"].create({"name": "Носки"})
        invoice = Form(self.env["account.move"].with_context(default_move_type="out_invoice"))
        invoice.partner_id = self.partner_a
        with invoice.invoice_line_ids.new() as line:
            line.product_id = plain
        self.assertFalse(invoice.l10n_ru_kkm_has_marked)
        with invoice.invoice_line_ids.new() as line:
            line.product_id = marked
        self.assertTrue(invoice.l10n_ru_kkm_has_marked, "the column appears as the marked product is added")
        bill = self.init_invoice("in_invoice", products=marked)
        self.assertFalse(bill.l10n_ru_kkm_has_marked, "vendor bills register no receipt")
        codes = _view_fields(self.env, "account.move", "form", "account.view_move_form")["invoice_line_ids"]
        column = next(node for node in codes.iter("field") if node.get("name") == "l10n_ru_kkm_mark_codes")
        self.assertEqual(column.get("column_invisible"), "not parent.l10n_ru_kkm_has_marked")

    def test_the_service_has_one_name_everywhere(self):
        for model in ("l10n_ru_kkm.receipt", "l10n_ru_kkm.register", "res.company"):
            field = "l10n_ru_kkm_vendor" if model == "res.company" else "vendor"
            self.assertEqual(self.env[model]._fields[field].string, "Cash register service", model)
        receipt_field = self.env["l10n_ru_kkm.receipt"]._fields["vendor"]
        self.assertIsInstance(receipt_field.selection, list, "a static list: its labels are translated")
        self.assertEqual(
            receipt_field.selection, self.env["l10n_ru_kkm.register"]._fields["vendor"].selection
        )
        search = self.env["l10n_ru_kkm.receipt"].get_views([(False, "search")])["views"]["search"]["arch"]
        group = etree.fromstring(search).xpath("//filter[@name='group_vendor']")[0]
        self.assertEqual(group.get("string"), "Cash register service")

    def test_menu_paths_in_messages_and_readme_exist(self):
        texts = list(TEMPLATES.values()) + [README.read_text()]
        module = Path(__file__).parent.parent
        for source in (*module.glob("models/**/*.py"), *module.glob("wizards/*.py")):
            # Implicitly concatenated literals, as Python joins them.
            texts.append(re.sub(r"[\"']\s+[\"']", "", source.read_text()))
        paths = {" ".join(path.split()) for text in texts for path in PATH.findall(" ".join(text.split()))}
        self.assertIn("Invoicing › Configuration › Taxes", paths)
        self.assertIn("Invoicing › Fiscal receipts › Configuration › Cash registers", paths)
        for nowhere in ("Accounting › Configuration › Taxes", "Invoicing › Customers › Fiscal receipts"):
            self.assertFalse(self._path_exists(nowhere.split(" › ")), nowhere)
        wrong = [path for path in sorted(paths) if not self._path_exists(path.split(" › "))]
        self.assertFalse(wrong, "menu paths that lead nowhere:\n" + "\n".join(wrong))

    def test_menu_paths_in_russian_are_those_of_the_russian_menus(self):
        self.env["res.lang"]._activate_lang("ru_RU")
        self.env["ir.module.module"]._load_module_terms(
            ["base", "base_setup", "account", "l10n_ru_kkm"], ["ru_RU"], overwrite=True
        )
        segment = r"[А-ЯЁ][\w'’-]*(?: [\w'’-]+)*(?: \(54-ФЗ\))?"
        path = re.compile(rf"(?:Выставление счетов|Настройки|Бухгалтерия|Фискальные чеки)(?: › {segment})+")
        translated = polib.pofile(str(Path(__file__).parent.parent / "i18n" / "ru.po"))
        paths = {found for entry in translated for found in path.findall(" ".join(entry.msgstr.split()))}
        self.assertIn("Выставление счетов › Фискальные чеки › Настройка › Кассы", paths)
        self.assertIn("Выставление счетов › Конфигурация › Налоги", paths)
        self.assertIn("Настройки › Выставление счетов › Фискализация (54-ФЗ)", paths)
        self.assertFalse(self._path_exists(["Бухгалтерия", "Конфигурация", "Налоги"], self.env))
        ru = self.env(context=dict(self.env.context, lang="ru_RU"))
        wrong = [
            found for found in sorted(paths) if not self._path_exists(found.split(" › "), ru, "Настройки")
        ]
        self.assertFalse(wrong, "Russian menu paths that lead nowhere:\n" + "\n".join(wrong))

    def _path_exists(self, names, env=None, settings="Settings"):
        """Whether ``names`` leads somewhere: menus (Odoo's sections may be skipped, as the menu
        bar shows them as headings), then within Settings an app, its blocks and settings."""
        env = env or self.env
        if names[0] == settings:
            return self._settings_path_exists(names[1:], env)
        menus = env["ir.ui.menu"].with_context(**{"ir.ui.menu.full_list": True}).sudo()
        level = menus.search([("parent_id", "=", False), ("name", "=", names[0])])
        for position, name in enumerate(names[1:], start=1):
            found = menus.search(
                [("id", "child_of", level.ids), ("id", "not in", level.ids), ("name", "=", name)]
            )
            # Only skip a section heading: the menu found sits at most one level below.
            found = found.filtered(
                lambda m, level=level: m.parent_id in level or m.parent_id.parent_id in level
            )
            if not found:
                return False
            if name == settings and found.action:
                return self._settings_path_exists([names[0], *names[position + 1 :]], env)
            level = found
        return True

    def _settings_path_exists(self, names, env):
        arch = env["res.config.settings"].get_views([(False, "form")])["views"]["form"]["arch"]
        apps = etree.fromstring(arch).xpath("//app[@string=$name]", name=names[0]) if names else []
        if not apps:
            return False
        titles = {node.get("title") or node.get("string") for node in apps[0].iter("block", "setting")}
        return all(name in titles for name in names[1:])

    def test_the_report_says_which_company_and_period_it_covers(self):
        self.env["res.lang"]._activate_lang("ru_RU")
        receipts = self.env["l10n_ru_kkm.receipt"].with_context(lang="ru_RU")
        date_from, date_to = date(2026, 11, 2), date(2026, 11, 8)
        html = str(receipts._l10n_ru_kkm_render_report(self.company, date_from, date_to))
        heading = etree.fromstring(html).xpath("//h3")[0]
        self.assertEqual(heading.xpath("string(span[@class='o_l10n_ru_kkm_company'])"), self.company.name)
        self.assertEqual(
            heading.xpath("string(span[@class='o_l10n_ru_kkm_period'])"), "02.11.2026 – 08.11.2026"
        )
