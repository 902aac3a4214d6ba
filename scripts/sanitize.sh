#!/usr/bin/env bash
# Builds the native kernel tests with AddressSanitizer + UndefinedBehaviorSanitizer (plain CMake,
# no Node) and runs them. Any report fails the run: UBSan is built with -fno-sanitize-recover.
# Usage: bash scripts/sanitize.sh [test-name-filter ...]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build="$root/build-asan"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCONVKIT_SANITIZE=ON >/dev/null
cmake --build "$build" --target convkit_native_tests -j "$(nproc)" >/dev/null
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=0:halt_on_error=1:detect_leaks=1:detect_stack_use_after_return=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
echo "sanitized native tests (ASan + UBSan), one pass per instruction-set path:"
# The exhaustive sweeps run every supported path inside each test.
"$build/convkit_native_tests" "$@"
