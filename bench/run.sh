#!/usr/bin/env bash
# Benchmarks kurz on loopback with wrk, with nginx answering `return 302` as the ceiling, on
# PostgreSQL and/or SQLite. Usage:
#
#   bench/run.sh [postgres|sqlite|both]
#
# Environment: URLS (1000000), VISITS (10000000), HOT_VISITS (1000000: visits of b0000000),
# REDIRECT_URLS (URLS: how many of the seeded slugs the redirect runs pick from),
# CACHE_CAPACITY (cache.capacity for the run, 200000: twice the 100 000 slugs usually asked),
# DURATION (10s), CONNECTIONS (50), SKIP_SEED=1 to reuse the databases of an earlier run,
# BENCH_PG_URL (postgres://postgres@127.0.0.1:5432/kurz_bench).
# Results are printed as Markdown and written to bench/results/<backend>.md.
set -euo pipefail
cd "$(dirname "$0")/.."

which="${1:-both}"
export URLS="${URLS:-1000000}"
VISITS="${VISITS:-10000000}"
HOT_VISITS="${HOT_VISITS:-1000000}"
DURATION="${DURATION:-10s}"
CONNECTIONS="${CONNECTIONS:-50}"
# Sized for the redirect runs' working set, as an operator would size it: at exactly the
# number of slugs, the cache's admission policy keeps turning some away and a quarter of
# the redirects go to the database.
CACHE_CAPACITY="${CACHE_CAPACITY:-200000}"
PG_URL="${BENCH_PG_URL:-postgres://postgres@127.0.0.1:5432/kurz_bench}"
SQLITE_FILE="${SQLITE_FILE:-bench/data/kurz_bench.db}"
KURZ_PORT=18080
NGINX_PORT=18090

for tool in wrk nginx; do
  command -v "$tool" >/dev/null || { echo "needs $tool: apt-get install -y wrk nginx-light" >&2; exit 1; }
done
cargo build --release --quiet
cargo build --release --quiet --manifest-path bench/axum-baseline/Cargo.toml
KURZ=target/release/kurz
BASELINE=bench/axum-baseline/target/release/axum-baseline
BASELINE_PORT=18091
mkdir -p bench/results bench/data /tmp/kurz-bench-nginx

pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; }
trap cleanup EXIT

# One wrk run: prints "req/s p50 p99 errors".
measure() {
  local out
  local threads=$(( $1 < 2 ? $1 : 2 ))
  out=$(wrk -t"$threads" -c"$1" -d"$DURATION" --latency "${@:2}")
  local rps p50 p99 errors
  rps=$(awk '/^Requests\/sec/ {print $2}' <<<"$out")
  p50=$(awk '/^ +50%/ {print $2}' <<<"$out")
  p99=$(awk '/^ +99%/ {print $2}' <<<"$out")
  errors=$(awk '/Socket errors|Non-2xx/ {printf "%s ", $0}' <<<"$out")
  echo "$rps|$p50|$p99|${errors:-none}"
}

wait_ready() {
  for _ in $(seq 1 100); do
    curl -sf "http://127.0.0.1:$KURZ_PORT/readyz" >/dev/null && return 0
    sleep 0.1
  done
  echo "kurz did not become ready" >&2; exit 1
}

max_visit_id() {
  case "$1" in
    postgres) psql "$PG_URL" -qAtc 'SELECT coalesce(max(id), 0) FROM url_visits' ;;
    sqlite) sqlite3 "$SQLITE_FILE" 'SELECT coalesce(max(id), 0) FROM url_visits' ;;
  esac
}

cursor_for() { printf 'k1:%d' "$1" | base64 | tr '+/' '-_' | tr -d '='; }

nginx -c "$PWD/bench/nginx.conf" -g 'daemon off;' &
pids+=($!)

bench_backend() {
  local backend=$1 db_url
  case "$backend" in
    postgres)
      db_url="$PG_URL"
      if [ -z "${SKIP_SEED:-}" ]; then
        psql "${PG_URL%/*}/postgres" -qc 'DROP DATABASE IF EXISTS kurz_bench WITH (FORCE)' -c 'CREATE DATABASE kurz_bench'
      fi ;;
    sqlite)
      db_url="sqlite://$SQLITE_FILE"
      [ -n "${SKIP_SEED:-}" ] || rm -f "$SQLITE_FILE"* ;;
  esac
  local seed_line="(reused)"
  if [ -z "${SKIP_SEED:-}" ]; then
    echo "== seeding $backend: $URLS URLs, $VISITS visits ($HOT_VISITS on b0000000)" >&2
    seed_line=$(DATABASE_URL="$db_url" "$KURZ" dev seed --urls "$URLS" --visits "$VISITS" \
      --hot-visits "$HOT_VISITS" --batch 10000 | tail -1)
    echo "$seed_line" >&2
  fi

  # Production mode requires a key on the API; an admin key is not rate limited.
  local key
  key=$(DATABASE_URL="$db_url" "$KURZ" apikey create --role admin --name bench | tail -n1)
  export KURZ_KEY="$key"
  local auth=(-H "Authorization: Bearer $key")

  KURZ_ENV=production KURZ__SERVER__HOST=127.0.0.1 KURZ__SERVER__PORT=$KURZ_PORT \
    KURZ__DATABASE__MAX_CONNECTIONS=16 KURZ__CACHE__CAPACITY="$CACHE_CAPACITY" \
    RUST_LOG=warn DATABASE_URL="$db_url" "$KURZ" &
  local kurz_pid=$!
  pids+=("$kurz_pid")
  wait_ready

  local base="http://127.0.0.1:$KURZ_PORT" today from deep
  today=$(date -u +%F)
  from=$(date -u -d '89 days ago' +%F)
  deep=$(cursor_for $((URLS / 2)))
  local report="bench/results/$backend.md"
  {
    echo "### $backend ($URLS URLs, $VISITS visits; $(nproc) cores, $(date -u +%F))"
    echo
    echo "Seed: $seed_line"
    echo
    echo "| what | connections | req/s | p50 | p99 | vs nginx | socket errors, 4xx/5xx |"
    echo "| --- | --- | --- | --- | --- | --- | --- |"
  } >"$report"

  local ceiling before after sent
  echo "== $backend: nginx ceiling" >&2
  ceiling=$(measure "$CONNECTIONS" -s bench/wrk/random_slug.lua "http://127.0.0.1:$NGINX_PORT")
  IFS='|' read -r n1 n2 n3 n4 <<<"$ceiling"
  echo "| nginx \`return 302\` (ceiling) | $CONNECTIONS | $n1 | $n2 | $n3 | 100% | $n4 |" >>"$report"
  echo "== $backend: minimal axum server (control)" >&2
  "$BASELINE" &
  local baseline_pid=$!
  sleep 0.5
  IFS='|' read -r b1 b2 b3 b4 <<<"$(measure "$CONNECTIONS" -s bench/wrk/random_slug.lua "http://127.0.0.1:$BASELINE_PORT")"
  kill "$baseline_pid"; wait "$baseline_pid" 2>/dev/null || true
  echo "| minimal axum \`GET /{slug}\` → 302 (control, bench/axum-baseline) | $CONNECTIONS | $b1 | $b2 | $b3 | $(awk -v a="$b1" -v b="${ceiling%%|*}" 'BEGIN {printf "%.0f%%", 100 * a / b}') | $b4 |" >>"$report"

  echo "== $backend: redirects" >&2
  local redirect
  # A first run warms the redirect cache; the second is measured.
  URLS="${REDIRECT_URLS:-$URLS}" measure "$CONNECTIONS" -s bench/wrk/random_slug.lua "$base" >/dev/null
  sleep 3
  before=$(max_visit_id "$backend")
  redirect=$(URLS="${REDIRECT_URLS:-$URLS}" measure "$CONNECTIONS" -s bench/wrk/random_slug.lua "$base")
  local ratio
  ratio=$(awk -v a="${redirect%%|*}" -v b="${ceiling%%|*}" 'BEGIN {printf "%.0f%%", 100 * a / b}')
  IFS='|' read -r rps p50 p99 errors <<<"$redirect"
  echo "| redirect \`GET /{random of ${REDIRECT_URLS:-$URLS} slugs}\` with tracking | $CONNECTIONS | $rps | $p50 | $p99 | $ratio | $errors |" >>"$report"
  sleep 2
  after=$(max_visit_id "$backend")
  sent=$(awk -v rps="$rps" -v d="${DURATION%s}" 'BEGIN {printf "%.0f", rps * d}')
  echo >&2 "visits stored during the redirect run: $((after - before)) (wrk sent about $sent)"

  run_row() {
    local label=$1 conns=$2; shift 2
    IFS='|' read -r a b c d <<<"$(measure "$conns" "$@")"
    echo "| $label | $conns | $a | $b | $c | | $d |" >>"$report"
  }
  echo "== $backend: redirects without tracking (HEAD)" >&2
  IFS='|' read -r h1 h2 h3 h4 <<<"$(URLS="${REDIRECT_URLS:-$URLS}" measure "$CONNECTIONS" -s bench/wrk/random_slug_head.lua "$base")"
  echo "| redirect \`HEAD /{random of ${REDIRECT_URLS:-$URLS} slugs}\` (no visit recorded) | $CONNECTIONS | $h1 | $h2 | $h3 | $(awk -v a="$h1" -v b="${ceiling%%|*}" 'BEGIN {printf "%.0f%%", 100 * a / b}') | $h4 |" >>"$report"
  echo "== $backend: API" >&2
  run_row "create \`POST /api/urls\`" 10 -s bench/wrk/create.lua "$base"
  run_row "list, first page \`GET /api/urls?limit=50\`" 1 "${auth[@]}" "$base/api/urls?limit=50"
  run_row "list, deep page (cursor at id $((URLS / 2)))" 1 "${auth[@]}" "$base/api/urls?limit=50&cursor=$deep"
  run_row "visits of b0000000, first page" 1 "${auth[@]}" "$base/api/urls/b0000000/visits?limit=50"
  run_row "all visits, first page \`GET /api/visits\`" 1 "${auth[@]}" "$base/api/visits?limit=50"
  run_row "stats of b0000000, 90 days" 1 "${auth[@]}" "$base/api/urls/b0000000/stats?from=$from&to=$today"
  run_row "stats of b0000000, 90 days (10 at once)" 10 "${auth[@]}" "$base/api/urls/b0000000/stats?from=$from&to=$today"
  run_row "stats of b0000000, 90 days, bots included" 1 "${auth[@]}" "$base/api/urls/b0000000/stats?from=$from&to=$today&bots=true"
  {
    echo
    echo "Visits stored during the ${DURATION} redirect run: $((after - before)) (requests answered: about $sent)."
    echo
  } >>"$report"
  kill "$kurz_pid"; wait "$kurz_pid" 2>/dev/null || true
  cat "$report"
}

case "$which" in
  postgres|sqlite) bench_backend "$which" ;;
  both) bench_backend postgres; bench_backend sqlite ;;
  *) echo "usage: bench/run.sh [postgres|sqlite|both]" >&2; exit 2 ;;
esac
