#!/usr/bin/env bash
# Installs the real clients of the compatibility APIs that the tests drive, into target/compat/
# (scripts/test.sh runs it; tests/api/yourls_client.rs fails with a pointer here when they are
# missing):
#
# - PyPI's `yourls` client, pinned in tests/compat/yourls/requirements.txt, in a virtualenv of
#   its own (target/compat/venv).
#
# Rebuilt only when this script or a pinned list changed. Needs python3 with venv.
set -euo pipefail
cd "$(dirname "$0")/.."

out="$PWD/target/compat"
venv="$out/venv"
stamp="$out/.built"
want="$(cat scripts/compat-fixtures.sh tests/compat/yourls/requirements.txt | sha256sum | cut -d' ' -f1)"

if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -x "$venv/bin/python" ]; then
  exit 0
fi
echo "==> installing the compatibility API clients into $out" >&2
mkdir -p "$out"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
"$venv/bin/pip" install --quiet --disable-pip-version-check -r tests/compat/yourls/requirements.txt
echo "$want" >"$stamp"
