#!/usr/bin/env python3
"""Peer for `convkit bench gemm`: median GFLOP/s of numpy float32 matmul (OpenBLAS sgemm).

Usage: OPENBLAS_NUM_THREADS=N /usr/bin/python3 numpy_gemm.py '[[m, n, k], ...]' [min_seconds]
Prints one JSON object: {"blas": ..., "numpy": ..., "threads": N, "rows": [{"m","n","k","gflops"}]}.
The thread count must be fixed by the environment before numpy loads, so the caller starts one
process per thread count. Timing matches the convkit side: one warm-up call, then repeated calls
until min_seconds have passed (at least 5, at most 200), median.
"""
import json
import os
import sys
import time

import numpy as np


def blas_library():
    try:
        with open("/proc/self/maps") as maps:
            for line in maps:
                name = line.strip().split("/")[-1]
                if "blas" in name and ".so" in name:
                    return line.strip().split(None, 5)[-1]
    except OSError:
        pass
    return "unknown"


def median_gflops(m, n, k, min_seconds):
    rng = np.random.default_rng(0)
    a = rng.random((m, k), dtype=np.float32) - 0.5
    b = rng.random((k, n), dtype=np.float32) - 0.5
    c = np.empty((m, n), dtype=np.float32)
    np.matmul(a, b, out=c)
    times = []
    total = 0.0
    while len(times) < 5 or (total < min_seconds and len(times) < 200):
        t0 = time.perf_counter()
        np.matmul(a, b, out=c)
        dt = time.perf_counter() - t0
        times.append(dt)
        total += dt
    times.sort()
    return 2.0 * m * n * k / times[len(times) // 2] * 1e-9


def main():
    shapes = json.loads(sys.argv[1])
    min_seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 0.5
    rows = [{"m": m, "n": n, "k": k, "gflops": median_gflops(m, n, k, min_seconds)} for m, n, k in shapes]
    print(json.dumps({
        "blas": blas_library(),
        "numpy": np.__version__,
        "threads": int(os.environ.get("OPENBLAS_NUM_THREADS", "0")),
        "rows": rows,
    }))


if __name__ == "__main__":
    main()
