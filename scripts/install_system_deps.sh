#!/usr/bin/env bash
# System packages the test suite needs: Debian's Chromium for the real-browser test and Debian's PostgreSQL
# server for the annotation tests' postgres variants (tests/postgres_server.py runs initdb and postgres).
# Installs only what is missing; without root it says what to install and lets those tests skip.
set -euo pipefail

missing=()
if ! command -v chromium >/dev/null 2>&1 && [ ! -x /usr/bin/chromium ]; then
    missing+=(chromium)
fi
# The server binaries: Debian keeps them in /usr/lib/postgresql/<version>/bin, off PATH.
if ! compgen -G "/usr/lib/postgresql/*/bin/postgres" >/dev/null && ! command -v postgres >/dev/null 2>&1; then
    missing+=(postgresql)
fi
if [ "${#missing[@]}" -eq 0 ]; then
    exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing ${missing[*]} (Debian packages) for the browser and PostgreSQL tests"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
else
    echo "note: missing system packages: ${missing[*]}; this user cannot apt-get install them, so the tests" \
        "that need them will skip (chromium: the browser test; postgresql: the tests marked postgres)" >&2
fi
