#!/usr/bin/env bash
# Builds and runs every test, twice: a gcc Release build, then a clang build under
# AddressSanitizer + UndefinedBehaviorSanitizer that also runs each fuzz target for a fixed
# time. Installs its own Debian packages first. Ends with CTest's summary of the Asan run.
#
#   UPFLOW_FUZZ_SECONDS   seconds per fuzz target (default 20)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-debian.sh

jobs=$(nproc)
fuzz_seconds=${UPFLOW_FUZZ_SECONDS:-20}

echo "== Release build (gcc) =="
cmake -S . -B build/release -DCMAKE_BUILD_TYPE=Release -DCMAKE_C_COMPILER=gcc >/dev/null
cmake --build build/release -j "$jobs"
(cd build/release && ctest --output-on-failure -j "$jobs")

echo "== Asan + UBSan build (clang), with fuzzing =="
cmake -S . -B build/asan -DCMAKE_BUILD_TYPE=Asan -DCMAKE_C_COMPILER=clang \
  -DUPFLOW_FUZZ=ON -DUPFLOW_FUZZ_SECONDS="$fuzz_seconds" >/dev/null
cmake --build build/asan -j "$jobs"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
(cd build/asan && ctest --output-on-failure -j "$jobs")
