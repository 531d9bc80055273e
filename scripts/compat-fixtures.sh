#!/usr/bin/env bash
# Installs the real clients of the compatibility APIs that the tests drive, into target/compat/
# (scripts/test.sh runs it; the tests that need them fail with a pointer here when they are
# missing):
#
# - PyPI's `yourls` client, pinned in tests/compat/yourls/requirements.txt, in a virtualenv of
#   its own (target/compat/venv), for tests/api/yourls_client.rs.
# - npm's `@shlinkio/shlink-js-sdk` with the script that drives it (tests/compat/shlink-sdk/,
#   copied to target/compat/shlink-sdk/), for tests/api/shlink_sdk.rs.
# - npm's `@shlinkio/shlink-web-component` on a page of its own (tests/compat/shlink-web/),
#   built by Vite into target/compat/shlink-web/dist, for tests/browser/shlink_web.rs.
#
# Both npm projects are installed with `npm ci` from their committed package-lock.json, so every
# machine gets exactly the versions tested. Each part is rebuilt only when its inputs (or this
# script) changed. Needs python3 with venv, npm, and a Node that Vite accepts (checked below).
set -euo pipefail
cd "$(dirname "$0")/.."

out="$PWD/target/compat"
mkdir -p "$out"

# Prints the hash of this script and the files named.
inputs_hash() { cat scripts/compat-fixtures.sh "$@" | sha256sum | cut -d' ' -f1; }

# True when the part's stamp holds `want`.
is_current() { [ -f "$out/.built-$1" ] && [ "$(cat "$out/.built-$1")" = "$2" ]; }

# --- PyPI's yourls client ---------------------------------------------------------------------
venv="$out/venv"
want="$(inputs_hash tests/compat/yourls/requirements.txt)"
if ! is_current yourls "$want" || [ ! -x "$venv/bin/python" ]; then
  echo "==> installing PyPI's yourls client into $venv" >&2
  if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
  fi
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r tests/compat/yourls/requirements.txt
  echo "$want" >"$out/.built-yourls"
fi

# --- Node: the version Vite 7 (and the SDK's build) accepts -----------------------------------
# Vite's engines field: ^20.19.0 || >=22.12.0 (tests/compat/shlink-web/package.json says the
# same). An older Node fails at build time with a message far from the cause; say it here.
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "node and npm are needed for Shlink's SDK and web component tests (apt-get install npm," \
    "or Node.js 20.19+ / 22.12+ from nodejs.org)" >&2
  exit 1
fi
node_version="$(node --version)"
IFS=. read -r major minor _ <<<"${node_version#v}"
if ! { [ "$major" -eq 20 ] && [ "$minor" -ge 19 ]; } &&
  ! { [ "$major" -eq 22 ] && [ "$minor" -ge 12 ]; } && [ "$major" -le 22 ]; then
  echo "Node $node_version is too old for Vite 7, which builds Shlink's web component page:" \
    "it needs ^20.19.0 || >=22.12.0. Install a newer Node.js (nodejs.org, or NodeSource's" \
    "packages) and run scripts/compat-fixtures.sh again." >&2
  exit 1
fi

# Copies the files named (all in tests/compat/$1) to target/compat/$1 and installs the project's
# locked dependencies there.
npm_project() {
  local dir="$out/$1"
  shift
  mkdir -p "$dir"
  cp "$@" "$dir/"
  (cd "$dir" && npm ci --silent --no-audit --no-fund >&2)
}

# --- Shlink's JS SDK and the script that drives it --------------------------------------------
sdk_inputs=(tests/compat/shlink-sdk/package.json tests/compat/shlink-sdk/package-lock.json
  tests/compat/shlink-sdk/run.mjs)
want="$(inputs_hash "${sdk_inputs[@]}")"
if ! is_current shlink-sdk "$want" || [ ! -d "$out/shlink-sdk/node_modules/@shlinkio/shlink-js-sdk" ]; then
  echo "==> installing Shlink's JS SDK into $out/shlink-sdk" >&2
  npm_project shlink-sdk "${sdk_inputs[@]}"
  echo "$want" >"$out/.built-shlink-sdk"
fi

# --- Shlink's web component, built into a page ------------------------------------------------
web_inputs=(tests/compat/shlink-web/package.json tests/compat/shlink-web/package-lock.json
  tests/compat/shlink-web/index.html tests/compat/shlink-web/main.tsx
  tests/compat/shlink-web/style.css tests/compat/shlink-web/vite.config.ts)
want="$(inputs_hash "${web_inputs[@]}")"
if ! is_current shlink-web "$want" || [ ! -f "$out/shlink-web/dist/index.html" ]; then
  echo "==> building Shlink's web component page into $out/shlink-web/dist" >&2
  npm_project shlink-web "${web_inputs[@]}"
  (cd "$out/shlink-web" && KURZ_SHLINK_WEB_DIST="$out/shlink-web/dist" npx --no-install vite build --logLevel warn >&2)
  echo "$want" >"$out/.built-shlink-web"
fi
