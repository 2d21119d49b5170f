#!/usr/bin/env bash
# The test command (README.rst): a fresh database, the module installed, the whole suite
# run with pytest-odoo. Exit status = pytest's; its summary line is the last line printed.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
setup_all
install_browser

DB="l10n_ru_kkm_test_$(date +%s)_$$"
LOG="${TMPDIR:-/tmp}/$DB.install.log"
cleanup() { dropdb --if-exists "$DB" >/dev/null 2>&1 || true; }
trap cleanup EXIT

say "installing l10n_ru_kkm in the fresh database $DB"
if ! "$PYTHON" "$ODOO_BIN" -d "$DB" --addons-path="$ADDONS_PATH" -i l10n_ru_kkm --stop-after-init \
        --http-interface=127.0.0.1 --log-level=info >"$LOG" 2>&1; then
    tail -n 40 "$LOG" >&2
    die "installing the module failed (log: $LOG)"
fi

cd "$ADDONS_LINK_DIR" || die "cannot enter $ADDONS_LINK_DIR"
"$PYTHON" -m pytest -p no:cacheprovider -q \
    --odoo-database="$DB" --odoo-addons-path="$ADDONS_PATH" --odoo-log-level=warn \
    --odoo-http --odoo-extra=http-interface=127.0.0.1 \
    "$@" "$MODULE_DIR/tests"
