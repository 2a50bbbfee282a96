# Sourced by scripts/app and scripts/test: create or refresh the project's own virtual
# environment in .venv and install etcbook with everything it needs.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
PYTHON_BIN="${PYTHON:-}"

find_python() {
  for candidate in "$PYTHON_BIN" python3.13 python3.12 python3.11 python3; do
    [ -n "$candidate" ] || continue
    if command -v "$candidate" >/dev/null 2>&1 &&
       "$candidate" -c 'import sys; raise SystemExit(sys.version_info < (3, 11))' 2>/dev/null; then
      command -v "$candidate"
      return 0
    fi
  done
  echo "etcbook needs Python 3.11 or newer (set PYTHON=/path/to/python3.11)." >&2
  return 1
}

# System libraries Qt needs to run (also offscreen) and poppler for looking at PDFs in tests.
# Installed only on Debian/Ubuntu, only as root, only when one is missing.
install_system_packages() {
  local wanted=(libgl1 libegl1 libxkbcommon0 libfontconfig1 libdbus-1-3 libglib2.0-0 poppler-utils)
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1 || ! command -v dpkg-query >/dev/null 2>&1; then
    return 0
  fi
  local missing=()
  for pkg in "${wanted[@]}" "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    echo "Installing system packages: ${missing[*]}" >&2
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
}

# The SHA-256 of a file, by Python's hashlib: sha256sum is GNU coreutils, missing on macOS.
file_sha256() {
  "$1" -c 'import hashlib, sys; print(hashlib.sha256(open(sys.argv[1], "rb").read()).hexdigest())' "$2"
}

# ensure_venv EXTRAS: install etcbook[EXTRAS] (editable) unless the stamp says pyproject.toml is
# unchanged and those extras are in already; extras installed before are kept.
ensure_venv() {
  local extras="$1"
  local python
  python="$(find_python)"
  if [ ! -x "$VENV/bin/python" ]; then
    echo "Creating $VENV" >&2
    "$python" -m venv "$VENV"
  fi
  local stamp="$VENV/.etcbook-installed"
  local hash have="" wanted="$extras" extra
  hash="$(file_sha256 "$VENV/bin/python" "$ROOT/pyproject.toml")"
  [ -f "$stamp" ] && have="$(cat "$stamp")"
  if [ "${have%%-*}" = "$hash" ]; then
    wanted="${have#*-}"
    for extra in ${extras//,/ }; do
      case ",$wanted," in *",$extra,"*) ;; *) wanted="$wanted,$extra" ;; esac
    done
  fi
  local want="$hash-$wanted"
  if [ "$have" != "$want" ]; then
    echo "Installing etcbook and its dependencies into $VENV" >&2
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check --upgrade pip >&2
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check -e "$ROOT[$wanted]" >&2
    echo "$want" > "$stamp"
  fi
}

# A throwaway PostgreSQL 15 cluster for the tests: Unix socket in a private temporary folder only
# (no TCP), fsync off, trust authentication (the folder is readable by its owner only). Its URL
# goes to the tests in ETCBOOK_TEST_PG_URL; the cluster is stopped and deleted when the calling
# script exits, also when the tests fail. As root (CI) the postgresql-15 package is installed when
# missing and the cluster runs as the `postgres` user (initdb and pg_ctl refuse root). Without
# PostgreSQL (not root, not installed) nothing starts and the PostgreSQL tests report themselves
# skipped, unless ETCBOOK_TEST_PG_REQUIRED=1 (CI), which makes them fail.
# ETCBOOK_TEST_PG_URL set by the caller is used as is (a server of one's own).
PG_TEST_DIR=""
start_test_postgres() {
  [ -z "${ETCBOOK_TEST_PG_URL:-}" ] || return 0
  local bindir=/usr/lib/postgresql/15/bin
  if [ ! -x "$bindir/initdb" ]; then
    install_system_packages postgresql-15
  fi
  if [ ! -x "$bindir/initdb" ]; then
    echo "PostgreSQL 15 is not installed: the PostgreSQL tests will be skipped." >&2
    return 0
  fi
  local run=()
  PG_TEST_DIR="$(mktemp -d "${TMPDIR:-/tmp}/etcbook-pg.XXXXXX")"
  if [ "$(id -u)" = 0 ]; then
    chown postgres "$PG_TEST_DIR"
    run=(runuser -u postgres --)
  fi
  chmod 0700 "$PG_TEST_DIR"
  trap stop_test_postgres EXIT
  "${run[@]}" "$bindir/initdb" -D "$PG_TEST_DIR/data" -U postgres -A trust --no-sync \
    -E UTF8 --locale=C.UTF-8 >"$PG_TEST_DIR/initdb.log" 2>&1 ||
    { cat "$PG_TEST_DIR/initdb.log" >&2; return 1; }
  "${run[@]}" "$bindir/pg_ctl" -D "$PG_TEST_DIR/data" -w -l "$PG_TEST_DIR/server.log" \
    -o "-c listen_addresses='' -k $PG_TEST_DIR -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
    start >/dev/null || { cat "$PG_TEST_DIR/server.log" >&2; return 1; }
  export ETCBOOK_TEST_PG_URL="postgresql://postgres@/postgres?host=$PG_TEST_DIR"
}

stop_test_postgres() {
  local status=$?
  if [ -n "$PG_TEST_DIR" ] && [ -d "$PG_TEST_DIR/data" ]; then
    local run=()
    [ "$(id -u)" != 0 ] || run=(runuser -u postgres --)
    "${run[@]}" /usr/lib/postgresql/15/bin/pg_ctl -D "$PG_TEST_DIR/data" -m immediate -w stop >/dev/null 2>&1 || true
    rm -rf "$PG_TEST_DIR"
  fi
  return "$status"
}
