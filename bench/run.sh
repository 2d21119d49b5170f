#!/usr/bin/env bash
# The benchmark command (bench/README.rst): a throwaway database with l10n_ru_kkm installed,
# then bench/posting_overhead.py against a sandbox it starts on 127.0.0.1. The database is
# dropped at the end, whatever happens. Arguments go to posting_overhead.py (e.g. --invoices 300),
# or, after --reconcile, to reconcile.py.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/common.sh"
setup_all

create_throwaway_database l10n_ru_kkm_bench
if [ "${1:-}" = "--reconcile" ]; then
    # Reconciliation on a month of 100,000 invoices (bench/reconcile.py; --invoices N to change).
    shift
    "$PYTHON" "$REPO_DIR/bench/reconcile.py" --db "$DB" --addons-path "$ADDONS_PATH" "$@"
elif [ "${1:-}" = "--throughput" ]; then
    # Real odoo-bin servers with workers and queue_job's runner (bench/throughput.py).
    shift
    "$PYTHON" "$REPO_DIR/bench/throughput.py" --db "$DB" --addons-path "$ADDONS_PATH" --odoo-bin "$ODOO_BIN" "$@"
elif [ "${1:-}" = "--polling" ]; then
    # 10,000 receipts waiting for their result, at ATOL's pace (bench/polling.py).
    shift
    "$PYTHON" "$REPO_DIR/bench/polling.py" --db "$DB" --addons-path "$ADDONS_PATH" "$@"
else
    "$PYTHON" "$REPO_DIR/bench/posting_overhead.py" --db "$DB" --addons-path "$ADDONS_PATH" "$@"
fi
