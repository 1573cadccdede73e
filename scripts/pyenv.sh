#!/usr/bin/env bash
# Creates (once) the Python virtual environment with python-oracledb 26.1.0 that the
# real-client tests drive. Idempotent; cached under target/pyenv. Prints the python path.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${ORASIM_PYENV:-$root/target/pyenv}"
stamp="$venv/.oracledb-26.1.0"
if [ ! -f "$stamp" ]; then
  mkdir -p "$(dirname "$venv")"
  lock="$venv.lock"
  exec 9>"$lock"
  flock 9
  if [ ! -f "$stamp" ]; then
    rm -rf "$venv"
    python3 -m venv "$venv" >&2
    "$venv/bin/pip" install --quiet --disable-pip-version-check "oracledb==26.1.0" >&2
    touch "$stamp"
  fi
fi
echo "$venv/bin/python"
