#!/usr/bin/env bash
# The benchmark command (bench/README.rst): a throwaway database with l10n_ru_kkm installed,
# then bench/posting_overhead.py against a sandbox it starts on 127.0.0.1. The database is
# dropped at the end, whatever happens. Arguments go to posting_overhead.py (e.g. --invoices 300).
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/common.sh"
setup_all

DB="l10n_ru_kkm_bench_$(date +%s)_$$"
LOG="${TMPDIR:-/tmp}/$DB.install.log"
cleanup() { dropdb --if-exists "$DB" >/dev/null 2>&1 || true; }
trap cleanup EXIT

say "installing l10n_ru_kkm in the throwaway database $DB (log: $LOG)"
if ! "$PYTHON" "$ODOO_BIN" -d "$DB" --addons-path="$ADDONS_PATH" -i l10n_ru_kkm --stop-after-init \
        --http-interface=127.0.0.1 --log-level=warn >"$LOG" 2>&1; then
    tail -n 40 "$LOG" >&2
    die "installing the module failed (log: $LOG)"
fi
"$PYTHON" "$REPO_DIR/bench/posting_overhead.py" --db "$DB" --addons-path "$ADDONS_PATH" "$@"
