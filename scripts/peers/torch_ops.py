#!/usr/bin/env python3
"""Peer for `convkit bench conv`: median milliseconds of PyTorch ops, forward and forward+backward.

Usage: /usr/bin/python3 torch_ops.py '<json rows>' [min_seconds] [threads]
Each row: {"id", "kind": "conv"|"maxpool"|"batchnorm", "x": shape, ...}:
  conv:      "w": weight shape, "stride", "padding", "dilation", "groups", "rank"
  maxpool:   "kernel", "stride", "padding"
  batchnorm: (training mode, affine)
Prints one JSON object: {"torch": version, "threads": n, "rows": [{"id", "fwd_ms", "fwdbwd_ms"}]}.
Forward runs under no_grad; forward+backward has the input and parameters requiring grad and
backpropagates a fixed upstream gradient, as the convkit side does. PyTorch's OpenMP pool is set to
`threads`; its BLAS pool is capped at one thread (threadpoolctl) so the two pools do not fight.
"""
import json
import sys
import time

import torch
import torch.nn.functional as F


def median_ms(fn, min_seconds):
    fn()
    times = []
    total = 0.0
    while len(times) < 5 or (total < min_seconds and len(times) < 100):
        t0 = time.perf_counter()
        fn()
        dt = time.perf_counter() - t0
        times.append(dt)
        total += dt
    times.sort()
    return times[len(times) // 2] * 1e3


def make(row):
    gen = torch.Generator().manual_seed(0)
    x = torch.rand(row["x"], generator=gen) - 0.5
    kind = row["kind"]
    if kind == "conv":
        w = (torch.rand(row["w"], generator=gen) - 0.5) * 0.1
        fn = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}[row["rank"]]
        opts = dict(stride=row["stride"], padding=row["padding"], dilation=row["dilation"], groups=row["groups"])
        return x, [w], lambda x_, ps: fn(x_, ps[0], None, **opts)
    if kind == "maxpool":
        return x, [], lambda x_, ps: F.max_pool2d(x_, row["kernel"], row["stride"], row["padding"])
    if kind == "batchnorm":
        c = row["x"][1]
        rm, rv = torch.zeros(c), torch.ones(c)
        weight, bias = torch.ones(c), torch.zeros(c)
        return x, [weight, bias], lambda x_, ps: F.batch_norm(x_, rm, rv, ps[0], ps[1], training=True)
    raise ValueError(kind)


def main():
    rows = json.loads(sys.argv[1])
    min_seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 0.5
    threads = int(sys.argv[3]) if len(sys.argv) > 3 else 2
    torch.set_num_threads(threads)
    limiter = None
    try:
        from threadpoolctl import threadpool_limits
        limiter = threadpool_limits(1, user_api="blas")
    except Exception:
        pass
    out = []
    for row in rows:
        x, params, fn = make(row)
        with torch.no_grad():
            fwd = median_ms(lambda: fn(x, params), min_seconds)
        xg = x.clone().requires_grad_()
        pg = [p.clone().requires_grad_() for p in params]
        dy = torch.ones_like(fn(xg, pg)) * 0.01

        def step():
            for t in [xg] + pg:
                t.grad = None
            fn(xg, pg).backward(dy)

        fwdbwd = median_ms(step, min_seconds)
        out.append({"id": row["id"], "fwd_ms": fwd, "fwdbwd_ms": fwdbwd})
    print(json.dumps({"torch": torch.__version__, "threads": threads, "blas_capped": limiter is not None, "rows": out}))


if __name__ == "__main__":
    main()
