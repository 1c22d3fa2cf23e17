#!/usr/bin/env bash
# Sets up the Synapse oracle: a virtualenv at test/interop/oracle/.venv with
# requirements.txt installed. Idempotent: does nothing when the venv was built
# from the current requirements.txt (a hash stamp inside .venv records that).
# Prints one line on success; on failure, what went wrong.
#
# PYTHON (default python3) picks the interpreter; it must be 3.10 or newer.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="$here/.venv"
req="$here/requirements.txt"
stamp="$venv/.requirements.sha256"
python="${PYTHON:-python3}"

want="$(sha256sum "$req" | cut -d' ' -f1)"
if [ -x "$venv/bin/python" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  echo "Synapse oracle: up to date ($venv)"
  exit 0
fi

log="$(mktemp)"
trap 'rm -f "$log"' EXIT
fail() {
  echo "Synapse oracle setup failed: $1" >&2
  cat "$log" >&2
  exit 1
}

command -v "$python" >/dev/null 2>&1 || fail "$python not found"
"$python" -c 'import sys; sys.exit(sys.version_info < (3, 10))' >/dev/null 2>&1 ||
  fail "$python is older than 3.10 (matrix-synapse needs 3.10+)"

make_venv() {
  rm -rf "$venv"
  "$python" -m venv "$venv" >>"$log" 2>&1 && [ -x "$venv/bin/pip" ]
}

echo "Synapse oracle: installing $(grep -m1 '^matrix-synapse' "$req") and its pinned dependencies from PyPI into $venv (a minute or two)"

# Stale or half-built: start from scratch so the venv matches requirements.txt.
if ! make_venv; then
  # No ensurepip (Debian without python3-venv): try virtualenv, then apt.
  if "$python" -m virtualenv --version >/dev/null 2>&1; then
    rm -rf "$venv"
    "$python" -m virtualenv -q "$venv" >>"$log" 2>&1 || fail "virtualenv could not create $venv"
  elif command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ] &&
    { apt-get update -qq >>"$log" 2>&1 || true; } &&
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >>"$log" 2>&1 &&
    make_venv; then
    :
  elif "$python" -m pip install -q --user virtualenv >>"$log" 2>&1 ||
    "$python" -m pip install -q --user --break-system-packages virtualenv >>"$log" 2>&1; then
    rm -rf "$venv"
    "$python" -m virtualenv -q "$venv" >>"$log" 2>&1 || fail "virtualenv could not create $venv"
  else
    fail "could not create a virtualenv (python3 -m venv, virtualenv and apt-get python3-venv all failed)"
  fi
fi

"$venv/bin/python" -m pip install -q --disable-pip-version-check --no-input -r "$req" >>"$log" 2>&1 ||
  fail "pip install -r $req"
"$venv/bin/python" -c 'import synapse.events.utils, signedjson.sign, canonicaljson' >>"$log" 2>&1 ||
  fail "the installed packages do not import"

echo "$want" >"$stamp"
echo "Synapse oracle: installed matrix-synapse $("$venv/bin/python" -c "from importlib.metadata import version; print(version('matrix-synapse'))") in $venv"
