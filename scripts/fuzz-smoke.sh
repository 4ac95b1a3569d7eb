#!/usr/bin/env bash
# A short fuzzing run of the real drivers: builds the cargo-fuzz targets in
# fuzz/ (libFuzzer, no sanitizer, so the stable toolchain suffices) and runs
# each for FUZZ_SECONDS (default 60) from the checked-in corpus. Fails when
# a target crashes (a panic on a server thread, bad framing, a server that
# stops answering) or an input hangs; the input is left in
# fuzz/artifacts/<target>/ and the reproduction command is printed.
# Installs cargo-fuzz when it is missing. See fuzz/README.md.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
secs="${FUZZ_SECONDS:-60}"

if ! cargo fuzz --version >/dev/null 2>&1; then
    cargo install cargo-fuzz --locked
fi

cargo fuzz build -s none
for target in http_driver ws_driver; do
    # New inputs go to the ignored work/ folder; the checked-in corpus is
    # only read.
    mkdir -p "work/$target"
    echo "fuzz-smoke: $target for ${secs}s"
    cargo fuzz run -s none "$target" "work/$target" "corpus/$target" -- \
        -max_total_time="$secs" -max_len=10000 -len_control=0 -timeout=30 -print_final_stats=1
done
echo "fuzz-smoke: no crash"
