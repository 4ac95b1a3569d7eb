#!/usr/bin/env bash
# Compares examples/helloworld (epoll dispatcher) with a hyper 1.x
# hello-world under wrk, on loopback only, each server pinned to CPU 0 and
# wrk to CPU 1.
#
# Usage: bench/http_vs_hyper.sh /path/to/hyper-hello [seconds [rounds]]
#
#   /path/to/hyper-hello  a release build of a hyper 1.x hello-world that
#                         listens on 127.0.0.1:3000 and answers "hello world"
#                         (bench/peers/target/release/hyper-hello, after
#                         `cargo build --release` in bench/peers, a
#                         workspace of its own: the main one never builds
#                         hyper)
#   seconds               length of each wrk run (default 10)
#   rounds                how many times to measure both servers, in turn
#                         (default 1); with more than one, the medians of
#                         each column are printed last
#
# For each server it runs:
#   keep-alive: taskset -c 1 wrk -t1 -c64  -d${secs}s URL
#   pipelined:  taskset -c 1 wrk -t1 -c256 -d${secs}s -s bench/pipeline.lua URL
#               (16 requests per write; wrk counts each response)
# and reads the server's utime+stime from /proc/PID/stat (all threads) before
# and after each run, in clock ticks (getconf CLK_TCK), to print server CPU
# microseconds per request. wrk's non-2xx/3xx and socket error lines are
# reported, with wrk's own elapsed time and the 1-minute load average before
# the run: a run much longer than asked or a load above ~2 means other work
# competed for the 2 CPUs and the row is not to be trusted (run several
# rounds and read the medians). Ours is built with
# `cargo build --release --example helloworld` (CARGO_TARGET_DIR is honoured).
# The hyper path may be a wrapper script if it `exec`s the server (its PID
# must be the server's, for /proc). The script starts both servers itself and
# kills only the PIDs it started. Ports 8080 and 3000 must be free.
# Needs: wrk, taskset, 2 CPUs. Bounded: each wrk run is wrapped in timeout.
set -euo pipefail

hyper_bin=${1:?usage: $0 /path/to/hyper-hello [seconds [rounds]]}
secs=${2:-10}
rounds=${3:-1}
[[ -x $hyper_bin ]] || { echo "not executable: $hyper_bin" >&2; exit 2; }
[[ $secs =~ ^[0-9]+$ ]] && ((secs > 0 && secs <= 120)) || { echo "seconds: 1..120" >&2; exit 2; }
[[ $rounds =~ ^[0-9]+$ ]] && ((rounds > 0 && rounds <= 20)) || { echo "rounds: 1..20" >&2; exit 2; }
command -v wrk >/dev/null || { echo "wrk is not installed" >&2; exit 2; }

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
cargo build --release --example helloworld >&2
ours_bin=${CARGO_TARGET_DIR:-$root/target}/release/examples/helloworld

tck=$(getconf CLK_TCK)
logs=$(mktemp -d -t gs-bench.XXXXXX)
started=()
cleanup() {
    for p in "${started[@]}"; do
        kill "$p" 2>/dev/null || true
        wait "$p" 2>/dev/null || true
    done
}
trap cleanup EXIT

# utime+stime of a process (every thread), in clock ticks.
cpu_ticks() {
    local stat
    stat=$(<"/proc/$1/stat")
    stat=${stat##*) }                 # fields from 3 (state) on
    read -r -a f <<<"$stat"
    echo $((f[11] + f[12]))           # fields 14 and 15
}

wait_port() {
    local port=$1 i
    for ((i = 0; i < 100; i++)); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return 0; fi
        sleep 0.1
    done
    echo "nothing listens on 127.0.0.1:$port" >&2
    return 1
}

# run NAME CASE PID URL WRK-ARGS...: one measured wrk run; prints a row.
run() {
    local name=$1 case=$2 pid=$3 url=$4
    shift 4
    local out="$logs/$round-$name-$case.txt" t0 t1 load
    read -r load _ </proc/loadavg
    t0=$(cpu_ticks "$pid")
    timeout $((secs + 30)) taskset -c 1 wrk "$@" -d"${secs}s" "$url" >"$out" 2>&1
    t1=$(cpu_ticks "$pid")
    kill -0 "$pid" 2>/dev/null || { echo "$name died during $case" >&2; exit 1; }
    local total rps errs wall
    total=$(awk '/requests in/ {print $1}' "$out")
    wall=$(awk '/requests in/ {sub(/s,$/, "", $4); print $4}' "$out")
    rps=$(awk '/^Requests\/sec:/ {print $2}' "$out")
    errs=$(grep -E 'Non-2xx|Socket errors' "$out" | tr -s ' ' | paste -sd';' - || true)
    awk -v n="$name" -v c="$case" -v r="$rps" -v t="$total" -v d=$((t1 - t0)) -v k="$tck" \
        -v w="$wall" -v l="$load" -v e="${errs:-none}" -v rd="$round" \
        'BEGIN { printf "%-5s %-6s %-10s %10.0f %10d %10.2f %6.1f %5.2f  %s\n",
                 rd, n, c, r, t, (t > 0 ? d * 1e6 / k / t : 0), w, l, e }' | tee -a "$logs/rows"
}

bench() {
    local round=$1 name=$2 bin=$3 port=$4 pid
    taskset -c 0 "$bin" >"$logs/$round-$name-server.log" 2>&1 &
    pid=$!
    started+=("$pid")
    wait_port "$port"
    local url="http://127.0.0.1:$port/"
    # Warm-up (not measured).
    timeout 30 taskset -c 1 wrk -t1 -c64 -d2s "$url" >/dev/null 2>&1
    run "$name" keepalive "$pid" "$url" -t1 -c64
    run "$name" pipelined "$pid" "$url" -t1 -c256 -s "$root/bench/pipeline.lua"
    kill "$pid"
    wait "$pid" 2>/dev/null || true
    started=()
}

echo "# $(date -u +%FT%TZ)  $(nproc) CPUs  CLK_TCK=$tck  ${secs}s per run  logs: $logs"
printf "%-5s %-6s %-10s %10s %10s %10s %6s %5s  %s\n" \
    round server case req/s requests cpu_us/req wall_s load errors
for ((r = 1; r <= rounds; r++)); do
    bench "$r" ours "$ours_bin" 8080
    bench "$r" hyper "$hyper_bin" 3000
done
if ((rounds > 1)); then
    for key in "ours keepalive" "hyper keepalive" "ours pipelined" "hyper pipelined"; do
        set -- $key
        awk -v n="$1" -v c="$2" '$2 == n && $3 == c { r[++k] = $4; u[k] = $6 }
            function med(a, k,   i, j, t) {
                for (i = 1; i <= k; i++) for (j = i + 1; j <= k; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
                return k % 2 ? a[(k + 1) / 2] : (a[k / 2] + a[k / 2 + 1]) / 2
            }
            END { printf "%-5s %-6s %-10s %10.0f %10s %10.2f\n", "med", n, c, med(r, k), "", med(u, k) }' "$logs/rows"
    done
fi
