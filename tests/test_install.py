"""The module installs and uninstalls cleanly on fresh databases, with and without demo data.

Each case runs Odoo in a subprocess on a database of its own, as an administrator would.
"""

import os
import re
import subprocess
import sys
import uuid

import odoo.release
from odoo.tools import config

from .common import KkmCase

ODOO_BIN = os.path.join(os.path.dirname(os.path.dirname(odoo.release.__file__)), "odoo-bin")
# Lines Odoo logs at WARNING or above, e.g. "2026-01-01 10:00:00,000 123 WARNING db logger: ..."
PROBLEM = re.compile(r"^\S+ \S+ \d+ (WARNING|ERROR|CRITICAL) ", re.MULTILINE)


class TestInstallUninstall(KkmCase):
    def _odoo(self, *args, addons_first=False):
        addons = f"--addons-path={config['addons_path'] if isinstance(config['addons_path'], str) else ','.join(config['addons_path'])}"
        command = [sys.executable, ODOO_BIN]
        command += [addons, *args] if addons_first else [*args, addons]
        result = subprocess.run(command, capture_output=True, text=True, timeout=1200, check=False)
        output = result.stdout + result.stderr
        self.assertEqual(result.returncode, 0, output[-3000:])
        return output

    def _psql(self, db, query):
        result = subprocess.run(["psql", "-d", db, "-tAc", query], capture_output=True, text=True, check=True)
        return result.stdout.strip()

    def _check_cycle(self, demo):
        db = f"l10n_ru_kkm_install_{uuid.uuid4().hex[:8]}"
        self.addCleanup(subprocess.run, ["dropdb", "--if-exists", db], capture_output=True, check=False)
        common = ["-d", db, "--stop-after-init", "--http-interface=127.0.0.1"]
        demo_flag = ["--with-demo"] if demo else []
        # The dependencies first: their own warnings are not this module's.
        self._odoo(*common, *demo_flag, "-i", "account,queue_job")

        install_log = self._odoo(*common, "-i", "l10n_ru_kkm")
        self.assertEqual(PROBLEM.findall(install_log), [], install_log[-3000:])
        self.assertEqual(
            self._psql(db, "select state from ir_module_module where name='l10n_ru_kkm'"), "installed"
        )
        self.assertEqual(self._psql(db, "select to_regclass('l10n_ru_kkm_receipt') is not null"), "t")
        if demo:
            configured = self._psql(
                db,
                "select count(*) from res_company where l10n_ru_kkm_enabled and l10n_ru_kkm_inn = '5544332219'",
            )
            self.assertEqual(configured, "2", "the shop and the workshop, both on the sandbox account")

        uninstall_log = self._odoo("module", "uninstall", "-d", db, "l10n_ru_kkm", addons_first=True)
        self.assertEqual(PROBLEM.findall(uninstall_log), [], uninstall_log[-3000:])
        self.assertEqual(
            self._psql(db, "select state from ir_module_module where name='l10n_ru_kkm'"), "uninstalled"
        )
        self.assertEqual(self._psql(db, "select to_regclass('l10n_ru_kkm_receipt') is null"), "t")
        leftover_columns = self._psql(
            db,
            "select count(*) from information_schema.columns where column_name like 'l10n_ru_kkm%'",
        )
        self.assertEqual(leftover_columns, "0")

    def test_install_and_uninstall_without_demo(self):
        self._check_cycle(demo=False)

    def test_install_and_uninstall_with_demo(self):
        self._check_cycle(demo=True)
