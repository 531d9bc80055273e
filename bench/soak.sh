#!/usr/bin/env bash
# A soak: minutes of mixed load (80% redirects, 5% creations, list pages, visit lists, stats;
# bench/wrk/mixed.lua) against a production-mode kurz on PostgreSQL, in one-minute rounds.
# After each round it records the round's throughput, p50 and p99, kurz's resident memory
# (VmRSS) and the redirect cache's entries, so growth shows. Usage:
#
#   bench/soak.sh
#
# Environment: MINUTES (10), CONNECTIONS (20), URLS (100000 seeded; the redirect cache holds
# 100 000 by default), VISITS (1000000 seeded), BENCH_PG_URL (a database it drops and refills,
# default postgres://postgres@127.0.0.1:5432/kurz_soak). Writes bench/results/soak.md.
set -euo pipefail
cd "$(dirname "$0")/.."

MINUTES="${MINUTES:-10}"
CONNECTIONS="${CONNECTIONS:-20}"
export URLS="${URLS:-100000}"
VISITS="${VISITS:-1000000}"
PG_URL="${BENCH_PG_URL:-postgres://postgres@127.0.0.1:5432/kurz_soak}"
PORT=18081
command -v wrk >/dev/null || { echo "needs wrk: apt-get install -y wrk" >&2; exit 1; }
cargo build --release --quiet
KURZ=target/release/kurz
mkdir -p bench/results

db_name="${PG_URL##*/}"
psql "${PG_URL%/*}/postgres" -qc "DROP DATABASE IF EXISTS $db_name WITH (FORCE)" -c "CREATE DATABASE $db_name"
echo "== seeding $URLS URLs, $VISITS visits" >&2
DATABASE_URL="$PG_URL" "$KURZ" dev seed --urls "$URLS" --visits "$VISITS" --batch 10000 | tail -1 >&2
KEY=$(DATABASE_URL="$PG_URL" "$KURZ" apikey create --role admin --name soak | tail -n1)
export KURZ_KEY="$KEY" FROM=$(date -u -d '89 days ago' +%F) TO=$(date -u +%F)

KURZ_ENV=production KURZ__SERVER__PORT=$PORT KURZ__DATABASE__MAX_CONNECTIONS=16 RUST_LOG=warn \
  DATABASE_URL="$PG_URL" "$KURZ" &
kurz_pid=$!
trap 'kill $kurz_pid 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null && break; sleep 0.1; done

rss_mib() { awk '/^VmRSS/ {printf "%.1f", $2 / 1024}' "/proc/$kurz_pid/status"; }
metric() { curl -s "http://127.0.0.1:$PORT/metrics" | awk -v m="$1" '$1 == m {print $2}'; }

report=bench/results/soak.md
{
  echo "### Soak: $MINUTES × 1 min, $CONNECTIONS connections, $URLS URLs ($(nproc) cores, $(date -u +%F))"
  echo
  echo "| minute | req/s | p50 | p99 | non-2xx/3xx | RSS (MiB) | redirect cache entries | visits dropped |"
  echo "| --- | --- | --- | --- | --- | --- | --- | --- |"
  echo "| 0 (idle, after start) | | | | | $(rss_mib) | $(metric kurz_redirect_cache_entries) | |"
} >"$report"
for minute in $(seq 1 "$MINUTES"); do
  out=$(wrk -t2 -c"$CONNECTIONS" -d60s --latency -s bench/wrk/mixed.lua "http://127.0.0.1:$PORT")
  rps=$(awk '/^Requests\/sec/ {print $2}' <<<"$out")
  p50=$(awk '/^ +50%/ {print $2}' <<<"$out")
  p99=$(awk '/^ +99%/ {print $2}' <<<"$out")
  errors=$(awk '/Non-2xx/ {print $NF}' <<<"$out")
  echo "| $minute | $rps | $p50 | $p99 | ${errors:-0} | $(rss_mib) | $(metric kurz_redirect_cache_entries) | $(metric kurz_visits_dropped_total) |" >>"$report"
  tail -n1 "$report" >&2
done
cat "$report"
