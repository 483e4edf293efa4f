#!/usr/bin/env bash
# System packages the test suite needs: Debian's Chromium for the real-browser test.
# Installs only what is missing; without root it says what to install and lets the browser test skip.
set -euo pipefail
if command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ]; then
    exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing chromium (Debian package) for the browser test"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
else
    echo "note: chromium is missing and this user cannot apt-get install it; the browser test will skip" >&2
fi
