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
