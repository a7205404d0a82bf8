# Shared set-up for scripts/run and scripts/test: a Python >= 3.12 virtual environment in .venv.
# Sourced, not run. Installs what is missing on a fresh Debian machine (as root).

find_python() {
  local candidates=(python3.14 python3.13 python3.12 python3)
  local pyenv_root="${PYENV_ROOT:-$HOME/.pyenv}"
  for dir in "$pyenv_root"/versions/3.1[2-9]*/bin; do
    [ -x "$dir/python3" ] && candidates+=("$dir/python3")
  done
  for candidate in "${candidates[@]}"; do
    if command -v "$candidate" >/dev/null 2>&1 \
       && "$candidate" -c 'import sys, venv; sys.exit(0 if sys.version_info >= (3, 12) else 1)' >/dev/null 2>&1; then
      command -v "$candidate"
      return 0
    fi
  done
  return 1
}

apt_install() {
  # Install Debian packages when missing and we are root; quiet otherwise.
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    if [ -z "${VANGNET_APT_UPDATED:-}" ]; then
      apt-get update -qq >/dev/null
      export VANGNET_APT_UPDATED=1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
  else
    echo "Please install these Debian packages: $*" >&2
    return 1
  fi
}

ensure_venv() {
  local extras="${1:-}"
  local python
  if ! python=$(find_python); then
    apt_install python3 python3-venv python3-dev || true
    python=$(find_python) || { echo "vangnet needs Python 3.12 or newer." >&2; exit 1; }
  fi
  if [ ! -x .venv/bin/python ] || ! .venv/bin/python -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)'; then
    rm -rf .venv
    "$python" -m venv .venv
  fi
  local stamp=".venv/.installed${extras:+-$extras}"
  if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
    .venv/bin/python -m pip install -qq --upgrade pip >/dev/null
    .venv/bin/python -m pip install -qq -e ".${extras:+[$extras]}"
    touch "$stamp"
  fi
  export PATH="$PWD/.venv/bin:$PATH"
}
