#!/usr/bin/env bash
# Real-browser tests of examples/websocket.rs, examples/multipart.rs and
# examples/websocketdiscussion.rs:
# headless Chromium (Debian's `chromium` package) driven by playwright-core
# (tests/browser/, npm), run with Node's built-in test runner.
#
# On a fresh Debian machine it installs what is missing (the chromium
# package with apt-get; playwright-core with `npm ci` from the lock file),
# builds the examples (`cargo build --example websocket --example
# multipart --example websocketdiscussion`), runs tests/browser/*.test.mjs and ends with the line
#
#     browser: N passed, M failed
#
# Exit status: 0 when every test passed (and at least one ran), 1 otherwise.
# Needs ports 5050 and 5051 free. Screenshots go to $SCREENSHOT_DIR (default
# the temp dir). Usage: scripts/browser-test.sh
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT" || exit 1
CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"
export CHROMIUM

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

finish() { # passed failed
    echo "browser: $1 passed, $2 failed"
    if [ "$2" -eq 0 ] && [ "$1" -gt 0 ]; then exit 0; else exit 1; fi
}

apt_updated=
apt_install() {
    if [ -z "$apt_updated" ]; then
        as_root apt-get update -qq || return 1
        apt_updated=1
    fi
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "$@"
}

if [ ! -x "$CHROMIUM" ]; then
    echo "== installing chromium (apt-get)"
    apt_install chromium || { echo "cannot install chromium"; finish 0 1; }
fi
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    echo "== installing nodejs and npm (apt-get)"
    apt_install nodejs npm || { echo "cannot install node"; finish 0 1; }
fi

echo "== npm ci (tests/browser)"
(
    cd tests/browser || exit 1
    want="$(node -p 'require("./package.json").dependencies["playwright-core"]')"
    have="$(node -p 'require("./node_modules/playwright-core/package.json").version' 2>/dev/null || true)"
    if [ "$want" = "$have" ]; then
        echo "playwright-core $have already installed"
    else
        npm ci --no-audit --no-fund
    fi
) || { echo "npm ci failed"; finish 0 1; }

echo "== cargo build --example websocket --example multipart --example websocketdiscussion"
cargo build --example websocket --example multipart --example websocketdiscussion || { echo "build failed"; finish 0 1; }

echo "== node --test (tests/browser)"
tap="$(mktemp)"
trap 'rm -f "$tap"' EXIT
(
    cd tests/browser &&
        timeout 300 node --test \
            --test-reporter=spec --test-reporter-destination=stdout \
            --test-reporter=tap --test-reporter-destination="$tap" \
            ./*.test.mjs
)
rc=$?
passed="$(sed -n 's/^# pass \([0-9][0-9]*\)$/\1/p' "$tap" | tail -n 1)"
failed="$(sed -n 's/^# fail \([0-9][0-9]*\)$/\1/p' "$tap" | tail -n 1)"
passed="${passed:-0}"
failed="${failed:-0}"
if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then
    echo "node --test exited with status $rc"
    failed=1
fi
finish "$passed" "$failed"
