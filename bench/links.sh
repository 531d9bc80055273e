#!/usr/bin/env bash
# What a link's own options cost on the redirect lane, against the axum control in the same
# run (SQLite unless BENCH_PG_URL is set; production settings, wrk -t2 -c50 on loopback). Rows:
#   - the axum control (bench/axum-baseline), HEAD;
#   - plain links (200, random), HEAD and GET: what issue 13 must not make slower;
#   - one plain link, HEAD and GET: the same single-link path as the rows below;
#   - one link with three redirect rules (device ios, language de, query utm_source=mail) that
#     every request falls through (a desktop browser, English, no query): the most work rules
#     cost, HEAD and GET;
#   - the same link with forward_query, GET with a query string;
#   - one capped link (max_visits 10^12), GET by a browser: the cap's database round trip per
#     click (HEAD takes no unit and costs what a plain link does).
# Usage: bench/links.sh [path/to/kurz] [PORT]   (default target/release/kurz, 18190)
# With BENCH_PG_URL set (e.g. postgres://postgres@127.0.0.1:5432/kurz_links), the links live in
# that PostgreSQL database instead, dropped and created afresh.
set -euo pipefail
cd "$(dirname "$0")/.."
KURZ=${1:-target/release/kurz}
PORT=${2:-18190}
DURATION=${DURATION:-8s}
for tool in wrk curl; do
  command -v "$tool" >/dev/null || { echo "needs $tool: apt-get install -y wrk curl" >&2; exit 1; }
done
cargo build --release --quiet --manifest-path bench/axum-baseline/Cargo.toml
work=$(mktemp -d /tmp/kurz-links.XXXXXX)
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

export KURZ__SERVER__PORT=$PORT KURZ__SERVER__HOST=127.0.0.1
if [ -n "${BENCH_PG_URL:-}" ]; then
  psql -q "${BENCH_PG_URL%/*}/postgres" -c "DROP DATABASE IF EXISTS ${BENCH_PG_URL##*/} WITH (FORCE)" \
    -c "CREATE DATABASE ${BENCH_PG_URL##*/}"
  export DATABASE_URL=$BENCH_PG_URL KURZ__DATABASE__MAX_CONNECTIONS=16
else
  export DATABASE_URL=sqlite://$work/k.db
fi
{
  echo "url,slug,rules,forward_query,max_visits"
  for i in $(seq 1 200); do echo "https://example.com/$i,s$i,,,"; done
  rules='[{""target"":""https://example.com/ios"",""conditions"":[{""type"":""device"",""value"":""ios""}]},{""target"":""https://example.com/de"",""conditions"":[{""type"":""language"",""value"":""de""}]},{""target"":""https://example.com/mail"",""conditions"":[{""type"":""query"",""value"":""utm_source=mail""}]}]'
  echo "https://example.com/r,r3,\"$rules\",false,"
  echo "https://example.com/f,f3,\"$rules\",true,"
  echo "https://example.com/c,cap,,,1000000000000"
} >"$work/links.csv"
"$KURZ" import "$work/links.csv" >/dev/null

bench/axum-baseline/target/release/axum-baseline &
pids+=($!)
KURZ_ENV=production RUST_LOG=warn "$KURZ" >"$work/kurz.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do
  curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null && break
  sleep 0.1
done

DESKTOP='Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0'
cat >"$work/random.lua" <<'L'
local method = os.getenv("METHOD")
request = function()
  return wrk.format(method, "/s" .. math.random(1, 200))
end
L
# wrk's Requests/sec and the 99th percentile, as "req/s p99".
run() {
  local url=$1 method=$2 script=${3:-}
  local args=(-t2 -c50 -d"$DURATION" --latency -H "User-Agent: $DESKTOP" -H "Accept-Language: en-US,en;q=0.9")
  [ -z "$script" ] || args+=(-s "$script")
  [ "$method" = GET ] || [ -n "$script" ] || args+=(-s "$work/head.lua")
  METHOD=$method wrk "${args[@]}" "$url" | awk '/Requests\/sec/{r=$2} /^ +99%/{p=$2} END{printf "%d %s\n", r, p}'
}
printf 'wrk.method = "HEAD"\n' >"$work/head.lua"

control=$(run "http://127.0.0.1:18091/x" HEAD)
echo "| what | req/s | p99 | vs axum control |"
echo "| --- | --- | --- | --- |"
row() {
  local label=$1 result=$2
  read -r rps p99 <<<"$result"
  read -r base _ <<<"$control"
  awk -v l="$label" -v r="$rps" -v p="$p99" -v b="$base" 'BEGIN{printf "| %s | %d | %s | %.2f |\n", l, r, p, r/b}'
}
row "axum control, HEAD" "$control"
row "plain links, HEAD" "$(run "http://127.0.0.1:$PORT" HEAD "$work/random.lua")"
row "plain links, GET" "$(run "http://127.0.0.1:$PORT" GET "$work/random.lua")"
row "one plain link, HEAD" "$(run "http://127.0.0.1:$PORT/s1" HEAD)"
row "one plain link, GET" "$(run "http://127.0.0.1:$PORT/s1" GET)"
row "3 rules, none matching, HEAD" "$(run "http://127.0.0.1:$PORT/r3" HEAD)"
row "3 rules, none matching, GET" "$(run "http://127.0.0.1:$PORT/r3" GET)"
row "3 rules + forward_query, GET ?a=1&b=2" "$(run "http://127.0.0.1:$PORT/f3?a=1&b=2" GET)"
row "max_visits, GET by a browser" "$(run "http://127.0.0.1:$PORT/cap" GET)"
row "axum control, HEAD (again)" "$(run "http://127.0.0.1:18091/x" HEAD)"
