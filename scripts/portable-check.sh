#!/usr/bin/env bash
# Builds the native tests with only the portable path (-DCONVKIT_X86_KERNELS=OFF: what an arm64
# build compiles) and runs them, so a build without the x86 kernels keeps compiling and passing.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build="$root/build-portable"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DCONVKIT_X86_KERNELS=OFF >/dev/null
cmake --build "$build" --target convkit_native_tests -j "$(nproc)" >/dev/null
echo "portable-only native tests (no AVX2/AVX-512 code compiled in):"
"$build/convkit_native_tests" "$@"
