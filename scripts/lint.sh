#!/usr/bin/env bash
# The lint command: ruff (style, imports, bugs) and pylint-odoo (Odoo 19 rules).
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
check_odoo
install_requirements
prepare_addons_path
cd "$REPO_DIR" || exit 2
status=0
ruff check . || status=1
ruff format --check . || status=1
# manifest-required-author is an OCA-only rule: this addon is not published by the OCA.
python3 -m pylint --rcfile="$REPO_DIR/.pylintrc" --disable=manifest-required-author "$MODULE_DIR" || status=1
[ $status -eq 0 ] && say "lint clean"
exit $status
