# Shared set-up of scripts/run.sh and scripts/test.sh (sourced, not executed).
# Checks Odoo 19, installs the project's Python requirements, starts PostgreSQL with a
# role for the current OS user, and exposes the addons path.

QUEUE_JOB_VERSION="19.0.2.4.0.1"
REPO_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

die() { echo "l10n_ru_kkm: $*" >&2; exit 2; }
say() { echo "l10n_ru_kkm: $*" >&2; }

check_odoo() {
    local version
    # The interpreter itself, not a version-manager shim, so that signals reach it.
    PYTHON=$(python3 -c "import sys; print(sys.executable)" 2>/dev/null) || die "python3 is not available."
    version=$(python3 -c "import odoo.release as r; print(r.major_version)" 2>/dev/null) \
        || die "python3 cannot import odoo. Install Odoo 19 first so that 'python3 -c \"import odoo\"' works (see README.rst, Requirements)."
    [ "$version" = "19.0" ] || die "python3 imports Odoo $version; this addon needs Odoo 19.0."
    ODOO_ROOT=$(python3 -c "import os, odoo.release as r; print(os.path.dirname(os.path.dirname(r.__file__)))")
    ODOO_BIN="$ODOO_ROOT/odoo-bin"
    [ -f "$ODOO_BIN" ] || ODOO_BIN="$(command -v odoo || true)"
    [ -n "$ODOO_BIN" ] || die "neither $ODOO_ROOT/odoo-bin nor an 'odoo' command was found."
}

install_requirements() {
    if [ "$(pip show odoo-addon-queue-job 2>/dev/null | sed -n 's/^Version: //p')" != "$QUEUE_JOB_VERSION" ]; then
        say "installing queue_job $QUEUE_JOB_VERSION"
        pip install -q --disable-pip-version-check --root-user-action=ignore --no-deps "odoo-addon-queue-job==$QUEUE_JOB_VERSION" \
            || die "could not install odoo-addon-queue-job"
    fi
    if ! python3 -c "import pytest_odoo, responses, hypothesis, websocket, openupgradelib, pyzbar" 2>/dev/null \
        || ! command -v ruff >/dev/null || ! command -v pylint >/dev/null; then
        say "installing the Python requirements"
        pip install -q --disable-pip-version-check --root-user-action=ignore -r "$REPO_DIR/requirements.txt" \
            || die "could not install requirements.txt"
    fi
}

install_browser() {
    # Odoo's browser tests (tours) drive a headless Chromium.
    if ! command -v chromium >/dev/null && ! command -v google-chrome >/dev/null; then
        say "installing Chromium for the browser tests"
        (apt-get update -qq && apt-get install -y -qq chromium) >/dev/null 2>&1 \
            || die "could not install Chromium (apt-get install chromium)"
    fi
}

install_report_tools() {
    # PDF reports (the invoice with its receipts, the receipt copy) need wkhtmltopdf; the tests
    # read the receipts' QR codes back with pyzbar, which needs the zbar library.
    local missing=()
    command -v wkhtmltopdf >/dev/null || missing+=(wkhtmltopdf)
    ldconfig -p 2>/dev/null | grep -q 'libzbar\.so\.0' || missing+=(libzbar0)
    if [ ${#missing[@]} -gt 0 ]; then
        say "installing ${missing[*]} for the PDF reports and their tests"
        (apt-get update -qq && apt-get install -y -qq "${missing[@]}") >/dev/null 2>&1 \
            || die "could not install ${missing[*]} (apt-get install ${missing[*]})"
    fi
}

start_postgres() {
    if ! pg_isready -q 2>/dev/null; then
        command -v pg_ctlcluster >/dev/null || die "PostgreSQL is not installed (pg_ctlcluster missing)."
        local cluster
        cluster=$(pg_lsclusters -h 2>/dev/null | awk 'NR==1 {print $1" "$2}')
        [ -n "$cluster" ] || die "no PostgreSQL cluster found (pg_lsclusters is empty)."
        say "starting PostgreSQL $cluster"
        pg_ctlcluster $cluster start || die "could not start PostgreSQL"
        for _ in $(seq 1 30); do pg_isready -q && break; sleep 1; done
    fi
    local user
    user=$(id -un)
    [ "$user" != "postgres" ] || die "run as a user other than 'postgres': Odoo refuses that role."
    if ! psql -d postgres -tAc "select 1" >/dev/null 2>&1; then
        say "creating the PostgreSQL role $user"
        su postgres -c "createuser --superuser $user" 2>/dev/null \
            || sudo -u postgres createuser --superuser "$user" \
            || die "could not create a PostgreSQL role for $user"
    fi
}

prepare_addons_path() {
    # pytest-odoo names the module after its folder: expose the repository as l10n_ru_kkm.
    # One folder per checkout, so that two checkouts never redirect each other's link.
    ADDONS_LINK_DIR="${KKM_ADDONS_DIR:-${TMPDIR:-/tmp}/l10n_ru_kkm_addons_$(printf %s "$REPO_DIR" | md5sum | cut -c1-10)}"
    mkdir -p "$ADDONS_LINK_DIR"
    ln -sfn "$REPO_DIR" "$ADDONS_LINK_DIR/l10n_ru_kkm"
    MODULE_DIR="$ADDONS_LINK_DIR/l10n_ru_kkm"
    ADDONS_PATH=$(python3 - "$ODOO_ROOT" "$ADDONS_LINK_DIR" <<'PY'
import os, sys
import odoo.addons
root, ours = sys.argv[1], sys.argv[2]
paths = [os.path.join(root, "addons")] + [p for p in odoo.addons.__path__ if os.path.isdir(p)] + [ours]
seen = []
for path in paths:
    path = os.path.realpath(path) if path != ours else path
    if os.path.isdir(path) and path not in seen:
        seen.append(path)
print(",".join(seen))
PY
)
}

# A throwaway database named "$1_<time>_<pid>" with l10n_ru_kkm installed (and the modules
# of $2, comma-separated), dropped when the calling script exits: sets DB.
create_throwaway_database() {
    DB="$1_$(date +%s)_$$"
    local modules="l10n_ru_kkm${2:+,$2}"
    local log="${TMPDIR:-/tmp}/$DB.install.log"
    trap 'dropdb --if-exists "$DB" >/dev/null 2>&1 || true' EXIT
    say "installing $modules in the throwaway database $DB (log: $log)"
    if ! "$PYTHON" "$ODOO_BIN" -d "$DB" --addons-path="$ADDONS_PATH" -i "$modules" --stop-after-init \
            --http-interface=127.0.0.1 --log-level=info >"$log" 2>&1; then
        tail -n 40 "$log" >&2
        die "installing the module failed (log: $log)"
    fi
}

setup_all() {
    check_odoo
    install_requirements
    start_postgres
    prepare_addons_path
}
