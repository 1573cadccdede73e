#!/usr/bin/env bash
# Installs (once) node-oracledb 26.0.0 and 6.10.0 (thin mode, pure JavaScript) that the
# real-client node tests drive, each into its own directory under target/nodeenv. Idempotent.
# Prints the node_modules directory of each version, one per line: 26.0.0 first, then 6.10.0.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
base="${ORASIM_NODEENV:-$root/target/nodeenv}"
mkdir -p "$base"
exec 9>"$base.lock"
flock 9
for version in 26.0.0 6.10.0; do
  dir="$base/oracledb-$version"
  stamp="$dir/.installed"
  if [ ! -f "$stamp" ]; then
    rm -rf "$dir"
    mkdir -p "$dir"
    npm install --prefix "$dir" --no-audit --no-fund --no-save --silent \
      "oracledb@$version" >&2
    touch "$stamp"
  fi
  echo "$dir/node_modules"
done
