#!/usr/bin/env bash
# The test command (README.rst): a fresh database, the module installed, the whole suite
# run with pytest-odoo. Exit status = pytest's; its summary line is the last line printed.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
setup_all
install_report_tools
install_browser

# Sales too: its down-payment invoices are invoices the module must register (tests/test_every_invoice.py).
create_throwaway_database l10n_ru_kkm_test sale

cd "$ADDONS_LINK_DIR" || die "cannot enter $ADDONS_LINK_DIR"
"$PYTHON" -m pytest -p no:cacheprovider -q \
    --odoo-database="$DB" --odoo-addons-path="$ADDONS_PATH" --odoo-log-level=warn \
    --odoo-http --odoo-extra=http-interface=127.0.0.1 \
    "$@" "$MODULE_DIR/tests"
