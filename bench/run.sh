#!/usr/bin/env bash
# Benchmarks kurz on loopback with wrk, with nginx answering `return 302` as the ceiling and a
# minimal axum server as the control, on PostgreSQL and/or SQLite. Usage:
#
#   bench/run.sh [postgres|sqlite|both]
#
# Environment: URLS (1000000), VISITS (10000000), HOT_VISITS (1000000: visits of b0000000),
# REDIRECT_URLS (URLS: how many of the seeded slugs the redirect runs pick from),
# CACHE_CAPACITY (cache.capacity for the run, 200000: twice the 100 000 slugs usually asked),
# DURATION (10s), CONNECTIONS (50), SKIP_SEED=1 to reuse the databases of an earlier run,
# BENCH_PG_URL (postgres://postgres@127.0.0.1:5432/kurz_bench),
# SQLITE_FILE (bench/data/kurz_bench.db).
#
# kurz runs as in production (KURZ_ENV=production: config/production.toml, JSON logs with its
# filter "info,sqlx=warn"); its output goes to bench/results/kurz-<backend>.log.
#
# Reports, as Markdown printed and written to bench/results/<backend>.md:
# - the seed (kurz dev seed): its rate, and the CPU time per stored visit of the seed process
#   plus the database's processes, read from /proc (bench/lib.sh; SQLite: kurz's alone);
# - a table of wrk runs: nginx (ceiling), the axum control, redirects with tracking (GET) and
#   without (HEAD), each with its ratio to nginx and to the axum control; creates, list pages,
#   visit lists and statistics;
# - visits stored against redirects answered during the GET run: wrk's completed requests
#   (less any non-2xx/3xx) against the visit rows added (max(id) before and after, read once
#   the count has stopped growing), with kurz's own count of GET redirects from /metrics, and a
#   warning when they differ or wrk had socket errors;
# - SQLite: the sizes of the database file and of its WAL at the end of the run.
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
# shellcheck source=bench/lib.sh
source bench/lib.sh

pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; }
trap cleanup EXIT

# One wrk run. Sets M_RPS, M_P50, M_P99, M_ERRORS (wrk's socket error and non-2xx/3xx lines,
# or "none"), M_REQUESTS (requests completed: "N requests in"), M_NON_OK (non-2xx/3xx answers)
# and M_SOCKET_ERRORS (connect + read + write + timeout). Called directly, not in $(...), so
# that a failing wrk stops the script.
measure() {
  local out
  local threads=$(( $1 < 2 ? $1 : 2 ))
  out=$(wrk -t"$threads" -c"$1" -d"$DURATION" --latency "${@:2}")
  M_RPS=$(awk '/^Requests\/sec/ {print $2}' <<<"$out")
  M_P50=$(awk '/^ +50%/ {print $2}' <<<"$out")
  M_P99=$(awk '/^ +99%/ {print $2}' <<<"$out")
  M_ERRORS=$(awk '/Socket errors|Non-2xx/ {sub(/^ +/, ""); printf "%s%s", sep, $0; sep = "; "}' <<<"$out")
  M_ERRORS=${M_ERRORS:-none}
  M_REQUESTS=$(awk '/ requests in / {print $1; exit}' <<<"$out")
  M_NON_OK=$(awk '/Non-2xx or 3xx responses:/ {print $NF}' <<<"$out")
  M_SOCKET_ERRORS=$(awk '/Socket errors:/ {gsub(/,/, ""); print $4 + $6 + $8 + $10}' <<<"$out")
  M_REQUESTS=${M_REQUESTS:-0} M_NON_OK=${M_NON_OK:-0} M_SOCKET_ERRORS=${M_SOCKET_ERRORS:-0}
  if [ -z "$M_RPS" ]; then
    echo "wrk gave no Requests/sec; its output:" >&2
    echo "$out" >&2
    exit 1
  fi
}

# A/B as a decimal with two digits ("n/a" without a B).
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 > 0) printf "%.2f", a / b; else printf "n/a" }'; }

wait_ready() {
  for _ in $(seq 1 100); do
    curl -sf "http://127.0.0.1:$KURZ_PORT/readyz" >/dev/null && return 0
    sleep 0.1
  done
  echo "kurz did not become ready (its log: $kurz_log)" >&2; tail -n 20 "$kurz_log" >&2; exit 1
}

max_visit_id() {
  case "$1" in
    postgres) psql "$PG_URL" -qAtc 'SELECT coalesce(max(id), 0) FROM url_visits' ;;
    sqlite) sqlite3 "$SQLITE_FILE" 'SELECT coalesce(max(id), 0) FROM url_visits' ;;
  esac
}

# max(id) of url_visits once it has stopped growing: the writer stores visits asynchronously,
# so poll every 0.5 s until two readings in a row are the same (at most 15 s).
settled_max_visit_id() {
  local last now same=0
  last=$(max_visit_id "$1")
  for _ in $(seq 1 30); do
    sleep 0.5
    now=$(max_visit_id "$1")
    if [ "$now" = "$last" ]; then
      same=$((same + 1))
      [ "$same" -lt 2 ] || break
    else
      same=0
    fi
    last=$now
  done
  [ "$same" -ge 2 ] || echo "warning: url_visits was still growing after 15 s" >&2
  echo "$last"
}

# Sums of kurz's /metrics: GET redirects answered (any 3xx of the /{slug} route) and visits
# dropped; "" when /metrics does not answer.
metrics_snapshot() {
  local text
  text=$(curl -sf "http://127.0.0.1:$KURZ_PORT/metrics") || return 0
  awk '
    /^kurz_http_requests_total\{/ && /method="GET"/ && /route="\/\{slug\}"/ && /status="3[0-9][0-9]"/ { r += $NF }
    /^kurz_visits_dropped_total/ { d += $NF }
    END { printf "%d %d\n", r, d }' <<<"$text"
}

# The redirect cache's entries and misses so far, from kurz's /metrics ("0 0" if it does not answer).
cache_snapshot() {
  local text
  text=$(curl -sf "http://127.0.0.1:$KURZ_PORT/metrics") || { echo "0 0"; return 0; }
  awk '
    /^kurz_redirect_cache_entries / { e = $NF }
    /^kurz_redirect_cache_misses_total / { m = $NF }
    END { printf "%d %d\n", e, m }' <<<"$text"
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
  local seed_line="(reused)" ingest_line=""
  if [ -z "${SKIP_SEED:-}" ]; then
    echo "== seeding $backend: $URLS URLs, $VISITS visits ($HOT_VISITS on b0000000)" >&2
    seed_measured "$backend" "$db_url" "${PG_URL%/*}/postgres" -- --urls "$URLS" --visits "$VISITS" \
      --hot-visits "$HOT_VISITS" --batch 10000
    seed_line=$SEED_LINE ingest_line=$INGEST_LINE
    echo "$seed_line" >&2
    echo "$ingest_line" >&2
    # Start the measurements on a settled database, not one where autovacuum is catching up
    # with the seed.
    [ "$backend" != postgres ] || psql "$db_url" -qc 'VACUUM (ANALYZE)' -c 'CHECKPOINT'
  fi

  # Production mode requires a key on the API; an admin key is not rate limited.
  local key
  key=$(DATABASE_URL="$db_url" "$KURZ" apikey create --role admin --name bench | tail -n1)
  export KURZ_KEY="$key"
  local auth=(-H "Authorization: Bearer $key")

  # The shipped production settings, log filter included; the JSON logs go to a file.
  kurz_log="bench/results/kurz-$backend.log"
  KURZ_ENV=production KURZ__SERVER__HOST=127.0.0.1 KURZ__SERVER__PORT=$KURZ_PORT \
    KURZ__DATABASE__MAX_CONNECTIONS=16 KURZ__CACHE__CAPACITY="$CACHE_CAPACITY" \
    DATABASE_URL="$db_url" "$KURZ" >"$kurz_log" 2>&1 &
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
    if [ -n "$ingest_line" ]; then
      echo
      echo "${ingest_line^}."
    fi
    echo
    echo "| what | connections | req/s | p50 | p99 | vs nginx | vs axum control | socket errors, 4xx/5xx |"
    echo "| --- | --- | --- | --- | --- | --- | --- | --- |"
  } >"$report"

  local slugs="${REDIRECT_URLS:-$URLS}" nginx_rps control_rps
  echo "== $backend: nginx ceiling" >&2
  measure "$CONNECTIONS" -s bench/wrk/random_slug.lua "http://127.0.0.1:$NGINX_PORT"
  nginx_rps=$M_RPS
  local nginx_row="| nginx \`return 302\` (ceiling) | $CONNECTIONS | $M_RPS | $M_P50 | $M_P99 | 1.00 |"
  local nginx_errors=$M_ERRORS
  echo "== $backend: minimal axum server (control)" >&2
  "$BASELINE" &
  local baseline_pid=$!
  sleep 0.5
  measure "$CONNECTIONS" -s bench/wrk/random_slug.lua "http://127.0.0.1:$BASELINE_PORT"
  kill "$baseline_pid"; wait "$baseline_pid" 2>/dev/null || true
  control_rps=$M_RPS
  {
    echo "$nginx_row $(ratio "$nginx_rps" "$control_rps") | $nginx_errors |"
    echo "| minimal axum \`GET /{slug}\` → 302 (control, bench/axum-baseline) | $CONNECTIONS | $M_RPS | $M_P50 | $M_P99 | $(ratio "$M_RPS" "$nginx_rps") | 1.00 | $M_ERRORS |"
  } >>"$report"

  # HEAD runs asking for every slug in turn fill the redirect cache without writing visits
  # (random slugs would leave some uncached), until it holds them all: on a database just
  # seeded and checkpointed one pass of $DURATION may not reach every slug, and the measured
  # run would then read the database on its misses. Then HEAD is measured, then GET with
  # tracking (so that the database is not still busy with the GET run's visits while HEAD is
  # measured).
  echo "== $backend: redirects without tracking (HEAD)" >&2
  local fills=0 entries misses_before misses_after
  while :; do
    URLS="$slugs" WRK_THREADS=2 measure "$CONNECTIONS" -s bench/wrk/every_slug_head.lua "$base"
    fills=$((fills + 1))
    read -r entries misses_before <<<"$(cache_snapshot)"
    if [ "$entries" -ge "$slugs" ] || [ "$fills" -ge 5 ]; then break; fi
  done
  URLS="$slugs" measure "$CONNECTIONS" -s bench/wrk/random_slug_head.lua "$base"
  read -r _ misses_after <<<"$(cache_snapshot)"
  local head_row="| redirect \`HEAD /{random of $slugs slugs}\` (no visit recorded) | $CONNECTIONS | $M_RPS | $M_P50 | $M_P99 | $(ratio "$M_RPS" "$nginx_rps") | $(ratio "$M_RPS" "$control_rps") | $M_ERRORS |"
  local head_line="Redirect cache before the \`HEAD\` run: $entries entries after $fills filling pass(es) of $DURATION; $((misses_after - misses_before)) misses during it."
  echo "$head_line" >&2
  echo "== $backend: redirects" >&2
  local before after m_before m_after
  before=$(settled_max_visit_id "$backend")
  m_before=$(metrics_snapshot)
  URLS="$slugs" measure "$CONNECTIONS" -s bench/wrk/random_slug.lua "$base"
  echo "| redirect \`GET /{random of $slugs slugs}\` with tracking | $CONNECTIONS | $M_RPS | $M_P50 | $M_P99 | $(ratio "$M_RPS" "$nginx_rps") | $(ratio "$M_RPS" "$control_rps") | $M_ERRORS |" >>"$report"
  local answered=$((M_REQUESTS - M_NON_OK)) get_socket_errors=$M_SOCKET_ERRORS get_non_ok=$M_NON_OK
  after=$(settled_max_visit_id "$backend")
  m_after=$(metrics_snapshot)
  local stored=$((after - before))

  # The visits line, and a warning when they differ. kurz's own count of GET redirects (from
  # /metrics) is the exact "answered": wrk does not count the requests still in flight when it
  # stops (at most one per connection), which kurz answered and stored all the same.
  local visits_line warning="" served="" dropped=""
  if [ -n "$m_before" ] && [ -n "$m_after" ]; then
    local r0 d0 r1 d1
    read -r r0 d0 <<<"$m_before"
    read -r r1 d1 <<<"$m_after"
    served=$((r1 - r0)) dropped=$((d1 - d0))
    visits_line="Visits stored / redirects answered during the $DURATION \`GET\` run: $stored / $served"
    if [ "$stored" -eq "$served" ] && [ "$dropped" -eq 0 ]; then
      visits_line+=" (equal: every redirect answered was stored), $dropped dropped"
    else
      warning="**WARNING: kurz answered $served \`GET\` redirects and stored $stored visits ($dropped dropped).**"
    fi
  else
    visits_line="Visits stored / redirects answered during the $DURATION \`GET\` run: $stored / $answered (wrk's count: /metrics did not answer)"
    [ "$stored" -ge "$answered" ] || warning="**WARNING: $stored visits stored for $answered redirects wrk saw answered.**"
  fi
  visits_line+=" (wrk: $M_REQUESTS requests completed, $get_non_ok non-2xx/3xx, $get_socket_errors socket errors)."
  if [ "$get_socket_errors" -ne 0 ]; then
    warning+="${warning:+ }**WARNING: wrk had $get_socket_errors socket errors in the \`GET\` run**: requests it gave up on may still have been answered and stored."
  fi
  echo "$visits_line" >&2
  [ -z "$warning" ] || echo "$warning" >&2

  run_row() {
    local label=$1 conns=$2; shift 2
    measure "$conns" "$@"
    echo "| $label | $conns | $M_RPS | $M_P50 | $M_P99 | | | $M_ERRORS |" >>"$report"
  }
  echo "$head_row" >>"$report"
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
    echo "$head_line"
    echo
    echo "$visits_line"
    if [ -n "$warning" ]; then
      echo
      echo "$warning"
    fi
    if [ "$backend" = sqlite ]; then
      # While kurz still runs: on its last connection's close SQLite checkpoints the WAL away.
      echo
      echo "SQLite at the end of the run: database file $(file_mb "$SQLITE_FILE") MB, WAL ($SQLITE_FILE-wal) $(file_mb "$SQLITE_FILE-wal") MB."
    fi
    echo
    echo "kurz's log: $kurz_log ($(grep -c . "$kurz_log" || true) lines, of which WARN or ERROR: $(grep -Ec '"level":"(WARN|ERROR)"' "$kurz_log" || true))."
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
