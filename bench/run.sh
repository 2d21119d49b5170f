#!/usr/bin/env bash
# The benchmark command (bench/README.rst): a throwaway database with l10n_ru_kkm installed,
# then bench/posting_overhead.py against a sandbox it starts on 127.0.0.1. The database is
# dropped at the end, whatever happens. Arguments go to posting_overhead.py (e.g. --invoices 300).
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/common.sh"
setup_all

create_throwaway_database l10n_ru_kkm_bench
"$PYTHON" "$REPO_DIR/bench/posting_overhead.py" --db "$DB" --addons-path "$ADDONS_PATH" "$@"
