#!/usr/bin/env bash
# A/B of two kurz binaries on loopback (SQLite, 200 links, wrk -t2 -c50 -d8s): prints HEAD
# (no tracking) and GET (with tracking) requests per second for the binary given. Run it
# alternately for the two builds, several rounds, and compare the spreads. Usage:
#
#   bench/ab.sh path/to/kurz PORT
set -euo pipefail
BIN=$1; PORT=$2
rm -rf /tmp/ab-$PORT; mkdir -p /tmp/ab-$PORT
export DATABASE_URL=sqlite:///tmp/ab-$PORT/k.db KURZ__SERVER__PORT=$PORT RUST_LOG=warn
for i in $(seq 1 200); do echo "https://example.com/$i,s$i"; done | (echo "url,slug"; cat) > /tmp/ab-$PORT/u.csv
$BIN import /tmp/ab-$PORT/u.csv >/dev/null
$BIN > /tmp/ab-$PORT/log 2>&1 &
pid=$!
sleep 2
cat > /tmp/ab-$PORT/head.lua <<'L'
wrk.method = "HEAD"
request = function() return wrk.format(nil, "/s" .. math.random(1,200)) end
L
cat > /tmp/ab-$PORT/get.lua <<'L'
request = function() return wrk.format(nil, "/s" .. math.random(1,200)) end
L
for mode in head get; do
  wrk -t2 -c50 -d8s -s /tmp/ab-$PORT/$mode.lua http://127.0.0.1:$PORT/ | awk -v m=$mode '/Requests\/sec/{r=$2} /99%/{p=$2} END{print m, r}'
done
kill $pid; wait $pid 2>/dev/null || true
