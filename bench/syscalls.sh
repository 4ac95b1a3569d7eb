#!/usr/bin/env bash
# System calls per request (counted by perf on the syscall tracepoints),
# the dispatcher's share of the cost that callgrind does not see.
#
# Usage: bench/syscalls.sh [N [CONNECTIONS...]]   # default N=19200, 4 and 64
#        PEERS=1 bench/syscalls.sh ...             # and the peers, same load
#
# Builds examples/helloworld, wsecho and broadcast (release) and the load
# generators bench/httpload and bench/wsload, then for each CONNECTIONS
# starts the server, attaches `perf stat` to every thread of it, drives
# N keep-alive requests (httpload, one in flight per connection), N
# WebSocket echo round trips (wsload, 32-byte text frames) or N broadcast
# deliveries (examples/broadcast, wsload broadcast), detaches and
# prints the calls per request: all, and the four that matter (recvfrom,
# writev or sendto/write, epoll_wait, epoll_ctl). Accepting the
# connections and the handshakes are counted too (a few per connection).
# Also counts the server's context switches per request (perf's
# context-switches event: each time one of its threads sleeps or is
# preempted). With PEERS=1 it also builds bench/peers (--locked) and
# measures hyper-hello (:3000), may-hello (:3001), tokio-ws-echo (:9002)
# and tokio-ws-broadcast (:9005), each with 2 workers, under the same load.
# (strace -c gives the same counts for HTTP, but slows the server so much
# that a WebSocket client's next frame is always there before the server
# reads again.) Needs perf with access to the syscall tracepoints.
# The ports used (8080, 9004, and 9001 or WS_PORT; with PEERS=1 3000,
# 3001, 9002 and 9005) must be free; only the PIDs started here are killed.
set -euo pipefail

n=${1:-19200}
shift || true
conns=("$@")
((${#conns[@]})) || conns=(4 64)
for c in "${conns[@]}"; do
    ((c > 0 && n % c == 0)) || { echo "N ($n) must be a multiple of every CONNECTIONS ($c)" >&2; exit 2; }
done
command -v perf >/dev/null || { echo "perf is not installed" >&2; exit 2; }
events=context-switches,raw_syscalls:sys_enter
for c in recvfrom read writev sendto write epoll_wait epoll_pwait epoll_ctl; do
    events+=,syscalls:sys_enter_$c
done

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
cargo build --release --example helloworld --example wsecho --example broadcast >&2
(cd bench/httpload && cargo build --release >&2)
(cd bench/wsload && cargo build --release --locked >&2)
peers=${PEERS:-}
[[ -z $peers ]] || (cd bench/peers && cargo build --release --locked >&2)
peer=$root/bench/peers/target/release
ours=${CARGO_TARGET_DIR:-$root/target}/release/examples
httpload=$root/bench/httpload/target/release/httpload
wsload=$root/bench/wsload/target/release/wsload

work=$(mktemp -d -t gs-syscalls.XXXXXX)
pid= tracer=
cleanup() {
    [[ -z $tracer ]] || kill -INT "$tracer" 2>/dev/null || true
    if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid"; fi
    rm -rf "$work"
}
trap cleanup EXIT

# free PORT: nothing listens there yet (another server would answer the load).
free() {
    if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then
        echo "port $1 is taken" >&2
        exit 1
    fi
}

wait_port() {
    for _ in $(seq 1 100); do
        (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
        sleep 0.1
    done
    echo "server did not start" >&2
    exit 1
}

# measure NAME CONNS PORT LOAD...: one line.
measure() {
    local name=$1 c=$2 port=$3
    shift 3
    free "$port"
    case $name in
    http) RUST_LOG=warn "$ours/helloworld" >/dev/null 2>&1 & ;;
    ws) RUST_LOG=warn "$ours/wsecho" "$port" >/dev/null 2>&1 & ;;
    hyper) "$peer/hyper-hello" 2 >/dev/null 2>&1 & ;;
    may) "$peer/may-hello" 2 >/dev/null 2>&1 & ;;
    tokio-ws) "$peer/tokio-ws-echo" "$port" 2 >/dev/null 2>&1 & ;;
    bcast) RUST_LOG=warn "$ours/broadcast" "$port" >/dev/null 2>&1 & ;;
    tokio-bc) "$peer/tokio-ws-broadcast" "$port" 2 >/dev/null 2>&1 & ;;
    esac
    pid=$!
    wait_port "$port"
    perf stat -x, -o "$work/counts" -p "$pid" -e "$events" &
    tracer=$!
    sleep 1 # perf attaches to every thread first
    timeout 600 "$@" >/dev/null
    kill -INT "$tracer"
    wait "$tracer" || true
    tracer=
    kill -TERM "$pid"
    wait "$pid" || true
    pid=
    awk -F, -v n="$n" -v name="$name" -v c="$c" '
        $3 == "context-switches" { cs = $1; next }
        NF > 2 { split($3, e, "_enter_?"); k[e[2]] = $1 }
        END {
            printf "%-8s c=%-3d all %5.2f  recv %4.2f  write %4.2f  epoll_wait %4.2f  epoll_ctl %4.2f  cs %4.2f\n",
                name, c, k[""] / n, (k["recvfrom"] + k["read"]) / n,
                (k["writev"] + k["sendto"] + k["write"]) / n,
                (k["epoll_wait"] + k["epoll_pwait"]) / n, k["epoll_ctl"] / n, cs / n
        }' "$work/counts"
}

for c in "${conns[@]}"; do
    measure http "$c" 8080 "$httpload" 127.0.0.1:8080 "$n" "$c" 1
    [[ -z $peers ]] || {
        measure hyper "$c" 3000 "$httpload" 127.0.0.1:3000 "$n" "$c" 1
        measure may "$c" 3001 "$httpload" 127.0.0.1:3001 "$n" "$c" 1
    }
done
ws_port=${WS_PORT:-9001}
for c in "${conns[@]}"; do
    measure ws "$c" "$ws_port" "$wsload" "$ws_port" "$c" 600 0 32 $((n / c))
    [[ -z $peers ]] || measure tokio-ws "$c" 9002 "$wsload" 9002 "$c" 600 0 32 $((n / c))
done
# Broadcast: N/CONNECTIONS messages (16 in flight), each to every client,
# so N deliveries; the start-up probe adds at least CONNECTIONS more.
for c in "${conns[@]}"; do
    measure bcast "$c" 9004 "$wsload" broadcast 9004 "$c" 600 0 32 16 $((n / c))
    [[ -z $peers ]] || measure tokio-bc "$c" 9005 "$wsload" broadcast 9005 "$c" 600 0 32 16 $((n / c))
done
