#!/usr/bin/env bash
# Autobahn TestSuite (RFC 6455 conformance) against the `wsecho` example,
# or, with --client, against our WebSocket client.
#
# Runs the Autobahn case files through kosoku (a Python 3 runner of them, on
# PyPI; the original suite needs Python 2) against `examples/wsecho.rs` on
# 127.0.0.1, then checks the report:
#   - sections 1-10 (framing, pings, reserved bits and opcodes,
#     fragmentation, UTF-8, close handling, limits and performance,
#     misc): every case OK, NON-STRICT or INFORMATIONAL, and its closing
#     handshake OK or INFORMATIONAL;
#   - sections 12-13 (permessage-deflate, which the server does not offer):
#     UNIMPLEMENTED is accepted, FAILED is not;
#   - every case kosoku knows must be in the report (a full run).
# It prints per-section counts, and last a line `autobahn: N passed, M failed`.
# The exit status is 0 only when no case failed.
#
# With --client the roles turn: kosoku is the fuzzing server (`-m
# fuzzingserver`) and `gs-autobahn-client` (tests/bin/autobahn_client.rs, a
# clientele that echoes every message) runs each case against it; the
# verdicts are checked the same way (client reports in target/autobahn-client/).
#
# Usage: scripts/autobahn.sh [--client] [kosoku selection args, e.g. -i '6.*' -x '9.*']
#   With selection arguments the completeness check is skipped.
# Environment:
#   AUTOBAHN_PARALLELISM  cases kosoku runs at once (default 4)
#   AUTOBAHN_TIMEOUT      seconds the kosoku run may take (default 300)
#
# Setup, all inside the ignored target/ folder, so a clean clone works:
#   target/autobahn-venv/   a Python venv with kosoku (pinned) installed
#   target/autobahn/        reports (index.json, per-case JSON and HTML),
#                           kosoku.log and wsecho.log of the last run
# Needs python3 with the venv module (installed with apt when missing and
# apt-get is there) and network access to PyPI on the first run only.
set -euo pipefail
cd "$(dirname "$0")/.."

KOSOKU_VERSION=0.1.0
VENV=target/autobahn-venv
OUT=target/autobahn
MODE=server
if [[ "${1:-}" == --client ]]; then
    MODE=client
    OUT=target/autobahn-client
    shift
fi
PARALLELISM=${AUTOBAHN_PARALLELISM:-4}
RUN_TIMEOUT=${AUTOBAHN_TIMEOUT:-300}
START_DEADLINE=30 # seconds for wsecho to accept connections

log() { printf 'autobahn.sh: %s\n' "$*" >&2; }

# --- 1. The venv with kosoku (skipped when the pinned version is there) ---
if ! "$VENV/bin/python" -c "import importlib.metadata as m, sys; \
sys.exit(m.version('kosoku') != '$KOSOKU_VERSION')" 2>/dev/null; then
    if ! python3 -c 'import ensurepip, venv' 2>/dev/null; then
        if command -v apt-get >/dev/null; then
            log "installing python3-venv"
            apt-get update -qq
            DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv
        else
            log "python3 with the venv module is required"
            exit 2
        fi
    fi
    log "creating $VENV with kosoku==$KOSOKU_VERSION"
    rm -rf "$VENV"
    python3 -m venv "$VENV"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
        "kosoku==$KOSOKU_VERSION"
fi

# --- 2. The server under test (or the client) ---
if [[ $MODE == server ]]; then
    cargo build --release --example wsecho
else
    cargo build --release --bin gs-autobahn-client
fi
WSECHO="${CARGO_TARGET_DIR:-target}/release/examples/wsecho"
CLIENT="${CARGO_TARGET_DIR:-target}/release/gs-autobahn-client"
mkdir -p "$OUT"
rm -rf "$OUT/reports"

WSECHO_PID=
KOSOKU_PID=
cleanup() {
    # A kosoku run cut short (`timeout` passes the signal on to kosoku).
    if [[ -n "$KOSOKU_PID" ]]; then
        kill "$KOSOKU_PID" 2>/dev/null || true
        wait "$KOSOKU_PID" 2>/dev/null || true
    fi
    # Stop only the wsecho this script started: SIGTERM (a graceful
    # shutdown), then SIGKILL if it is still there after 15 s.
    if [[ -n "$WSECHO_PID" ]] && kill -0 "$WSECHO_PID" 2>/dev/null; then
        kill "$WSECHO_PID" 2>/dev/null || true
        for _ in $(seq 150); do
            kill -0 "$WSECHO_PID" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$WSECHO_PID" 2>/dev/null || true
        wait "$WSECHO_PID" 2>/dev/null || true
    fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Asks the OS for a free loopback port, starts wsecho on it and waits until
# it accepts. Retries with another port if wsecho exits first (the port was
# taken in between).
PORT=
for attempt in 1 2 3 4 5; do
    port=$("$VENV/bin/python" -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])')
    if [[ $MODE == server ]]; then
        "$WSECHO" "$port" >"$OUT/wsecho.log" 2>&1 &
        WSECHO_PID=$!
        STARTED_PID=$WSECHO_PID
    else
        # kosoku serves the cases; it ends once the client asked for the reports.
        timeout --kill-after=10 "$RUN_TIMEOUT" \
            "$VENV/bin/kosoku" -m fuzzingserver "127.0.0.1:$port" -o "$OUT/reports" "$@" \
            >"$OUT/kosoku.log" 2>&1 &
        KOSOKU_PID=$!
        STARTED_PID=$KOSOKU_PID
    fi
    if "$VENV/bin/python" - "$port" "$STARTED_PID" "$START_DEADLINE" <<'PY'; then
import os, socket, sys, time
port, pid, deadline = int(sys.argv[1]), int(sys.argv[2]), time.monotonic() + float(sys.argv[3])
while time.monotonic() < deadline:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        sys.exit(1)  # wsecho exited (port taken?)
    # A zombie also answers kill(0): look at its state.
    try:
        with open(f"/proc/{pid}/stat") as f:
            if f.read().rsplit(")", 1)[1].split()[0] == "Z":
                sys.exit(1)
    except OSError:
        pass
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        sys.exit(0)
    except OSError:
        time.sleep(0.02)
sys.exit(2)
PY
        PORT=$port
        break
    fi
    log "the $MODE side did not start on port $port (attempt $attempt):"
    tail -n 5 "$OUT/wsecho.log" "$OUT/kosoku.log" >&2 2>/dev/null || true
    cleanup
    WSECHO_PID=
    KOSOKU_PID=
done
if [[ -z "$PORT" ]]; then
    log "could not start the $MODE side"
    exit 1
fi

if [[ $MODE == client ]]; then
    log "running gs-autobahn-client against kosoku $KOSOKU_VERSION's fuzzing server on 127.0.0.1:$PORT"
    started=$SECONDS
    crc=0
    timeout --kill-after=10 "$RUN_TIMEOUT" "$CLIENT" "ws://127.0.0.1:$PORT" \
        >"$OUT/client.log" 2>&1 || crc=$?
    rc=0
    wait "$KOSOKU_PID" || rc=$?
    KOSOKU_PID=
    log "client finished in $((SECONDS - started)) s (client exit $crc, kosoku exit $rc; nonzero also for UNIMPLEMENTED)"
    if ((crc != 0)); then
        log "the client failed; see $OUT/client.log"
        tail -n 20 "$OUT/client.log" >&2 || true
        echo "autobahn: 0 passed, 1 failed"
        exit 1
    fi
fi

# --- 3. The cases (sections 1-10, 12, 13: all kosoku has) ---
if [[ $MODE == server ]]; then
    log "running kosoku $KOSOKU_VERSION against 127.0.0.1:$PORT (-p $PARALLELISM)"
    started=$SECONDS
    rc=0
    # In the background, so that a signal to this script is handled at once.
    timeout --kill-after=10 "$RUN_TIMEOUT" \
        "$VENV/bin/kosoku" "127.0.0.1:$PORT" -p "$PARALLELISM" -o "$OUT/reports" "$@" \
        >"$OUT/kosoku.log" 2>&1 &
    KOSOKU_PID=$!
    wait "$KOSOKU_PID" || rc=$?
    KOSOKU_PID=
    log "kosoku finished in $((SECONDS - started)) s (exit $rc; nonzero also for UNIMPLEMENTED)"
    if ((rc == 124 || rc == 137)); then
        log "kosoku ran past ${RUN_TIMEOUT}s; see $OUT/kosoku.log"
        echo "autobahn: 0 passed, 1 failed"
        exit 1
    fi
    if ! kill -0 "$WSECHO_PID" 2>/dev/null; then
        log "wsecho died during the run; see $OUT/wsecho.log"
        tail -n 20 "$OUT/wsecho.log" >&2 || true
        echo "autobahn: 0 passed, 1 failed"
        exit 1
    fi
fi

# --- 4. The verdicts ---
full=1
(($# > 0)) && full=0
"$VENV/bin/python" - "$OUT/reports/index.json" "$full" "$OUT" <<'PY'
import collections, json, sys

index_path, full, out = sys.argv[1], sys.argv[2] == "1", sys.argv[3]
try:
    with open(index_path) as f:
        index = json.load(f)
except (OSError, ValueError) as e:
    print(f"autobahn.sh: no report ({e}); see {out}/kosoku.log", file=sys.stderr)
    print("autobahn: 0 passed, 1 failed")
    sys.exit(1)

ACCEPTED = {"OK", "NON-STRICT", "INFORMATIONAL"}
CLOSE_ACCEPTED = {"OK", "INFORMATIONAL"}
DEFLATE = {"12", "13"}  # permessage-deflate: offered by neither our server nor our client

def key(case_id):
    return [int(p) for p in case_id.split(".")]

cases = {}
for agent_cases in index.values():
    cases.update(agent_cases)

failed = []
per_section = collections.defaultdict(collections.Counter)
for case_id in sorted(cases, key=key):
    e = cases[case_id]
    section = case_id.split(".")[0]
    behavior, close = e["behavior"], e["behaviorClose"]
    accepted = ACCEPTED | ({"UNIMPLEMENTED"} if section in DEFLATE else set())
    per_section[section][behavior] += 1
    if behavior not in accepted or close not in CLOSE_ACCEPTED:
        failed.append(f"{case_id}: behavior={behavior} behaviorClose={close} "
                      f"remoteCloseCode={e.get('remoteCloseCode')} "
                      f"({out}/reports/{e['reportfile']})")

if full:
    # Every case kosoku knows must have a verdict.
    from kosoku.cases import CASES
    for case_id in sorted(set(CASES) - set(cases), key=key):
        failed.append(f"{case_id}: missing from the report")

for section in sorted(per_section, key=int):
    counts = ", ".join(f"{v} {n}" for v, n in sorted(per_section[section].items()))
    print(f"autobahn: section {section:>2}: {counts}")
total = collections.Counter()
for c in per_section.values():
    total.update(c)
print("autobahn: all sections: " + ", ".join(f"{v} {n}" for v, n in sorted(total.items())))
for line in failed:
    print(f"autobahn: FAILED {line}")
n_bad = sum(1 for line in failed if not line.endswith("missing from the report"))
print(f"autobahn: {len(cases) - n_bad} passed, {len(failed)} failed")
sys.exit(1 if failed else 0)
PY
