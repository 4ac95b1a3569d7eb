#!/usr/bin/env bash
# Instructions per request, counted by callgrind: repeatable on a busy
# machine (it counts instructions, not time).
#
# Usage: bench/callgrind.sh [N [CONNECTIONS]]
#        PEERS=1 bench/callgrind.sh [N [CONNECTIONS]]
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
# so that start-up and shutdown cancel out, and the same difference for the
# instructions of libc's memset, memcpy and memmove alone ("mem*/req",
# from callgrind_annotate): callgrind counts each iteration of a `rep stos`
# or `rep movs` as one instruction, so a server that clears or copies large
# buffers per request shows a count far above its CPU time; "rest/req" is
# the count without them. With REQUEST=browser in the
# environment each request carries the eight header fields a browser sends
# instead of wrk's Host alone.
#
# With PEERS=1 it also builds the peer servers (bench/peers, a workspace of
# their own) and measures, the same way and with the same load, hyper-hello
# (127.0.0.1:3000), may-hello (:3001) and actix-hello (:3002); then
# WebSocket echo round trips (bench/wsload with a fixed count: CONNECTIONS
# connections, N/CONNECTIONS and 2N/CONNECTIONS round trips each, 32-byte
# text frames) for examples/wsecho (:9001) against tokio-ws-echo (:9002),
# and broadcast deliveries (bench/wsload broadcast with a fixed count:
# N/CONNECTIONS and 2N/CONNECTIONS messages of 32 bytes, 16 in flight, each
# relayed to all CONNECTIONS clients; "per request" is then per delivery)
# for examples/broadcast (:9004) against tokio-ws-broadcast (:9005).
# Every server runs with its default thread count (ours: twice the CPUs;
# the peers: 2 workers).
#
# The ports used must be free (ours: 127.0.0.1:8080, the example's port);
# the script kills only the PIDs it started. Needs valgrind. Kernel time is
# not counted. KEEP=DIR keeps every callgrind output there. ONLY=ws
# measures the WebSocket echo row of ours alone.
set -euo pipefail
only=${ONLY:-}

n=${1:-25600}
conns=${2:-4}
depth_pipe=16
[[ $n =~ ^[0-9]+$ ]] && ((n > 0 && n <= 1000000)) || { echo "N: 1..1000000" >&2; exit 2; }
[[ $conns =~ ^[0-9]+$ ]] && ((conns > 0 && conns <= 64)) || { echo "CONNECTIONS: 1..64" >&2; exit 2; }
((n % (conns * depth_pipe) == 0)) || { echo "N must be a multiple of CONNECTIONS*$depth_pipe" >&2; exit 2; }
command -v valgrind >/dev/null || { echo "valgrind is not installed" >&2; exit 2; }

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
peers=${PEERS:-}
examples=(--example helloworld)
[[ -z $peers ]] || examples+=(--example wsecho --example broadcast)
[[ $only != ws ]] || examples=(--example wsecho)
cargo build --release "${examples[@]}" >&2
(cd bench/httpload && cargo build --release >&2)
ours=${CARGO_TARGET_DIR:-$root/target}/release/examples
httpload=$root/bench/httpload/target/release/httpload
[[ $only != ws ]] || (cd bench/wsload && cargo build --release --locked >&2)
if [[ -n $peers ]]; then
    (cd bench/peers && cargo build --release --locked >&2)
    (cd bench/wsload && cargo build --release --locked >&2)
fi
peer=$root/bench/peers/target/release
wsload=$root/bench/wsload/target/release/wsload

work=$(mktemp -d -t gs-callgrind.XXXXXX)
keep=${KEEP:-}
pid=
cleanup() {
    if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid"; fi
    rm -rf "$work"
}
trap cleanup EXIT

# wait_port PORT: until 127.0.0.1:PORT accepts (bounded), while $pid lives.
wait_port() {
    for _ in $(seq 1 300); do
        (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.2
    done
    echo "server did not start:" >&2
    cat "$work/server.log" >&2
    exit 1
}

# The loads: LOAD REQUESTS, against $port with $depth requests per write.
http_load() {
    timeout 600 "$httpload" "127.0.0.1:$port" "$1" "$conns" "$depth" ${REQUEST:+"$REQUEST"}
}
ws_load() { # each connection: REQUESTS/CONNECTIONS round trips, bound 600 s
    timeout 660 "$wsload" "$port" "$conns" 600 0 32 $(($1 / conns)) >/dev/null
}
bc_load() { # REQUESTS deliveries: REQUESTS/CONNECTIONS messages, each to all CONNECTIONS
    timeout 660 "$wsload" broadcast "$port" "$conns" 600 0 32 16 $(($1 / conns)) >/dev/null
}

# count REQUESTS LOAD: instructions of one run of "${server[@]}" on $port
# that answers REQUESTS requests sent by LOAD, in all and in libc's mem*.
count() {
    local requests=$1 load=$2 out=$work/cg.out
    rm -f "$out"
    RUST_LOG=warn valgrind --tool=callgrind --callgrind-out-file="$out" \
        "${server[@]}" >"$work/server.log" 2>&1 &
    pid=$!
    wait_port "$port"
    "$load" "$requests"
    kill -TERM "$pid"
    wait "$pid" || true
    pid=
    [[ -z $keep ]] || cp "$out" "$keep/callgrind.$name.$mode.$requests.out"
    # "summary:" (or "totals:") holds the Ir of the whole run; then the
    # self cost of libc's mem* functions.
    local total
    total=$(awk '/^(summary|totals):/ { print $2; exit }' "$out")
    callgrind_annotate --inclusive=no --threshold=100 --auto=no "$out" 2>/dev/null |
        awk -v t="$total" '/__mem(set|cpy|move)/ && !/=>/ { gsub(",", "", $1); m += $1 } END { printf "%s %.0f\n", t, m }'
}

# row NAME MODE DEPTH LOAD PORT SERVER...: one line of the table.
row() {
    name=$1 mode=$2 depth=$3
    local load=$4
    port=$5
    shift 5
    server=("$@")
    local one two mem1 mem2 r
    r=$(count "$n" "$load")
    read -r one mem1 <<<"$r"
    r=$(count $((2 * n)) "$load")
    read -r two mem2 <<<"$r"
    local per=$(((two - one) / n)) mem=$(((mem2 - mem1) / n))
    printf '%-14s %-12s %14d %14d %10d %10d %10d\n' "$name" "$mode" "$one" "$two" "$per" "$mem" $((per - mem))
}

# http NAME PORT SERVER...: the keep-alive and the pipelined row.
http() {
    row "$1" keep-alive 1 http_load "${@:2}"
    row "$1" pipelined "$depth_pipe" http_load "${@:2}"
}

printf '%-14s %-12s %14s %14s %10s %10s %10s\n' server mode "I(N)" "I(2N)" instr/req "mem*/req" rest/req
[[ $only != ws ]] || { row ours ws-echo 1 ws_load 9001 "$ours/wsecho" 9001; exit 0; }
http ours 8080 "$ours/helloworld"
[[ -n $peers ]] || exit 0
http hyper 3000 "$peer/hyper-hello"
http may_minihttp 3001 "$peer/may-hello"
http actix-web 3002 "$peer/actix-hello"
row ours ws-echo 1 ws_load 9001 "$ours/wsecho" 9001
row tokio-tungst. ws-echo 1 ws_load 9002 "$peer/tokio-ws-echo" 9002
row ours broadcast 1 bc_load 9004 "$ours/broadcast" 9004
row tokio-tungst. broadcast 1 bc_load 9005 "$peer/tokio-ws-broadcast" 9005
