#!/usr/bin/env bash
# `kurz import --from shlink` at a million visits (issue 15: "a million visits import in well
# under a minute on PostgreSQL"), read through the Shlink REST API of a second kurz, the same
# answers Shlink's SDK is checked against in CI. Seeds a source database with LINKS links and
# VISITS visits (`kurz dev seed`: real user agents, referrers, 90 days; HOT_VISITS of them on
# one link, which so has many pages), serves it with the release binary, imports it into a
# fresh PostgreSQL database and reports the seconds, visits per second, and the CPU time of
# the importing kurz, the serving kurz and PostgreSQL (both databases are on the one server).
# It then checks that the target's counters and rows equal the source's. Usage:
#
#   bench/import_shlink.sh
#
# Environment: VISITS (1000000), LINKS (1000), HOT_VISITS (200000), BENCH_PG (the server,
# postgres://postgres@127.0.0.1:5432; databases kurz_shlink_source and kurz_shlink_target are
# dropped and created), PORT (18095), KURZ (the binary; default: a release build).
# Prints Markdown and writes it to bench/results/import_shlink.md.
set -euo pipefail
cd "$(dirname "$0")/.."

VISITS="${VISITS:-1000000}"
LINKS="${LINKS:-1000}"
HOT_VISITS="${HOT_VISITS:-200000}"
PG="${BENCH_PG:-postgres://postgres@127.0.0.1:5432}"
PORT="${PORT:-18095}"
SOURCE_URL="$PG/kurz_shlink_source"
TARGET_URL="$PG/kurz_shlink_target"
if [[ -z "${KURZ:-}" ]]; then
  cargo build --release --quiet
  KURZ="${CARGO_TARGET_DIR:-target}/release/kurz"
fi
# shellcheck source=bench/lib.sh
. bench/lib.sh
mkdir -p bench/results
out=bench/results/import_shlink.md

for db in kurz_shlink_source kurz_shlink_target; do
  psql -q "$PG/postgres" -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
done
DATABASE_URL="$SOURCE_URL" "$KURZ" migrate >/dev/null
DATABASE_URL="$TARGET_URL" "$KURZ" migrate >/dev/null
echo "seeding the source: $LINKS links, $VISITS visits ($HOT_VISITS on b0000000)" >&2
DATABASE_URL="$SOURCE_URL" "$KURZ" dev seed --urls "$LINKS" --visits "$VISITS" \
  --hot-visits "$HOT_VISITS" --tags 20 >&2
key=$(DATABASE_URL="$SOURCE_URL" "$KURZ" apikey create --role admin --name bench | tail -n1)

DATABASE_URL="$SOURCE_URL" KURZ__SERVER__PORT="$PORT" KURZ__AUTH__ALLOW_ANONYMOUS=false \
  RUST_LOG=warn "$KURZ" >bench/results/import_shlink-source.log 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 100); do
  DATABASE_URL="$SOURCE_URL" KURZ__SERVER__PORT="$PORT" "$KURZ" healthcheck --ready \
    >/dev/null 2>&1 && break
  sleep 0.2
done

# Past the few seconds an import leaves to the next run.
sleep 6
postmaster=$(pg_postmaster_pid "$PG/postgres")
command=("$KURZ" import --from shlink --url "http://127.0.0.1:$PORT" --api-key "$key" --json)
echo "importing: DATABASE_URL=$TARGET_URL ${command[*]/$key/KEY}" >&2
pg_before=$(pg_cpu_ticks "$postmaster")
server_before=$(proc_ticks "$server")
started=$(date +%s.%N)
DATABASE_URL="$TARGET_URL" /usr/bin/time -f '%U %S %M' -o /tmp/kurz-shlink-bench.time \
  "${command[@]}" >/tmp/kurz-shlink-bench.json
ended=$(date +%s.%N)
pg_after=$(pg_cpu_ticks "$postmaster")
server_after=$(proc_ticks "$server")
seconds=$(echo "$ended - $started" | bc -l)
imported=$(python3 -c 'import json; print(json.load(open("/tmp/kurz-shlink-bench.json"))["visits"])')
rate=$(echo "$imported / $seconds" | bc -l)
kurz_cpu=$(awk '{printf "%.1f", $1 + $2}' /tmp/kurz-shlink-bench.time)
kurz_rss=$(awk '{printf "%.0f", $3 / 1024}' /tmp/kurz-shlink-bench.time)
server_cpu=$(echo "($server_after - $server_before) / $CLK_TCK" | bc -l)
pg_cpu=$(echo "($pg_after - $pg_before) / $CLK_TCK" | bc -l)

# The target against the source: rows, counters, rollups, bots.
counts="SELECT (SELECT count(*) FROM url_visits), (SELECT sum(visit_count) FROM urls),
  (SELECT sum(human_visits) FROM urls), (SELECT sum(visits) FROM visit_totals),
  (SELECT sum(visits) FROM url_daily_rollups)"
source_counts=$(psql -qAt -F ' ' "$SOURCE_URL" -c "$counts")
target_counts=$(psql -qAt -F ' ' "$TARGET_URL" -c "$counts")
[[ "$source_counts" == "$target_counts" ]] ||
  { echo "counters differ: source $source_counts, target $target_counts" >&2; exit 1; }

{
  echo "### kurz import --from shlink: $imported visits of $LINKS links (one with $HOT_VISITS) into PostgreSQL"
  echo
  echo "$(date -u +%Y-%m-%d), $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)),"
  echo "PostgreSQL $(psql -qAt "$PG/postgres" -c 'SHOW server_version'); the source is a second kurz (release build) on the same machine and server."
  echo
  echo '```sh'
  echo "VISITS=$VISITS LINKS=$LINKS HOT_VISITS=$HOT_VISITS bench/import_shlink.sh"
  echo '```'
  echo
  echo "| seconds | visits/s | importing kurz CPU s | its max RSS MiB | serving kurz CPU s | PostgreSQL CPU s |"
  echo "| ---: | ---: | ---: | ---: | ---: | ---: |"
  printf '| %.1f | %.0f | %s | %s | %.1f | %.1f |\n' "$seconds" "$rate" "$kurz_cpu" "$kurz_rss" "$server_cpu" "$pg_cpu"
  echo
  echo "Source and target agree: visit rows, visit_count, human_visits, visit_totals, rollups = $target_counts."
} | tee "$out"
