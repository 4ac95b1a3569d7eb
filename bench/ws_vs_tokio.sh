#!/usr/bin/env bash
# Compares examples/wsecho with a tokio-tungstenite echo server under
# bench/wsload (a closed-loop WebSocket load generator: each connection sends
# a masked 32-byte text frame, waits for the echo, records the round trip and
# sends again), on loopback only, each server pinned to CPU 0 and the load
# generator to CPU 1.
#
# Usage: bench/ws_vs_tokio.sh /path/to/tt-echo [seconds [threads...]]
#
#   /path/to/tt-echo  a release build of a tokio-tungstenite echo server that
#                     listens on 127.0.0.1:9002
#                     (bench/peers/target/release/tokio-ws-echo, after
#                     `cargo build --release` in bench/peers, a workspace
#                     of its own: the main one never builds tokio)
#   seconds           measured length of each run, after a 2 s warm-up
#                     (default 10)
#   threads...        wsecho worker thread counts to measure, "default" for
#                     the library default (default: "default 1 2")
#
# For each server (wsecho on port 9001 once per thread count, then tt-echo)
# and each connection count (64, 1000) it runs
#   taskset -c 1 wsload PORT CONNS SECONDS 2 32
# and reads the server's utime+stime from /proc/PID/stat (all threads) before
# and after the run, in clock ticks (getconf CLK_TCK), to print server CPU
# microseconds per round trip (the ticks cover warm-up and measured time, so
# they are divided by all round trips of both: measured rps x (warm-up +
# seconds)). The 1-minute load average before each run is printed: above ~2
# means other work competed for the 2 CPUs; "other%" is the busy CPU time of
# the whole machine (/proc/stat) less the server's and the load generator's,
# as a share of both CPUs: a row with more than a few percent is not to be
# trusted.
# Builds wsecho (`cargo build --release --example wsecho`) and bench/wsload;
# CARGO_TARGET_DIR is honoured for wsecho, wsload builds in its own target
# dir (WSLOAD_TARGET_DIR, default $TMPDIR/gs-wsload). The script starts the
# servers itself and kills only the PIDs it started. Ports 9001 and 9002
# must be free. Raises the open-files limit to 4096 for 1,000 connections.
# Needs: taskset, 2 CPUs. Bounded: every run is wrapped in timeout.
set -euo pipefail

tt_bin=${1:?usage: $0 /path/to/tt-echo [seconds [threads...]]}
secs=${2:-10}
shift $(( $# >= 2 ? 2 : 1 ))
thread_counts=("$@")
((${#thread_counts[@]})) || thread_counts=(default 1 2)
warm=2
[[ -x $tt_bin ]] || { echo "not executable: $tt_bin" >&2; exit 2; }
[[ $secs =~ ^[0-9]+$ ]] && ((secs > 0 && secs <= 120)) || { echo "seconds: 1..120" >&2; exit 2; }
for t in "${thread_counts[@]}"; do
    [[ $t == default || $t =~ ^[0-9]+$ ]] || { echo "threads: default or a number, not $t" >&2; exit 2; }
done
ulimit -n 4096 || { echo "cannot raise the open-files limit to 4096" >&2; exit 2; }

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
cargo build --release --example wsecho >&2
ours_bin=${CARGO_TARGET_DIR:-$root/target}/release/examples/wsecho
load_dir=${WSLOAD_TARGET_DIR:-${TMPDIR:-/tmp}/gs-wsload}
CARGO_TARGET_DIR=$load_dir cargo build --release --manifest-path bench/wsload/Cargo.toml >&2
load_bin=$load_dir/release/wsload

tck=$(getconf CLK_TCK)
logs=$(mktemp -d -t gs-wsbench.XXXXXX)
started=()
cleanup() {
    for p in "${started[@]}"; do
        kill "$p" 2>/dev/null || true
    done
}
trap cleanup EXIT

stop() { # PID: SIGTERM, then SIGKILL after 10 s
    kill "$1" 2>/dev/null || return 0
    for _ in $(seq 100); do
        kill -0 "$1" 2>/dev/null || break
        sleep 0.1
    done
    kill -9 "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
}

busy_ticks() { # busy and total ticks of all CPUs
    awk '/^cpu /{print $2+$3+$4+$7+$8+$9, $2+$3+$4+$5+$6+$7+$8+$9}' /proc/stat
}

cpu_ticks() { # utime + stime of all threads of PID
    awk '{print $14 + $15}' "/proc/$1/stat"
}

wait_port() { # PID PORT: until the port accepts, or fail after 10 s
    for _ in $(seq 100); do
        kill -0 "$1" 2>/dev/null || { echo "server $1 exited" >&2; return 1; }
        (exec 3<>"/dev/tcp/127.0.0.1/$2") 2>/dev/null && return 0
        sleep 0.1
    done
    echo "port $2 did not open" >&2
    return 1
}

printf '%-22s %6s %9s %8s %8s %9s %10s %5s %6s\n' server conns rt/s p50_us p99_us p99.9_us cpu_us/rt load other%
bench() { # NAME PORT PID
    local name=$1 port=$2 pid=$3 conns line before after rps
    for conns in 64 1000; do
        local load
        load=$(cut -d' ' -f1 /proc/loadavg)
        before=$(cpu_ticks "$pid")
        read -r b0 t0 < <(busy_ticks)
        line=$(timeout $((secs + warm + 30)) taskset -c 1 "$load_bin" "$port" "$conns" "$secs" "$warm" 32) \
            || { echo "$name $conns: wsload failed" >&2; return 1; }
        after=$(cpu_ticks "$pid")
        read -r b1 t1 < <(busy_ticks)
        echo "$name $line" >>"$logs/raw.txt"
        rps=$(sed -E 's/.* rps=([0-9.]+).*/\1/' <<<"$line")
        awk -v n="$name" -v c="$conns" -v l="$line" -v b="$before" -v a="$after" -v t="$tck" \
            -v r="$rps" -v s="$secs" -v w="$warm" -v ld="$load" \
            -v bb=$((b1 - b0)) -v tt=$((t1 - t0)) 'BEGIN {
            split(l, f, " "); for (i in f) { split(f[i], kv, "="); v[kv[1]] = kv[2] }
            cpu = (a - b) / t * 1e6 / (r * (s + w))
            other = (bb - (a - b) - v["cpu_ms"] * t / 1000) / tt * 100
            if (other < 0) other = 0
            printf "%-22s %6d %9d %8.1f %8.1f %9.1f %10.2f %5s %6.1f\n", n, c, r, v["p50_us"], v["p99_us"], v["p999_us"], cpu, ld, other
        }'
    done
}

for t in "${thread_counts[@]}"; do
    args=(9001)
    [[ $t == default ]] || args+=("$t")
    taskset -c 0 "$ours_bin" "${args[@]}" >"$logs/wsecho-$t.log" 2>&1 &
    pid=$!
    started+=("$pid")
    wait_port "$pid" 9001
    bench "wsecho threads=$t" 9001 "$pid"
    stop "$pid"
    sleep 1
done

taskset -c 0 "$tt_bin" 9002 >"$logs/tt-echo.log" 2>&1 &
pid=$!
started+=("$pid")
wait_port "$pid" 9002
bench "tokio-tungstenite" 9002 "$pid"
stop "$pid"
echo "raw lines: $logs/raw.txt" >&2
