#!/usr/bin/env bash
# The benchmark suite: ours against hyper, may_minihttp, actix-web and
# tokio-tungstenite, side by side, in alternating rounds, on loopback only.
#
# Usage: bench/compare.sh [SECS [ROUNDS]]      (default 10 s, 3 rounds)
#        CALLGRIND=1 bench/compare.sh ...      (then PEERS=1 bench/callgrind.sh)
#
# Builds ours (`cargo build --release --example helloworld --example wsecho
# --example broadcast`; CARGO_TARGET_DIR is honoured), the peers
# (bench/peers, --locked) and the load generator bench/wsload (--locked);
# needs wrk and taskset, installs nothing. Cases (load on CPU 1):
#
#   keep-alive     wrk -t1 -c64 --latency                      (HTTP servers)
#   pipelined-16   wrk -t1 -c256 -s bench/pipeline.lua --latency
#   ws-echo-64     wsload PORT 64 SECS WARM 32                 (echo servers)
#   ws-echo-1000   wsload PORT 1000 SECS WARM 32
#   broadcast-100  wsload broadcast PORT 100 SECS WARM 32 16   (relays)
#   broadcast-1000 wsload broadcast PORT 1000 SECS WARM 32 16
#
# Servers, each on CPU 0 (taskset -c 0) with 2 workers: ours (helloworld
# :8080, its default of 2 per CPU it may run on; wsecho :9001; broadcast
# :9004), hyper-hello :3000, may-hello :3001, actix-hello :3002,
# tokio-ws-echo :9002, tokio-ws-broadcast :9005. Every port must be free.
#
# Round r runs every case in turn; within a case every server, in the
# listed order in odd rounds and reversed in even ones. Each row starts its
# server fresh, warms up for WARM = min(SECS, 2) s (not measured: a wrk run
# of its own; wsload's own warm-up, after it has connected), then measures
# SECS s. Columns:
#   rate      requests/s (wrk), round trips/s (echo) or deliveries/s
#             (broadcast: one message received by one client)
#   cpu_us    server CPU per request / round trip / delivery: the delta of
#             utime+stime (all threads, /proc/PID/stat, in clock ticks)
#             over the measured run, in µs, divided by the count measured
#   p99_us    99th percentile latency (wrk's; wsload's send-to-receive);
#             "-" where wrk printed 0.00us (it does at times when pipelining)
#   load1     the 1-minute load average before the row: well above 2 means
#             other work competed for the 2 CPUs, and the row is suspect
#   kern%     the kernel's share of that CPU (stime of utime+stime): what
#             a server's own code cannot remove (syscalls, TCP, wake-ups)
#   notes     wrk's socket errors and non-2xx answers, if any
# For wsload rows the CPU is sampled WARM s after wsload starts, so it also
# covers the few ms wsload spends connecting (both servers alike).
# Then the medians per case and server as a markdown table, with ours'
# ratios to each peer and issue 7's targets (met / not met).
#
# Kills only the PIDs it started (SIGTERM, then SIGKILL after 10 s); every
# load run is bounded by timeout. Raises the open-files limit to 4096.
set -euo pipefail

secs=${1:-10}
rounds=${2:-3}
[[ $secs =~ ^[0-9]+$ ]] && ((secs > 0 && secs <= 120)) || { echo "SECS: 1..120" >&2; exit 2; }
[[ $rounds =~ ^[0-9]+$ ]] && ((rounds > 0 && rounds <= 20)) || { echo "ROUNDS: 1..20" >&2; exit 2; }
warm=$((secs < 2 ? secs : 2))
for tool in wrk taskset; do
    command -v "$tool" >/dev/null || { echo "$tool is not installed (Debian package $tool / util-linux)" >&2; exit 2; }
done
(($(nproc) >= 2)) || { echo "needs 2 CPUs (server on 0, load on 1)" >&2; exit 2; }
ulimit -n 4096 || { echo "cannot raise the open-files limit to 4096" >&2; exit 2; }

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
cargo build --release --example helloworld --example wsecho --example broadcast >&2
(cd bench/peers && cargo build --release --locked >&2)
(cd bench/wsload && cargo build --release --locked >&2)
ours=${CARGO_TARGET_DIR:-$root/target}/release/examples
peer=$root/bench/peers/target/release
wsload=$root/bench/wsload/target/release/wsload

# name port command... per server; cases list their servers by name.
declare -A port cmd
add() { port[$1]=$2; cmd[$1]="${*:3}"; }
add ours-http 8080 "$ours/helloworld"
add hyper 3000 "$peer/hyper-hello" 2
add may_minihttp 3001 "$peer/may-hello" 2
add actix-web 3002 "$peer/actix-hello" 2
add ours-ws 9001 "$ours/wsecho" 9001 2
add tokio-tungst 9002 "$peer/tokio-ws-echo" 9002 2
add ours-bcast 9004 "$ours/broadcast" 9004 2
add tokio-bcast 9005 "$peer/tokio-ws-broadcast" 9005 2
cases=(keep-alive pipelined-16 ws-echo-64 ws-echo-1000 broadcast-100 broadcast-1000)
servers_of() {
    case $1 in
    keep-alive | pipelined-16) echo ours-http hyper may_minihttp actix-web ;;
    ws-echo-*) echo ours-ws tokio-tungst ;;
    broadcast-*) echo ours-bcast tokio-bcast ;;
    esac
}

listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
for s in "${!port[@]}"; do
    if listening "${port[$s]}"; then
        echo "port ${port[$s]} ($s) is taken; stop what listens there first" >&2
        exit 2
    fi
done

tck=$(getconf CLK_TCK)
logs=$(mktemp -d -t gs-compare.XXXXXX)
pid= loadpid=
cleanup() {
    [[ -z $loadpid ]] || stop "$loadpid"
    [[ -z $pid ]] || stop "$pid"
}
trap cleanup EXIT

stop() { # PID: SIGTERM, then SIGKILL after 10 s
    kill -TERM "$1" 2>/dev/null || { wait "$1" 2>/dev/null || true; return 0; }
    for _ in $(seq 100); do
        kill -0 "$1" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
}

cpu_ticks() { # "utime stime" of all threads of PID
    local stat
    stat=$(<"/proc/$1/stat")
    stat=${stat##*) } # fields from 3 (state) on
    read -r -a f <<<"$stat"
    echo "${f[11]} ${f[12]}" # fields 14 and 15
}

# spent T0 T1: sets ticks (user + kernel) and sys (kernel) between two samples.
spent() {
    local u0 s0 u1 s1
    read -r u0 s0 <<<"$1"
    read -r u1 s1 <<<"$2"
    ticks=$((u1 - u0 + s1 - s0))
    sys=$((s1 - s0))
}

start() { # SERVER: starts it on CPU 0 as $pid; returns once its port accepts
    local s=$1 i
    # Measuring some other program on the port would prove nothing.
    if listening "${port[$s]}"; then
        echo "port ${port[$s]} ($s) is taken; stop what listens there first" >&2
        exit 1
    fi
    # shellcheck disable=SC2086 # cmd holds a path and arguments without spaces
    RUST_LOG=warn taskset -c 0 ${cmd[$s]} >"$logs/$s.$round.$case.log" 2>&1 &
    pid=$!
    for ((i = 0; i < 100; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        if listening "${port[$s]}"; then
            sleep 0.2 # a server that failed to bind exits at once
            kill -0 "$pid" 2>/dev/null && return 0
            break
        fi
        sleep 0.1
    done
    echo "$s did not start:" >&2
    cat "$logs/$s.$round.$case.log" >&2
    exit 1
}

# wrk_row URL WRK-ARGS...: warm-up, then a measured run; sets the results.
wrk_row() {
    local url=$1 out=$logs/$round.$case.$server.wrk
    shift
    timeout $((warm + 30)) taskset -c 1 wrk "$@" -d"${warm}s" "$url" >/dev/null 2>&1 ||
        { echo "$server $case: warm-up wrk failed" >&2; exit 1; }
    local t0 t1
    t0=$(cpu_ticks "$pid")
    timeout $((secs + 30)) taskset -c 1 wrk "$@" --latency -d"${secs}s" "$url" >"$out" 2>&1 ||
        { echo "$server $case: wrk failed:" >&2; cat "$out" >&2; exit 1; }
    t1=$(cpu_ticks "$pid")
    count=$(awk '/requests in/ { print $1 }' "$out")
    rate=$(awk '/^Requests\/sec:/ { print $2 }' "$out")
    # wrk prints "99%  1.23ms" (us, ms or s).
    # Under pipelining wrk sometimes prints 0.00us there: shown as "-".
    p99=$(awk '$1 == "99%" { v = $2; u = v; sub(/[0-9.]+/, "", u); sub(/[a-z]+$/, "", v)
        v *= (u == "s" ? 1e6 : u == "ms" ? 1e3 : 1); print (v > 0 ? v : "-") }' "$out")
    notes=$(grep -E 'Non-2xx|Socket errors' "$out" | tr -s ' ' | paste -sd';' - || true)
    spent "$t0" "$t1"
}

# ws_row WSLOAD-ARGS...: wsload warms up itself; the CPU is sampled from
# WARM s after it starts to its end.
ws_row() {
    local out=$logs/$round.$case.$server.wsload
    timeout $((secs + warm + 60)) taskset -c 1 "$wsload" "$@" >"$out" 2>&1 &
    loadpid=$!
    local t0 t1 rc=0
    sleep "$warm"
    t0=$(cpu_ticks "$pid")
    wait "$loadpid" || rc=$?
    t1=$(cpu_ticks "$pid")
    loadpid=
    ((rc == 0)) || { echo "$server $case: wsload failed:" >&2; cat "$out" >&2; exit 1; }
    local line
    line=$(tail -n 1 "$out")
    field() { sed -nE "s/.*[ ^]$1=([0-9.]+).*/\1/p" <<<" $line"; }
    if [[ $1 == broadcast ]]; then
        count=$(field deliveries) rate=$(field dps)
    else
        count=$(field rtt) rate=$(field rps)
    fi
    p99=$(field p99_us)
    notes=
    spent "$t0" "$t1"
}

# row SERVER: one measured row of $case for SERVER, appended to rows.
row() {
    server=$1
    local load1 p=${port[$1]}
    start "$server"
    read -r load1 _ </proc/loadavg
    case $case in
    keep-alive) wrk_row "http://127.0.0.1:$p/" -t1 -c64 ;;
    pipelined-16) wrk_row "http://127.0.0.1:$p/" -t1 -c256 -s "$root/bench/pipeline.lua" ;;
    ws-echo-*) ws_row "$p" "${case##*-}" "$secs" "$warm" 32 ;;
    broadcast-*) ws_row broadcast "$p" "${case##*-}" "$secs" "$warm" 32 16 ;;
    esac
    kill -0 "$pid" 2>/dev/null || { echo "$server died during $case" >&2; exit 1; }
    stop "$pid"
    pid=
    awk -v r="$round" -v c="$case" -v s="$server" -v rate="$rate" -v n="$count" -v d="$ticks" \
        -v k="$tck" -v p="$p99" -v l="$load1" -v e="${notes:-}" -v sy="$sys" 'BEGIN {
        printf "%-5s %-14s %-13s %10.0f %10.2f %10s %5.2f %6.0f  %s\n",
            r, c, s, rate, (n > 0 ? d * 1e6 / k / n : 0), (p == "-" ? p : sprintf("%.0f", p)), l,
            (d > 0 ? 100 * sy / d : 0), e }' | tee -a "$logs/rows"
}

echo "# $(date -u +%FT%TZ)  $(nproc) CPUs  CLK_TCK=$tck  ${secs} s measured after ${warm} s warm-up, $rounds round(s)  logs: $logs"
printf '%-5s %-14s %-13s %10s %10s %10s %5s %6s  %s\n' round case server rate cpu_us p99_us load1 kern% notes
for ((round = 1; round <= rounds; round++)); do
    for case in "${cases[@]}"; do
        read -r -a order <<<"$(servers_of "$case")"
        if ((round % 2 == 0)); then
            for ((i = ${#order[@]} - 1; i >= 0; i--)); do row "${order[i]}"; done
        else
            for s in "${order[@]}"; do row "$s"; done
        fi
    done
done

# The medians, ours' ratios to each peer, and the targets.
echo
echo "Medians of $rounds round(s), ${secs} s each:"
echo
awk '
function med(list,   a, b, k, m, i, j, t) {
    m = split(list, b, " ")
    for (i = 1; i <= m; i++) if (b[i] != "-") a[++k] = b[i]
    if (!k) return "-"
    for (i = 1; i <= k; i++) for (j = i + 1; j <= k; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
    return k % 2 ? a[(k + 1) / 2] : (a[k / 2] + a[k / 2 + 1]) / 2
}
function verdict(ok) { return ok ? "met" : "**not met**" }
{
    key = $2 SUBSEP $3
    if (!(key in rate)) { order[++n] = key }
    rate[key] = rate[key] " " $4; cpu[key] = cpu[key] " " $5; p99[key] = p99[key] " " $6; kern[key] = kern[key] " " $8
}
END {
    for (i = 1; i <= n; i++) { k = order[i]; R[k] = med(rate[k]); C[k] = med(cpu[k]); P[k] = med(p99[k]); K[k] = med(kern[k]) }
    print "| case | server | rate/s | CPU µs/req | kernel % | p99 µs | ours/this rate | ours/this CPU | target (ours vs this) | |"
    print "|---|---|---:|---:|---:|---:|---:|---:|---|---|"
    for (i = 1; i <= n; i++) {
        k = order[i]; split(k, f, SUBSEP); c = f[1]; s = f[2]
        us = (c ~ /^(keep-alive|pipelined)/) ? "ours-http" : (c ~ /^ws-echo/) ? "ours-ws" : "ours-bcast"
        o = c SUBSEP us
        rr = ""; cr = ""; tg = ""; ok = ""
        if (s != us && (o in R)) {
            rr = (R[k] > 0) ? sprintf("%.2f×", R[o] / R[k]) : "-"
            cr = (C[k] > 0) ? sprintf("%.2f×", C[o] / C[k]) : "-"
            if (c == "pipelined-16" && s == "may_minihttp") {
                tg = "rate ≥ 1.2×, CPU ≤ 1.0×"; ok = verdict(R[o] >= 1.2 * R[k] && C[o] <= C[k])
            } else if (c == "pipelined-16" && s == "hyper") {
                tg = "rate ≥ 1.5×"; ok = verdict(R[o] >= 1.5 * R[k])
            } else if (c == "keep-alive" && s == "hyper") {
                tg = "CPU ≤ 0.9×"; ok = verdict(C[o] <= 0.9 * C[k])
            } else if (c == "ws-echo-64") {
                tg = "rate ≥ 1.3×"; ok = verdict(R[o] >= 1.3 * R[k])
            } else if (c == "ws-echo-1000") {
                tg = "rate ≥ 1.5×, ours p99 ≤ 20 ms"; ok = verdict(R[o] >= 1.5 * R[k] && P[o] != "-" && P[o] + 0 <= 20000)
            } else if (c ~ /^broadcast/) {
                tg = "CPU ≤ 0.8×"; ok = verdict(C[o] <= 0.8 * C[k])
            }
        }
        printf "| %s | %s | %.0f | %.2f | %.0f | %s | %s | %s | %s | %s |\n", c, s, R[k], C[k], K[k], (P[k] == "-" ? "-" : sprintf("%.0f", P[k])), rr, cr, tg, ok
    }
}' "$logs/rows"

if [[ -n ${CALLGRIND:-} ]]; then
    echo
    echo "Callgrind instructions per request (PEERS=1 bench/callgrind.sh):"
    PEERS=1 "$root/bench/callgrind.sh"
fi
