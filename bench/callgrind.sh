#!/usr/bin/env bash
# Instructions per request of examples/helloworld, counted by callgrind:
# repeatable on a busy machine (it counts instructions, not time).
#
# Usage: bench/callgrind.sh [N [CONNECTIONS]]
#
# Builds `cargo build --release --example helloworld` and bench/httpload,
# then for each mode (keep-alive: one request in flight per connection;
# pipelined: 16 requests per write) starts the server twice under
# `valgrind --tool=callgrind`, drives it with N requests and then 2N
# requests over CONNECTIONS sockets (default N=25600, CONNECTIONS=4), stops
# it with SIGTERM and reads the whole-program instruction count (all
# threads, user space; start-up, accept and stop included) from the
# callgrind output. Prints
#     instructions per request = (I(2N) - I(N)) / N
# so that start-up and shutdown cancel out. With REQUEST=browser in the
# environment each request carries the eight header fields a browser sends
# instead of wrk's Host alone. The server listens on
# 127.0.0.1:8080 (the example's port), which must be free; the script kills
# only the PIDs it started. Needs valgrind. Kernel time is not counted.
set -euo pipefail

n=${1:-25600}
conns=${2:-4}
depth_pipe=16
[[ $n =~ ^[0-9]+$ ]] && ((n > 0 && n <= 1000000)) || { echo "N: 1..1000000" >&2; exit 2; }
[[ $conns =~ ^[0-9]+$ ]] && ((conns > 0 && conns <= 64)) || { echo "CONNECTIONS: 1..64" >&2; exit 2; }
((n % (conns * depth_pipe) == 0)) || { echo "N must be a multiple of CONNECTIONS*$depth_pipe" >&2; exit 2; }
command -v valgrind >/dev/null || { echo "valgrind is not installed" >&2; exit 2; }

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
cargo build --release --example helloworld >&2
(cd bench/httpload && cargo build --release >&2)
server=${CARGO_TARGET_DIR:-$root/target}/release/examples/helloworld
load=$root/bench/httpload/target/release/httpload
addr=127.0.0.1:8080

work=$(mktemp -d -t gs-callgrind.XXXXXX)
keep=${KEEP:-}
pid=
cleanup() {
    if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid"; fi
    rm -rf "$work"
}
trap cleanup EXIT

# Instructions of one server run that answers $1 requests at depth $2.
count() {
    local requests=$1 depth=$2 out=$work/cg.out
    rm -f "$out"
    RUST_LOG=warn valgrind --tool=callgrind --callgrind-out-file="$out" \
        "$server" >"$work/server.log" 2>&1 &
    pid=$!
    # Wait (bounded) until the server answers.
    local up=
    for _ in $(seq 1 300); do
        if timeout 10 "$load" "$addr" 1 1 1 2>/dev/null; then up=1; break; fi
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.2
    done
    [[ -n $up ]] || { echo "server did not start:" >&2; cat "$work/server.log" >&2; exit 1; }
    timeout 600 "$load" "$addr" "$requests" "$conns" "$depth" ${REQUEST:+"$REQUEST"}
    kill -TERM "$pid"
    wait "$pid" || true
    pid=
    # "summary:" (or "totals:") holds the Ir of the whole run.
    [[ -z $keep ]] || cp "$out" "$keep/callgrind.$mode.$requests.out"
    awk '/^(summary|totals):/ { print $2; exit }' "$out"
}

printf '%-12s %14s %14s %12s\n' mode "I(N)" "I(2N)" "instr/req"
for mode in keep-alive pipelined; do
    depth=1
    [[ $mode == pipelined ]] && depth=$depth_pipe
    one=$(count "$n" "$depth")
    two=$(count $((2 * n)) "$depth")
    printf '%-12s %14d %14d %12d\n' "$mode" "$one" "$two" $(((two - one) / n))
done
