#!/usr/bin/env bash
# Profiles kurz with perf (Debian's linux-perf) on SQLite and prints its self time grouped by
# component (kernel: switches, TCP, file I/O; malloc; hyper; the cache; SQLite; ...):
#
#   bench/profile.sh lane   [KURZ_BINARY]   kurz serving HEAD of random slugs, all cached
#   bench/profile.sh writer [KURZ_BINARY]   kurz dev seed: VISITS visits through the pipeline
#
# KURZ_BINARY defaults to target/release/kurz (give an older build to compare). Environment:
# URLS (100000), VISITS (200000), SECONDS_PROFILED (8). Data in bench/data/profile-*.db, perf
# data in bench/results/profile-<what>.data (`perf report -i` it for the symbols).
set -euo pipefail
cd "$(dirname "$0")/.."

what="${1:-lane}"
KURZ="${2:-target/release/kurz}"
URLS="${URLS:-100000}"
VISITS="${VISITS:-200000}"
SECONDS_PROFILED="${SECONDS_PROFILED:-8}"
PORT=18282
for tool in perf wrk; do
  command -v "$tool" >/dev/null || { echo "needs $tool: apt-get install -y linux-perf wrk" >&2; exit 1; }
done
mkdir -p bench/data bench/results
db="bench/data/profile-$what.db"
data="bench/results/profile-$what.data"
rm -f "$db"*
DATABASE_URL="sqlite://$db" "$KURZ" dev seed --urls "$URLS" --visits 0 >/dev/null

case "$what" in
  lane)
    KURZ_ENV=production KURZ__SERVER__HOST=127.0.0.1 KURZ__SERVER__PORT=$PORT \
      KURZ__CACHE__CAPACITY=$((URLS * 2)) DATABASE_URL="sqlite://$db" "$KURZ" \
      >"bench/results/profile-lane-kurz.log" 2>&1 &
    pid=$!
    trap 'kill $pid 2>/dev/null || true' EXIT
    for _ in $(seq 1 50); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.1; done
    # Every slug once (fills the cache), then random slugs while perf samples.
    URLS="$URLS" WRK_THREADS=2 wrk -t2 -c50 -d10s -s bench/wrk/every_slug_head.lua "http://127.0.0.1:$PORT" >/dev/null
    URLS="$URLS" wrk -t2 -c50 -d$((SECONDS_PROFILED + 4))s -s bench/wrk/random_slug_head.lua \
      "http://127.0.0.1:$PORT" | grep -E "Requests/sec" &
    sleep 1
    perf record -q -F 999 -g -p "$pid" -o "$data" -- sleep "$SECONDS_PROFILED" 2>/dev/null
    wait %2 2>/dev/null || true ;;
  writer)
    perf record -q -F 499 -g -o "$data" -- env DATABASE_URL="sqlite://$db" "$KURZ" dev seed \
      --urls "$URLS" --visits "$VISITS" 2>&1 | tail -1 ;;
  *) echo "usage: bench/profile.sh lane|writer [KURZ_BINARY]" >&2; exit 2 ;;
esac

perf report -i "$data" --no-children --sort sym -g none 2>/dev/null | grep "%" | awk '
{ pct = $1; sub("%", "", pct); $1 = ""; sym = $0; k = (sym ~ /\[k\]/)
  if (k && sym ~ /futex|schedule|finish_task_switch|spin_unlock|wake|irqentry/) g = "kernel: thread switches and wake-ups"
  else if (k && sym ~ /tcp|skb|ip_|net_|loopback|inet|sock|bbr|dev_/) g = "kernel: TCP on loopback"
  else if (k && sym ~ /ext4|filemap|folio|fsync|iter|write|read|page|block|buffer|mpage|xas_/) g = "kernel: file I/O"
  else if (k) g = "kernel: other (syscall entry, ...)"
  else if (sym ~ /malloc|free|_int_|realloc|memmove|memcpy|memcmp|memset/) g = "malloc/free, memcpy"
  else if (sym ~ /sqlite3|pcache|btree|Btree|wal[A-Z]|vdbe|Vdbe|pager/) g = "SQLite engine"
  else if (sym ~ /moka|quick_cache/) g = "redirect cache"
  else if (sym ~ /tracing|Span|span|fmt::|Formatter|Display/) g = "tracing spans, formatting"
  else if (sym ~ /metrics|prometheus|AtomicBucket/) g = "metrics"
  else if (sym ~ /uuid|Uuid|getrandom/) g = "request id (UUID)"
  else if (sym ~ /AppState|LiveHub|cancellation_token/) g = "AppState clone/drop"
  else if (sym ~ /hyper|h1::|httparse|http::|HeaderMap|header::/) g = "hyper, HTTP"
  else if (sym ~ /tokio|mio|flume|park|scheduler/) g = "tokio, flume"
  else if (sym ~ /axum|tower|Router|matchit|Route/) g = "axum, tower"
  else if (sym ~ /sqlx/) g = "sqlx"
  else if (sym ~ /uaparser|regex|aho_corasick|enrich/) g = "enrichment"
  else if (sym ~ /kurz::/) g = "kurz (own code)"
  else g = "other (user space)"
  total[g] += pct }
END { for (g in total) printf "%6.1f%%  %s\n", total[g], g }' | sort -rn
