#!/usr/bin/env bash
# Property-based API conformance: schemathesis (from PyPI) generates requests from kurz's own
# OpenAPI document and checks every answer against it. The server runs as in production
# (KURZ_ENV=production: keys required, rate limits on, JSON only) on a fresh database, and
# schemathesis calls it with an admin key made by `kurz apikey create`. Usage:
#
#   scripts/schemathesis.sh [postgres|sqlite]     (default postgres)
#
# Environment: MAX_TIME (seconds of generated tests, default 120), SCHEMATHESIS_PG_URL (the
# server that gets a fresh database, default postgres://postgres@127.0.0.1:5432/postgres),
# KURZ_BIN (a built kurz; default: `cargo build` and target/debug/kurz), SEED (replay a run).
# Exits non-zero on any failed check; the report is in target/schemathesis/. The two live
# visit streams are tested too: scripts/schemathesis.toml has schemathesis stop reading a
# stream after its first event (or 5 s), as an event stream never ends.
set -euo pipefail
cd "$(dirname "$0")/.."

backend="${1:-postgres}"
MAX_TIME="${MAX_TIME:-120}"
SCHEMATHESIS_VERSION=4.32.5
CHECKS=not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance
work="$PWD/target/schemathesis"
config="$PWD/scripts/schemathesis.toml"
venv="$work/venv"
mkdir -p "$work"

# CPython before 3.11.8 and 3.12.2 can raise "SystemError: AST constructor recursion depth
# mismatch" when two threads build ASTs at once (cpython gh-106905), which hypothesis does with
# two workers: a crash of the tool that would read as a failure of kurz. So the venv is made with
# the first interpreter that has the fix (on PATH or under pyenv); with none, one worker runs.
python_is_fixed() {
  "$1" -c 'import sys; v = sys.version_info[:3]
sys.exit(0 if v >= (3, 12, 2) or (3, 11, 8) <= v < (3, 12) else 1)' 2>/dev/null
}
fixed_python() {
  local candidate
  for candidate in python3.14 python3.13 python3.12 python3 python3.11 \
    $(ls -d "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.*/bin/python3 2>/dev/null | sort -rV); do
    if command -v "$candidate" >/dev/null 2>&1 && python_is_fixed "$candidate"; then
      command -v "$candidate"
      return 0
    fi
  done
  return 1
}
make_venv() {
  local python
  python=$(fixed_python) || python=python3
  echo "== making $venv with $python ($("$python" --version 2>&1))" >&2
  rm -rf "$venv"
  "$python" -m venv "$venv"
}

if [ ! -x "$venv/bin/schemathesis" ] \
  || { ! python_is_fixed "$venv/bin/python" && fixed_python >/dev/null; } \
  || [ "$("$venv/bin/schemathesis" --version 2>/dev/null)" != "schemathesis, version $SCHEMATHESIS_VERSION" ]; then
  make_venv
  echo "== installing schemathesis $SCHEMATHESIS_VERSION into $venv" >&2
  "$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
fi

if [ -z "${KURZ_BIN:-}" ]; then
  cargo build --quiet
  KURZ_BIN=target/debug/kurz
fi

case "$backend" in
  postgres)
    admin_url="${SCHEMATHESIS_PG_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
    db_name="kurz_schemathesis_$$"
    psql "$admin_url" -qAtc "CREATE DATABASE $db_name" >/dev/null
    database_url="${admin_url%/*}/$db_name"
    drop_database() { psql "$admin_url" -qAtc "DROP DATABASE IF EXISTS $db_name WITH (FORCE)" >/dev/null || true; }
    ;;
  sqlite)
    rm -rf "$work/sqlite" && mkdir -p "$work/sqlite"
    database_url="sqlite://$work/sqlite/kurz.db"
    drop_database() { :; }
    ;;
  *) echo "usage: scripts/schemathesis.sh [postgres|sqlite]" >&2; exit 2 ;;
esac

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
server_pid=
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  drop_database
}
trap cleanup EXIT

export DATABASE_URL="$database_url" KURZ_ENV=production RUST_LOG=warn
KURZ__SERVER__PORT="$port" KURZ__SERVER__PUBLIC_URL="https://sho.rt" "$KURZ_BIN" \
  >"$work/server-$backend.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 100); do
  curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$work/server-$backend.log" >&2; exit 1; }
  sleep 0.1
done
curl -sf "http://127.0.0.1:$port/readyz" >/dev/null || { echo "kurz never became ready" >&2; exit 1; }

key=$("$KURZ_BIN" apikey create --role admin --name schemathesis | tail -n1)

workers=2
python_is_fixed "$venv/bin/python" || workers=1

echo "== schemathesis on $backend for ${MAX_TIME}s: $CHECKS" >&2
# From the work directory, so schemathesis's own cache stays out of the source tree.
cd "$work"
"$venv/bin/schemathesis" --config-file "$config" \
  run "http://127.0.0.1:$port/api/openapi.json" \
  --checks "$CHECKS" \
  --header "Authorization: Bearer $key" \
  --max-time "$MAX_TIME" \
  --workers "$workers" \
  --generation-database none \
  --report junit --report-dir "$work/report-$backend" \
  ${SEED:+--seed "$SEED"} || status=$?
if [ "${status:-0}" -ne 0 ]; then
  # What kurz logged (warnings and errors only) says why a request failed, which the report
  # alone does not: CI shows this output and nothing of the work directory.
  echo "== kurz's log ($work/server-$backend.log), last 60 lines:" >&2
  tail -n 60 "$work/server-$backend.log" >&2
  exit "$status"
fi
