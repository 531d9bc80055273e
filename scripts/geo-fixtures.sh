#!/usr/bin/env bash
# Builds or installs the geolocation files the tests read, into target/geo-fixtures/
# (scripts/test.sh runs it; tests/api/geo.rs fails with a pointer here when they are missing):
#
# - small files made for the tests by scripts/geo_fixtures.py with PyPI's mmdb-writer (in a
#   virtualenv of its own): a MaxMind GeoLite2-City layout (city.mmdb, and city-v2.mmdb with a
#   changed place for the reload tests), a DB-IP City Lite one (dbip-city.mmdb), a GeoLite2
#   Country one (country.mmdb), an ip-location-db flat city one (flat-city.mmdb), a layout kurz
#   refuses (asn.mmdb) and a file that is no .mmdb at all (broken.mmdb);
# - the real CC0 country file of ip-location-db, from npm
#   (@ip-location-db/geo-whois-asn-country-mmdb, a pinned version) for the flat country layout.
#
# Rebuilt only when this script or the Python one changed. Needs python3 (with venv) and npm.
set -euo pipefail
cd "$(dirname "$0")/.."

MMDB_WRITER_VERSION=0.2.7
CC0_PACKAGE=@ip-location-db/geo-whois-asn-country-mmdb
CC0_VERSION=2.3.2026061719
out="$PWD/target/geo-fixtures"
venv="$out/venv"
stamp="$out/.built"
want="$(cat scripts/geo-fixtures.sh scripts/geo_fixtures.py | sha256sum | cut -d' ' -f1)"

if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  exit 0
fi
echo "==> building the geolocation test files in $out" >&2
mkdir -p "$out"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
"$venv/bin/pip" install --quiet --disable-pip-version-check "mmdb-writer==$MMDB_WRITER_VERSION"
"$venv/bin/python" scripts/geo_fixtures.py "$out"

npm install --silent --no-audit --no-fund --prefix "$out/npm" "$CC0_PACKAGE@$CC0_VERSION" >&2
cp "$out/npm/node_modules/$CC0_PACKAGE/geo-whois-asn-country.mmdb" "$out/cc0-country.mmdb"
echo "$want" >"$stamp"
