# Shared by bench/run.sh and bench/ingest.sh (sourced, not run): a `kurz dev seed` run measured
# for its rate and for the CPU time it cost, in kurz and in the database.
#
# CPU time comes from /proc, in clock ticks (getconf CLK_TCK):
# - the seed process: it exits, so its user+system time is taken from its exit status, by
#   /usr/bin/time when it is there, else from the shell's `times` (CPU of children waited for);
# - PostgreSQL: utime+stime (fields 14 and 15 of /proc/PID/stat) of every live process of the
#   cluster (the postmaster and its children: backends, checkpointer, walwriter, autovacuum),
#   plus cutime+cstime (fields 16 and 17) of the postmaster, where the CPU of its children that
#   exited ends up (the seed's backends exit when it disconnects). That is the whole cluster:
#   anything else using the same server during the seed (tests...) is counted too.
# - SQLite has no process of its own: its work is in kurz's time.
# Needs KURZ (the kurz binary) set by the caller.

CLK_TCK=$(getconf CLK_TCK)

# The CPU clock ticks (user+system) PID has used; with a second argument `children`, also
# those of its children that exited and were waited for. 0 when PID is gone.
proc_ticks() {
  local stat rest
  local -a f
  if ! read -r stat 2>/dev/null <"/proc/$1/stat"; then
    echo 0
    return
  fi
  # Field 2 is "(comm)" and may hold spaces: take what follows its closing parenthesis, whose
  # first word is field 3 (state); utime, stime, cutime and cstime are fields 14 to 17.
  rest=${stat##*) }
  read -r -a f <<<"$rest"
  if [ "${2:-}" = children ]; then
    echo $((f[11] + f[12] + f[13] + f[14]))
  else
    echo $((f[11] + f[12]))
  fi
}

# The pid of the postmaster of the PostgreSQL server at ADMIN_URL, if it runs on this machine:
# the first line of postmaster.pid in its data directory, else the oldest `postgres` process.
# Prints nothing when there is none.
pg_postmaster_pid() {
  local dir pid=""
  dir=$(psql "$1" -qAtc 'show data_directory' 2>/dev/null || true)
  if [ -n "$dir" ] && [ -r "$dir/postmaster.pid" ]; then
    pid=$(head -n1 "$dir/postmaster.pid")
  else
    pid=$(pgrep -o -x postgres || true)
  fi
  if [ -n "$pid" ] && [ -r "/proc/$pid/stat" ]; then
    echo "$pid"
  fi
}

# The CPU clock ticks the cluster of postmaster PID has used: its live processes, plus what
# the postmaster collected from children that exited. Read again when a child was reaped while
# the children were being read (it would be counted twice or not at all).
pg_cpu_ticks() {
  local pm=$1 first total pid
  for _ in 1 2 3 4 5; do
    first=$(proc_ticks "$pm" children)
    total=0
    for pid in $(pgrep -P "$pm" || true); do
      total=$((total + $(proc_ticks "$pid")))
    done
    if [ "$(proc_ticks "$pm" children)" = "$first" ]; then
      break
    fi
  done
  echo $((first + total))
}

# Sets CHILDREN_CPU_S to the seconds of CPU (user+system) of the children this shell has waited
# for, from `times`, written to FILE. Call it directly, not in $(...): `times` has to run in
# this shell (its second line is the children's "XmY.YYYs XmY.YYYs").
read_children_cpu() {
  times >"$1"
  CHILDREN_CPU_S=$(awk 'NR == 2 {
         n = split($0, t, " "); s = 0
         for (i = 1; i <= n; i++) { split(t[i], p, "m"); sub("s", "", p[2]); s += p[1] * 60 + p[2] }
         printf "%.3f\n", s
       }' "$1")
}

# Size of FILE in MB (0.0 when it does not exist).
file_mb() {
  local bytes=0
  [ -e "$1" ] && bytes=$(stat -c %s "$1")
  awk -v b="$bytes" 'BEGIN { printf "%.1f", b / 1048576 }'
}

# seed_measured postgres|sqlite DATABASE_URL [ADMIN_URL] -- SEED_ARGS...
# Runs `kurz dev seed SEED_ARGS` (its progress on stderr) and sets:
#   SEED_LINE     the seed's summary line
#   SEED_STORED   visits it stored; SEED_RATE its visits/s (the visit phase, as the seed reports)
#   SEED_KURZ_S, SEED_DB_S  CPU seconds of the seed process and of the database ("" if unknown)
#   INGEST_LINE   "ingest: N visits/s; CPU per stored visit: X µs (kurz Y µs + database Z µs)"
# The CPU covers the whole seed run, its URL pass included (small next to the visits when
# there are ten or more visits per URL; the URLs of a second run already exist and are skipped).
seed_measured() {
  local kind=$1 db_url=$2 admin_url=""
  shift 2
  if [ "${1:-}" != -- ]; then
    admin_url=$1
    shift
  fi
  [ "${1:-}" = -- ] && shift
  local tmp pm="" db0=0 db1=0 k0 k1
  tmp=$(mktemp -d)
  if [ "$kind" = postgres ]; then
    pm=$(pg_postmaster_pid "${admin_url:-$db_url}")
    [ -n "$pm" ] || echo "note: no local PostgreSQL process found; database CPU not measured" >&2
  fi
  # Let backends of earlier connections (psql) exit and be reaped, then read the clocks.
  sleep 0.5
  [ -z "$pm" ] || db0=$(pg_cpu_ticks "$pm")
  if [ -x /usr/bin/time ]; then
    DATABASE_URL="$db_url" /usr/bin/time -f '%U %S' -o "$tmp/time" "$KURZ" dev seed "$@" >"$tmp/out"
    SEED_KURZ_S=$(tail -n1 "$tmp/time" | awk '{ printf "%.3f", $1 + $2 }')
  else
    # Nothing else of this shell's may end (and be waited for) between the two readings.
    read_children_cpu "$tmp/times"
    k0=$CHILDREN_CPU_S
    DATABASE_URL="$db_url" "$KURZ" dev seed "$@" >"$tmp/out"
    read_children_cpu "$tmp/times"
    k1=$CHILDREN_CPU_S
    SEED_KURZ_S=$(awk -v a="$k0" -v b="$k1" 'BEGIN { printf "%.3f", b - a }')
  fi
  # The seed's backends exit when it disconnects: give the postmaster time to reap them.
  sleep 0.5
  SEED_DB_S=""
  if [ -n "$pm" ]; then
    db1=$(pg_cpu_ticks "$pm")
    SEED_DB_S=$(awk -v a="$db0" -v b="$db1" -v hz="$CLK_TCK" 'BEGIN { printf "%.3f", (b - a) / hz }')
  elif [ "$kind" = sqlite ]; then
    SEED_DB_S=0
  fi
  SEED_LINE=$(tail -n1 "$tmp/out")
  rm -rf "$tmp"
  # "seeded 100000 URLs and 1000000 visits; visit ingest 52023 visits/s through the pipeline (...)"
  SEED_STORED=$(sed -n 's/.* and \([0-9][0-9]*\) visits; visit ingest .*/\1/p' <<<"$SEED_LINE")
  SEED_RATE=$(sed -n 's/.*visit ingest \([0-9][0-9]*\) visits\/s.*/\1/p' <<<"$SEED_LINE")
  if [ -z "$SEED_STORED" ] || [ -z "$SEED_RATE" ] || [ "$SEED_STORED" -eq 0 ]; then
    INGEST_LINE="ingest: not measured (no visits stored, or the seed's summary line changed: \"$SEED_LINE\")"
    return 0
  fi
  INGEST_LINE=$(awk -v n="$SEED_STORED" -v rate="$SEED_RATE" -v k="$SEED_KURZ_S" -v d="$SEED_DB_S" \
    -v kind="$kind" 'BEGIN {
      us = 1000000 / n
      if (kind == "sqlite")
        db = " + database 0 µs: SQLite runs inside kurz"
      else if (d == "")
        db = " + database not measured: no local PostgreSQL process"
      else
        db = sprintf(" + database %.1f µs", d * us)
      printf "ingest: %d visits/s; CPU per stored visit: %.1f µs (kurz %.1f µs%s); CPU %.1f s (kurz %.1f s + database %.1f s) for %d visits\n",
        rate, (k + d) * us, k * us, db, k + d, k, d, n
    }')
}
