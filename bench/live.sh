#!/usr/bin/env bash
# Live visits under load: redirect latency with 0 and with SUBSCRIBERS WebSocket subscribers to
# /api/visits/live while wrk runs redirects at full speed, and the delivery latency (redirect's
# visited_at to the subscriber receiving the visit), p50/p99. Usage:
#
#   bench/live.sh [postgres|sqlite]
#
# Environment: SUBSCRIBERS (1000), URLS (10000 seeded URLs the redirects pick from),
# DURATION (10s), CONNECTIONS (50), BENCH_PG_URL (postgres://postgres@127.0.0.1:5432/kurz_bench_live),
# LIVE_CAPACITY (live.channel_capacity, 1024), STREAM (all: every subscriber on the stream of
# all visits, so each visit goes to all of them; url: subscriber i on the stream of link
# b<i>, so each visit to one of the first SUBSCRIBERS links goes to one subscriber).
# Small check run: SUBSCRIBERS=50 DURATION=5s bench/live.sh sqlite
# Results are printed as Markdown and written to bench/results/live-<backend>.md.
set -euo pipefail
cd "$(dirname "$0")/.."

backend="${1:-postgres}"
SUBSCRIBERS="${SUBSCRIBERS:-1000}"
export URLS="${URLS:-10000}"
DURATION="${DURATION:-10s}"
CONNECTIONS="${CONNECTIONS:-50}"
PG_URL="${BENCH_PG_URL:-postgres://postgres@127.0.0.1:5432/kurz_bench_live}"
SQLITE_FILE="bench/data/kurz_bench_live.db"
STREAM="${STREAM:-all}"
case "$STREAM" in
  all) stream_path=/api/visits/live ;;
  url) stream_path='/api/urls/b{i}/visits/live' ;;
  *) echo "STREAM is all or url" >&2; exit 2 ;;
esac
PORT=18081
seconds="${DURATION%s}"

command -v wrk >/dev/null || { echo "needs wrk: apt-get install -y wrk" >&2; exit 1; }
# More sockets than the default 1024 file descriptors.
ulimit -n "$(( SUBSCRIBERS * 2 + 1024 ))" 2>/dev/null || ulimit -n 65536 2>/dev/null || true
cargo build --release --quiet --bin kurz --example live_subscribers
KURZ=target/release/kurz
TOOL=target/release/examples/live_subscribers
mkdir -p bench/results bench/data

pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; }
trap cleanup EXIT

case "$backend" in
  postgres)
    db_url="$PG_URL"
    psql "${PG_URL%/*}/postgres" -qc "DROP DATABASE IF EXISTS ${PG_URL##*/} WITH (FORCE)" \
      -c "CREATE DATABASE ${PG_URL##*/}" ;;
  sqlite)
    db_url="sqlite://$SQLITE_FILE"
    rm -f "$SQLITE_FILE"* ;;
  *) echo "usage: bench/live.sh [postgres|sqlite]" >&2; exit 2 ;;
esac
DATABASE_URL="$db_url" "$KURZ" dev seed --urls "$URLS" --visits 0 >/dev/null
# Production mode: the stream needs a key; the subscribers send it as `access_token`.
KEY=$(DATABASE_URL="$db_url" "$KURZ" apikey create --role viewer --name bench-live | tail -n1)

KURZ_ENV=production KURZ__SERVER__HOST=127.0.0.1 KURZ__SERVER__PORT=$PORT \
  KURZ__DATABASE__MAX_CONNECTIONS=16 KURZ__LIVE__MAX_SUBSCRIBERS=$((SUBSCRIBERS + 100)) \
  KURZ__LIVE__CHANNEL_CAPACITY="${LIVE_CAPACITY:-1024}" \
  RUST_LOG=warn DATABASE_URL="$db_url" "$KURZ" &
pids+=($!)
for _ in $(seq 1 100); do
  curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null && break
  sleep 0.1
done
base="http://127.0.0.1:$PORT"

# One wrk run of redirects: prints "req/s|p50|p99".
redirects() {
  local out threads=$(( CONNECTIONS < 2 ? CONNECTIONS : 2 ))
  out=$(wrk -t"$threads" -c"$CONNECTIONS" -d"$DURATION" --latency -s bench/wrk/random_slug.lua "$base")
  echo "$(awk '/^Requests\/sec/ {print $2}' <<<"$out")|$(awk '/^ +50%/ {print $2}' <<<"$out")|$(awk '/^ +99%/ {print $2}' <<<"$out")"
}

echo "== warm-up" >&2
redirects >/dev/null
sleep 2
echo "== redirects, no subscribers" >&2
IFS='|' read -r rps0 p50_0 p99_0 <<<"$(redirects)"
sleep 2

echo "== redirects with $SUBSCRIBERS subscribers" >&2
ready=$(mktemp -u)
"$TOOL" --url "ws://127.0.0.1:$PORT$stream_path?access_token=$KEY" --subscribers "$SUBSCRIBERS" \
  --seconds "$((seconds + 3))" --ready-file "$ready" >"$ready.out" &
tool=$!
pids+=("$tool")
for _ in $(seq 1 600); do [ -e "$ready" ] && break; sleep 0.1; done
[ -e "$ready" ] || { echo "the subscribers did not connect" >&2; exit 1; }
IFS='|' read -r rps1 p50_1 p99_1 <<<"$(redirects)"
wait "$tool"
delivery=$(cat "$ready.out")
rm -f "$ready" "$ready.out"
field() { sed -n "s/.*\b$1=\([^ ]*\).*/\1/p" <<<"$delivery"; }

report="bench/results/live-$backend-$STREAM.md"
{
  echo "### live visits, $backend ($(nproc) cores, $(date -u +%F))"
  echo
  echo "wrk: $CONNECTIONS connections, $DURATION, random of $URLS slugs; subscribers on \`${stream_path}\` over WebSocket, live.channel_capacity ${LIVE_CAPACITY:-1024}."
  echo
  echo "| subscribers | redirect req/s | redirect p50 | redirect p99 | visits delivered (all subscribers) | lagged notices (visits missed) | delivery p50 | delivery p99 | delivery max |"
  echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"
  echo "| 0 | $rps0 | $p50_0 | $p99_0 | | | | | |"
  echo "| $SUBSCRIBERS | $rps1 | $p50_1 | $p99_1 | $(field visits) | $(field lagged) ($(field missed)) | $(field p50_ms) ms | $(field p99_ms) ms | $(field max_ms) ms |"
  echo
  echo "Tool: \`${delivery//$KEY/<key>}\`"
} >"$report"
cat "$report"
