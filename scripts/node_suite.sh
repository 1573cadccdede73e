#!/usr/bin/env bash
# Runs files of node-oracledb's own test suite (mocha) against a running orasim, with
# node-oracledb 26.0.0 from scripts/nodeenv.sh and mocha 12.0.3 installed here, once, under
# target/nodeenv/mocha. Not part of CI: the node tests in CI are tests/tests/session_node.rs.
#
#   cargo run -p tests --example node_suite -- <node-oracledb test dir>   (starts orasim too)
#   scripts/node_suite.sh <node-oracledb test dir> <user> <password> <connect string> FILE...
#
# FILE names are relative to the test dir (e.g. callTimeout.js). Prints mocha's summary;
# mocha exits when the files are done (--exit), even if a test left a pool or socket open.
# A checkout of the test dir: git archive of github.com/oracle/node-oracledb's test/.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
testdir="$1" user="$2" password="$3" dsn="$4"
shift 4
modules="$(bash "$root/scripts/nodeenv.sh" | head -1)"
mocha_dir="${ORASIM_NODEENV:-$root/target/nodeenv}/mocha"
if [ ! -f "$mocha_dir/.installed" ]; then
  rm -rf "$mocha_dir"
  mkdir -p "$mocha_dir"
  npm install --prefix "$mocha_dir" --no-audit --no-fund --no-save --silent mocha@12.0.3 >&2
  touch "$mocha_dir/.installed"
fi
files=()
for f in "$@"; do files+=("$testdir/$f"); done
cd "$testdir"
NODE_PATH="$modules" NODE_ORACLEDB_USER="$user" NODE_ORACLEDB_PASSWORD="$password" \
  NODE_ORACLEDB_CONNECTIONSTRING="$dsn" \
  exec "$mocha_dir/node_modules/.bin/mocha" --exit --timeout 20000 --reporter dot "${files[@]}"
