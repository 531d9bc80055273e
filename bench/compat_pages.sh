#!/usr/bin/env bash
# Shlink's numbered pages at depth: LINKS links (default 1 000 000) in PostgreSQL, kurz serving
# GET /rest/v3/short-urls?page=N&itemsPerPage=10 two ways in the same run:
#   - as built: pages past compat.shlink.offset_rows start after a key of the page index;
#   - the OFFSET baseline: the same binary with offset_rows = 4 000 000 000, every page OFFSET.
# For each page (1, the middle, the last) it prints the median of REPEAT requests' total times
# (curl), after one request that builds the index (its time printed as "first"). Also the
# unindexed order (orderBy=visits-DESC) and a search, whose index build is a sort or a scan.
# Usage: bench/compat_pages.sh [path/to/kurz]   (BENCH_PG_URL, default a kurz_pages database)
set -euo pipefail
cd "$(dirname "$0")/.."
KURZ=${1:-target/release/kurz}
LINKS=${LINKS:-1000000}
REPEAT=${REPEAT:-7}
DB=${BENCH_PG_URL:-postgres://postgres@127.0.0.1:5432/kurz_pages}
psql -q "${DB%/*}/postgres" -c "DROP DATABASE IF EXISTS ${DB##*/} WITH (FORCE)" -c "CREATE DATABASE ${DB##*/}"
export DATABASE_URL=$DB KURZ__SERVER__HOST=127.0.0.1 RUST_LOG=warn
"$KURZ" migrate >/dev/null
start=$(date +%s.%N)
# Seeded without the per-row counter triggers (a million deferred trigger events), the
# counter set once afterwards, as the migration seeds it.
psql -q "$DB" -c "SET session_replication_role = replica; INSERT INTO urls (slug, target, target_host, title, created_at, updated_at,
    visit_count, human_visits) SELECT 'b' || i, 'https://example.com/' || md5(i::text),
    'example.com', CASE WHEN i % 3 = 0 THEN 'Title ' || i END,
    now() - make_interval(secs => $LINKS - i), now(), i % 97, i % 97
    FROM generate_series(1, $LINKS) i" \
  -c "UPDATE entity_totals SET links = (SELECT COUNT(*) FROM urls) WHERE shard = 0" \
  -c "VACUUM ANALYZE urls"
echo "seeded $LINKS links in $(echo "$(date +%s.%N) - $start" | bc) s"
key=$("$KURZ" apikey create --name bench --role admin 2>/dev/null | grep -o 'kurz_[A-Za-z0-9_-]*' | head -1)
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done' EXIT
KURZ__SERVER__PORT=18301 KURZ_ENV=production "$KURZ" >/tmp/kurz-pages-a.log 2>&1 & pids+=($!)
KURZ__SERVER__PORT=18302 KURZ_ENV=production KURZ__COMPAT__SHLINK__OFFSET_ROWS=4000000000 \
  "$KURZ" >/tmp/kurz-pages-b.log 2>&1 & pids+=($!)
for port in 18301 18302; do
  for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.1; done
done
time_of() { curl -s -o /dev/null -w '%{time_total}' -H "X-Api-Key: $key" "$1"; }
median() { sort -n | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}'; }
last=$(( (LINKS + 9) / 10 ))
echo "| list | page | first request (ms) | page index, median (ms) | OFFSET, median (ms) | OFFSET / index |"
echo "| --- | --- | --- | --- | --- | --- |"
for list in "orderBy=dateCreated-DESC" "orderBy=shortCode-ASC" "orderBy=visits-DESC" "searchTerm=title%201"; do
  for page in 1 $(( last / 2 )) $last; do
    q="short-urls?itemsPerPage=10&page=$page&$list"
    first=$(time_of "http://127.0.0.1:18301/rest/v3/$q")
    a=$(for _ in $(seq 1 "$REPEAT"); do time_of "http://127.0.0.1:18301/rest/v3/$q"; done | median)
    b=$(for _ in $(seq 1 "$REPEAT"); do time_of "http://127.0.0.1:18302/rest/v3/$q"; done | median)
    awk -v l="$list" -v p="$page" -v f="$first" -v a="$a" -v b="$b" \
      'BEGIN{printf "| %s | %d | %.1f | %.1f | %.1f | %.1f |\n", l, p, f*1000, a*1000, b*1000, b/a}'
  done
done
