"""Both runners run the same suite: ``odoo-bin --test-enable`` (Odoo's loader: the modules that
``tests/__init__.py`` imports, the test methods each class defines itself, by their tags) and
``bash scripts/test.sh`` (pytest-odoo: every ``tests/test_*.py`` file, every ``unittest``
test case in it, inherited methods included)."""

import importlib
import unittest
from pathlib import Path

from odoo.tests.loader import get_module_test_cases, get_test_modules
from odoo.tests.tag_selector import TagsSelector

from .common import KkmCase

PACKAGE = __name__.rsplit(".", 1)[0]


def _pytest_collects():
    """(module, class, method) of each test pytest collects from the test files."""
    found = set()
    for path in sorted(Path(__file__).parent.glob("test_*.py")):
        module = importlib.import_module(f"{PACKAGE}.{path.stem}")
        for name, value in vars(module).items():
            if isinstance(value, type) and issubclass(value, unittest.TestCase):
                for method in unittest.TestLoader().getTestCaseNames(value):
                    found.add((path.stem, name, method))
    return found


def _odoo_runs():
    """(module, class, method) of each test Odoo's runner runs after installing the module."""
    selector, positions = (
        TagsSelector("+standard"),
        (TagsSelector("at_install"), TagsSelector("post_install")),
    )
    found = set()
    for module in get_test_modules("l10n_ru_kkm"):
        for test in get_module_test_cases(module):
            if selector.check(test) and any(position.check(test) for position in positions):
                found.add((module.__name__.rsplit(".", 1)[1], type(test).__name__, test._testMethodName))
    return found


class TestRunnersAgree(KkmCase):
    def test_every_test_file_is_imported_for_odoo(self):
        files = {path.stem for path in Path(__file__).parent.glob("test_*.py")}
        imported = {module.__name__.rsplit(".", 1)[1] for module in get_test_modules("l10n_ru_kkm")}
        self.assertEqual(files - imported, set(), "add them to tests/__init__.py")

    def test_odoo_runs_every_test_pytest_runs(self):
        pytest, odoo = _pytest_collects(), _odoo_runs()
        self.assertGreater(len(pytest), 300)
        self.assertEqual(pytest - odoo, set(), "tests pytest runs and Odoo's runner does not")
        self.assertEqual(odoo - pytest, set(), "tests Odoo's runner runs and pytest does not")
