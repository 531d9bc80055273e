#!/usr/bin/env bash
# Visit ingest through the pipeline while the visits table grows: seeds a database with
# PRE_VISITS visits over URLS links (`kurz dev seed`), then measures a second seed of VISITS
# more visits over the same links (its slugs exist already and are skipped), and reports the
# second run's rate and its CPU time per stored visit: the seed process plus the database's
# processes, read from /proc (bench/lib.sh, shared with bench/run.sh; SQLite: kurz's alone).
# The pre-seed is measured the same way, for comparison with an empty table. Usage:
#
#   bench/ingest.sh [postgres|sqlite]        (default postgres)
#
# Environment: URLS (100000), PRE_VISITS (9000000), VISITS (1000000: the measured run),
# BATCH (10000: visits per write, --batch, as bench/run.sh seeds), SPREAD (skewed, or uniform:
# every visit a random link), SKIP_PRE=1 to measure on the database left by an earlier run
# (its visits table then holds what that run left), BENCH_PG_URL (a database it drops and
# refills, postgres://postgres@127.0.0.1:5432/kurz_ingest), SQLITE_FILE
# (bench/data/kurz_ingest.db).
#
# On PostgreSQL the pre-seeded table is vacuumed and analysed and a checkpoint taken before the
# measured run, so that autovacuum's catching up with the pre-seed is not counted. Database CPU
# is the whole cluster's: keep other clients off the server while it runs.
# Prints Markdown and writes it to bench/results/ingest-<backend>.md.
set -euo pipefail
cd "$(dirname "$0")/.."

backend="${1:-postgres}"
URLS="${URLS:-100000}"
PRE_VISITS="${PRE_VISITS:-9000000}"
VISITS="${VISITS:-1000000}"
BATCH="${BATCH:-10000}"
SPREAD="${SPREAD:-skewed}"
PG_URL="${BENCH_PG_URL:-postgres://postgres@127.0.0.1:5432/kurz_ingest}"
ADMIN_URL="${PG_URL%/*}/postgres"
SQLITE_FILE="${SQLITE_FILE:-bench/data/kurz_ingest.db}"

case "$backend" in
  postgres) db_url="$PG_URL" ;;
  sqlite) db_url="sqlite://$SQLITE_FILE" ;;
  *) echo "usage: bench/ingest.sh [postgres|sqlite]" >&2; exit 2 ;;
esac

cargo build --release --quiet
KURZ=target/release/kurz
mkdir -p bench/results bench/data
# shellcheck source=bench/lib.sh
source bench/lib.sh

visit_rows() {
  case "$backend" in
    postgres) psql "$PG_URL" -qAtc 'SELECT count(*) FROM url_visits' ;;
    sqlite) sqlite3 "$SQLITE_FILE" 'SELECT count(*) FROM url_visits' ;;
  esac
}

pre_line="none: SKIP_PRE=1, the database of an earlier run" pre_ingest=""
if [ -z "${SKIP_PRE:-}" ]; then
  case "$backend" in
    postgres)
      db_name="${PG_URL##*/}"
      PGOPTIONS='--client-min-messages=warning' psql "$ADMIN_URL" -qc "DROP DATABASE IF EXISTS $db_name WITH (FORCE)" -c "CREATE DATABASE $db_name" ;;
    sqlite) rm -f "$SQLITE_FILE" "$SQLITE_FILE-wal" "$SQLITE_FILE-shm" ;;
  esac
  echo "== pre-seeding $backend: $URLS URLs, $PRE_VISITS visits" >&2
  seed_measured "$backend" "$db_url" "$ADMIN_URL" -- --urls "$URLS" --visits "$PRE_VISITS" \
    --batch "$BATCH" --spread "$SPREAD"
  pre_line=$SEED_LINE pre_ingest=$INGEST_LINE
  echo "$pre_line" >&2
  echo "$pre_ingest" >&2
fi
if [ "$backend" = postgres ]; then
  echo "== VACUUM ANALYZE, CHECKPOINT" >&2
  psql "$PG_URL" -qc 'VACUUM (ANALYZE)' -c 'CHECKPOINT'
fi
rows_before=$(visit_rows)

echo "== measured run on $backend: $VISITS visits over $URLS URLs, into $rows_before visit rows" >&2
seed_measured "$backend" "$db_url" "$ADMIN_URL" -- --urls "$URLS" --visits "$VISITS" \
  --batch "$BATCH" --spread "$SPREAD"
echo "$SEED_LINE" >&2
echo "$INGEST_LINE" >&2
rows_after=$(visit_rows)

report="bench/results/ingest-$backend.md"
{
  echo "### Visit ingest, $backend: $VISITS visits into a table of $rows_before visit rows ($URLS URLs; $(nproc) cores, $(date -u +%F))"
  echo
  if [ -z "${SKIP_PRE:-}" ]; then
    echo "Pre-seed ($PRE_VISITS visits into an empty table): $pre_line"
  else
    echo "Pre-seed: $pre_line"
  fi
  if [ -n "$pre_ingest" ]; then
    echo
    echo "Pre-seed ${pre_ingest}."
  fi
  echo
  echo "Measured run: $SEED_LINE"
  echo
  echo "**Measured run ${INGEST_LINE}.**"
  echo
  echo "Visit rows: $rows_before before the measured run, $rows_after after ($((rows_after - rows_before)) added; the seed reports ${SEED_STORED:-?} stored)."
  if [ "$((rows_after - rows_before))" != "${SEED_STORED:-}" ]; then
    echo
    echo "**WARNING: the rows added differ from the visits the seed reports stored.**"
  fi
  if [ "$backend" = sqlite ]; then
    echo
    echo "SQLite after the run: database file $(file_mb "$SQLITE_FILE") MB, WAL $(file_mb "$SQLITE_FILE-wal") MB."
  fi
  echo
} >"$report"
cat "$report"
