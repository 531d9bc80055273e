#!/usr/bin/env bash
# Tag filters and tag lists at a million links (issue 13): seeds a fresh PostgreSQL database
# with URLS links carrying TAGS tags (`kurz dev seed --tags`: link i has tag i mod TAGS, every
# third link also (i/3) mod TAGS, so about URLS/TAGS*4/3 links per tag) and VISITS visits,
# starts kurz on it, and times the list endpoints with curl: one tag, any of 3, all of 2, a deep
# cursor page of each, /api/tags pages and a prefix search, and a tag's statistics. Each figure
# is the median of RUNS requests after one warm-up. It also prints PostgreSQL's plan (EXPLAIN
# ANALYZE) of the filter queries, to show they are index range scans. Usage:
#
#   bench/tags.sh
#
# Environment: URLS (1000000), TAGS (100), VISITS (200000), RUNS (21), BENCH_PG_URL (a database
# it drops and refills, postgres://postgres@127.0.0.1:5432/kurz_tags), KURZ (the binary;
# default: a release build), PORT (18090). Prints Markdown and writes it to
# bench/results/tags.md. Not a wrk benchmark: one client, one request at a time.
set -euo pipefail
cd "$(dirname "$0")/.."

URLS="${URLS:-1000000}"
TAGS="${TAGS:-100}"
VISITS="${VISITS:-200000}"
RUNS="${RUNS:-21}"
PG_URL="${BENCH_PG_URL:-postgres://postgres@127.0.0.1:5432/kurz_tags}"
ADMIN_URL="${PG_URL%/*}/postgres"
DB_NAME="${PG_URL##*/}"
PORT="${PORT:-18090}"
if [[ -z "${KURZ:-}" ]]; then
  cargo build --release --quiet
  KURZ=target/release/kurz
fi
mkdir -p bench/results
out=bench/results/tags.md

psql -q "$ADMIN_URL" -c "DROP DATABASE IF EXISTS $DB_NAME" -c "CREATE DATABASE $DB_NAME"
started=$(date +%s)
DATABASE_URL="$PG_URL" "$KURZ" dev seed --urls "$URLS" --visits "$VISITS" --tags "$TAGS" \
  --batch 10000 >/dev/null
seeded=$(( $(date +%s) - started ))
psql -q "$PG_URL" -c "VACUUM ANALYZE"

DATABASE_URL="$PG_URL" KURZ__SERVER__HOST=127.0.0.1 KURZ__SERVER__PORT="$PORT" \
  KURZ__LOG__FILTER=warn "$KURZ" serve >/dev/null 2>&1 &
kurz_pid=$!
trap 'kill "$kurz_pid" 2>/dev/null || true' EXIT
for _ in $(seq 100); do
  curl -fs "http://127.0.0.1:$PORT/readyz" >/dev/null 2>&1 && break
  sleep 0.2
done

base="http://127.0.0.1:$PORT"
# The median time of RUNS GETs of PATH, in ms, after one warm-up.
median_ms() {
  curl -fs -o /dev/null "$base$1"
  for _ in $(seq "$RUNS"); do
    curl -fs -o /dev/null -w '%{time_total}\n' "$base$1"
  done | sort -n | awk '{ t[NR] = $1 } END { printf "%.1f", t[int((NR + 1) / 2)] * 1000 }'
}
# The cursor of the page that follows DEPTH pages of PATH (walked by `next`).
deep_cursor() {
  local path="$1" depth="$2" cursor=""
  for _ in $(seq "$depth"); do
    cursor=$(curl -fs "$base$path${cursor:+&cursor=$cursor}" |
      sed -n 's/.*"next_cursor":"\([^"]*\)".*/\1/p')
  done
  echo "$cursor"
}

one="/api/urls?tag=t007&limit=50"
any="/api/urls?tag=t007&tag=t042&tag=t099&limit=50"
all="/api/urls?tag=t007&tag=t069&tags=all&limit=50"
rows=()
for label_path in "one tag|$one" "any of 3 tags|$any" "all of 2 tags|$all"; do
  label="${label_path%%|*}"; path="${label_path#*|}"
  first=$(median_ms "$path")
  cursor=$(deep_cursor "$path" 100)
  deep="-"
  [[ -n "$cursor" ]] && deep=$(median_ms "$path&cursor=$cursor")
  rows+=("| \`GET $path\` ($label) | $first | $deep |")
done
tags_first=$(median_ms "/api/tags?limit=50")
tags_cursor=$(deep_cursor "/api/tags?limit=50" 1)
tags_next=$(median_ms "/api/tags?limit=50&cursor=$tags_cursor")
tags_q=$(median_ms "/api/tags?q=t04&limit=10")
stats=$(median_ms "/api/tags/t007/stats?bots=true")
unfiltered=$(median_ms "/api/urls?limit=50")

explain() {
  psql -qAt "$PG_URL" -c "EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY ON) $1"
}
t7=$(psql -qAt "$PG_URL" -c "SELECT id FROM tags WHERE name = 't007'")
t69=$(psql -qAt "$PG_URL" -c "SELECT id FROM tags WHERE name = 't069'")
t42=$(psql -qAt "$PG_URL" -c "SELECT id FROM tags WHERE name = 't042'")
plan_one=$(explain "SELECT urls.id FROM url_tags ut JOIN urls ON urls.id = ut.url_id \
  WHERE ut.tag_id = $t7 AND ut.url_id < 500000 ORDER BY ut.url_id DESC LIMIT 51")
plan_all=$(explain "SELECT urls.id FROM url_tags ut JOIN urls ON urls.id = ut.url_id \
  WHERE ut.tag_id = $t7 AND EXISTS (SELECT 1 FROM url_tags x WHERE x.tag_id = $t69 \
  AND x.url_id = ut.url_id) AND ut.url_id < 500000 ORDER BY ut.url_id DESC LIMIT 51")
plan_any=$(explain "SELECT id FROM urls WHERE id IN (\
  SELECT url_id FROM (SELECT ut.url_id FROM url_tags ut JOIN urls ON urls.id = ut.url_id \
    WHERE ut.tag_id = $t7 AND ut.url_id < 500000 ORDER BY ut.url_id DESC LIMIT 51) AS t0 \
  UNION SELECT url_id FROM (SELECT ut.url_id FROM url_tags ut JOIN urls ON urls.id = ut.url_id \
    WHERE ut.tag_id = $t42 AND ut.url_id < 500000 ORDER BY ut.url_id DESC LIMIT 51) AS t1) \
  AND urls.id < 500000 ORDER BY urls.id DESC LIMIT 51")
links_per_tag=$(psql -qAt "$PG_URL" -c "SELECT min(links) || ' to ' || max(links) FROM tags")

{
  echo "Seeded $URLS links with $TAGS tags ($links_per_tag links per tag) and $VISITS visits in ${seeded}s."
  echo "Median of $RUNS requests, one client, ms (curl's total time, loopback):"
  echo
  echo "| request | first page | page 101 |"
  echo "| --- | --- | --- |"
  printf '%s\n' "${rows[@]}"
  echo "| \`GET /api/urls?limit=50\` (no filter, for comparison) | $unfiltered | |"
  echo "| \`GET /api/tags?limit=50\` | $tags_first | $tags_next (page 2) |"
  echo "| \`GET /api/tags?q=t04&limit=10\` | $tags_q | |"
  echo "| \`GET /api/tags/t007/stats?bots=true\` (30 days) | $stats | |"
  echo
  echo "Plans (EXPLAIN ANALYZE) from the middle of the list (url_id < 500000):"
  for plan in "$plan_one" "$plan_all" "$plan_any"; do
    echo
    echo '```'
    echo "$plan"
    echo '```'
  done
} | tee "$out"
