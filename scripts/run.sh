#!/usr/bin/env bash
# The run command (README.rst): sets up what is missing, starts the fiscal sandbox,
# creates or updates the demo database and serves Odoo with the queue_job runner.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
setup_all
install_report_tools

DB="${KKM_DEMO_DB:-l10n_ru_kkm_demo}"
HTTP_PORT="${KKM_HTTP_PORT:-8069}"
SANDBOX_PORT="${KKM_SANDBOX_PORT:-8090}"
LOG_DIR="${TMPDIR:-/tmp}/l10n_ru_kkm_run"
mkdir -p "$LOG_DIR"

start_sandbox() {
    if curl -s -o /dev/null "http://127.0.0.1:$SANDBOX_PORT/sandbox/ledger"; then
        say "the sandbox already answers on port $SANDBOX_PORT"
        return
    fi
    say "starting the ATOL Online / Checkonline sandbox on 127.0.0.1:$SANDBOX_PORT (log: $LOG_DIR/sandbox.log)"
    (cd "$REPO_DIR" && exec "$PYTHON" -m sandbox --host 127.0.0.1 --port "$SANDBOX_PORT" --done-delay 2) \
        >"$LOG_DIR/sandbox.log" 2>&1 &
    SANDBOX_PID=$!
    trap 'kill $SANDBOX_PID 2>/dev/null' EXIT
    for _ in $(seq 1 50); do
        curl -s -o /dev/null "http://127.0.0.1:$SANDBOX_PORT/sandbox/ledger" && return
        sleep 0.2
    done
    die "the sandbox did not start; see $LOG_DIR/sandbox.log"
}

module_state() {
    psql -d "$DB" -tAc "select state from ir_module_module where name = 'l10n_ru_kkm'" 2>/dev/null
}

prepare_database() {
    local action
    if ! psql -d postgres -tAc "select 1 from pg_database where datname = '$DB'" | grep -q 1; then
        say "creating the demo database $DB with demo data (a few minutes the first time)"
        action=(-i l10n_ru_kkm --with-demo)
    elif [ "$(module_state)" = "installed" ]; then
        say "updating l10n_ru_kkm in $DB"
        action=(-u l10n_ru_kkm)
    else
        say "installing l10n_ru_kkm in the existing database $DB"
        action=(-i l10n_ru_kkm)
    fi
    "$PYTHON" "$ODOO_BIN" -d "$DB" --addons-path="$ADDONS_PATH" "${action[@]}" --stop-after-init \
        --http-interface=127.0.0.1 >"$LOG_DIR/setup.log" 2>&1 \
        || { tail -n 40 "$LOG_DIR/setup.log" >&2; die "preparing $DB failed (log: $LOG_DIR/setup.log)"; }
}

start_sandbox
prepare_database
cat <<MSG

  l10n_ru_kkm demo is starting on http://localhost:$HTTP_PORT
  Log in as admin / admin, switch to the company "ООО «Ромашка»" (top right),
  open Invoicing › Customers › Invoices, post the draft invoice: its fiscal receipt
  is registered by the sandbox and shows as done on the invoice's "Fiscal receipts" tab.
  Stop with Ctrl-C.

MSG
"$PYTHON" "$ODOO_BIN" -d "$DB" --addons-path="$ADDONS_PATH" --db-filter="^$DB\$" \
    --http-interface=127.0.0.1 --http-port="$HTTP_PORT" --load=base,web,queue_job
