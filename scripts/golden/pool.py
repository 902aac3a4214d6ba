#!/usr/bin/python3
"""Golden fixtures for pooling: max, average and adaptive pooling in 1-D, 2-D and 3-D.

Run with Debian's PyTorch: `/usr/bin/python3 scripts/golden/pool.py`; it rewrites
test/fixtures/pool/{manifest.json,data.bin} (format: scripts/golden/common.py). Seeded, so reruns
with the same torch give the same files. test/pool/golden.test.ts reads them.

Every case stores the input x, the output y, a random output gradient gy and the input gradient dx
(from y.backward(gy)); max pooling cases also store PyTorch's indices. `params` holds convkit's
option names (camelCase), so the test calls F.<op>(x, params) directly. Sizes are small and odd
(7x9 planes, kernel 3 stride 2 padding 1, ceil mode on and off, dilation, rectangular windows).
"""
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import Fixture  # noqa: E402

gen = torch.Generator().manual_seed(20240611)


def randn(*shape):
    return torch.randn(shape, generator=gen, dtype=torch.float32)


def ties(*shape):
    """Small integers: many ties inside every window."""
    return torch.randint(-2, 3, shape, generator=gen).to(torch.float32)


fx = Fixture("pool")

TORCH = {
    "maxPool1d": F.max_pool1d, "maxPool2d": F.max_pool2d, "maxPool3d": F.max_pool3d,
    "avgPool1d": F.avg_pool1d, "avgPool2d": F.avg_pool2d, "avgPool3d": F.avg_pool3d,
}
NAMES = {"kernelSize": "kernel_size", "ceilMode": "ceil_mode", "countIncludePad": "count_include_pad",
         "divisorOverride": "divisor_override"}


def window_case(name, op, x, **params):
    x = x.clone().requires_grad_(True)
    kwargs = {NAMES.get(k, k): v for k, v in params.items()}
    indices = None
    if op.startswith("max"):
        y, indices = TORCH[op](x, return_indices=True, **kwargs)
    else:
        y = TORCH[op](x, **kwargs)
    gy = randn(*y.shape)
    y.backward(gy)
    fx.case(name, op=op, params=params, x=x, y=y, gy=gy, dx=x.grad, indices=indices)


# ---- max pooling --------------------------------------------------------------------------------
window_case("max2d_k3s2p1", "maxPool2d", randn(2, 3, 7, 9), kernelSize=3, stride=2, padding=1)
window_case("max2d_k3s2p1_ceil", "maxPool2d", randn(2, 3, 7, 9), kernelSize=3, stride=2, padding=1, ceilMode=True)
window_case("max2d_k2s2p1_ceil", "maxPool2d", randn(2, 3, 7, 9), kernelSize=2, stride=2, padding=1, ceilMode=True)
window_case("max2d_k3s2_ceil", "maxPool2d", randn(1, 2, 8, 8), kernelSize=3, stride=2, ceilMode=True)
window_case("max2d_same_3x3s1", "maxPool2d", randn(2, 3, 7, 9), kernelSize=3, stride=1, padding=1)
window_case("max2d_dilation2", "maxPool2d", randn(2, 3, 7, 9), kernelSize=3, stride=1, padding=1, dilation=2)
window_case("max2d_dilation2_s2_ceil", "maxPool2d", randn(1, 2, 9, 11), kernelSize=[2, 3], stride=2, padding=1,
            dilation=[2, 3], ceilMode=True)
window_case("max2d_rect", "maxPool2d", randn(2, 2, 7, 9), kernelSize=[2, 3], stride=[1, 2], padding=[1, 0])
window_case("max2d_default_stride", "maxPool2d", randn(2, 3, 7, 9), kernelSize=2)
window_case("max2d_ties", "maxPool2d", ties(2, 3, 7, 9), kernelSize=3, stride=2, padding=1, ceilMode=True)
window_case("max2d_ties_s1", "maxPool2d", ties(1, 2, 6, 7), kernelSize=[3, 2], stride=1, padding=1)
x_nan = randn(1, 2, 7, 9)
x_nan[0, 0, 1, 1] = float("nan")
x_nan[0, 0, 1, 3] = float("nan")
x_nan[0, 1, 4, 4] = float("nan")
x_nan[0, 1, 0, :] = float("-inf")
window_case("max2d_nan_inf", "maxPool2d", x_nan, kernelSize=3, stride=2, padding=1)
window_case("max2d_unbatched", "maxPool2d", randn(3, 7, 9), kernelSize=3, stride=2, padding=1)
window_case("max1d_k3s2p1_ceil", "maxPool1d", randn(2, 3, 11), kernelSize=3, stride=2, padding=1, ceilMode=True)
window_case("max1d_dilation2", "maxPool1d", randn(2, 3, 13), kernelSize=3, stride=2, padding=1, dilation=2)
window_case("max1d_unbatched", "maxPool1d", randn(3, 10), kernelSize=4, stride=3, padding=2)
window_case("max3d_ceil", "maxPool3d", randn(1, 2, 5, 7, 6), kernelSize=[2, 3, 3], stride=[2, 2, 1],
            padding=[1, 1, 0], ceilMode=True)
window_case("max3d_dilation", "maxPool3d", randn(2, 2, 5, 7, 6), kernelSize=[2, 3, 2], stride=1, padding=1,
            dilation=[1, 2, 1])
window_case("max3d_ties", "maxPool3d", ties(1, 2, 4, 5, 6), kernelSize=2, stride=1, padding=1)

# ---- average pooling ----------------------------------------------------------------------------
for ceil in (False, True):
    for cip in (True, False):
        window_case(f"avg2d_k3s2p1_ceil{int(ceil)}_cip{int(cip)}", "avgPool2d", randn(2, 3, 7, 9), kernelSize=3,
                    stride=2, padding=1, ceilMode=ceil, countIncludePad=cip)
window_case("avg2d_k2s2p1_ceil_cip", "avgPool2d", randn(1, 2, 7, 9), kernelSize=2, stride=2, padding=1,
            ceilMode=True)
window_case("avg2d_divisor", "avgPool2d", randn(2, 2, 7, 9), kernelSize=3, stride=2, padding=1, divisorOverride=5)
window_case("avg2d_rect", "avgPool2d", randn(2, 2, 7, 9), kernelSize=[2, 3], stride=[1, 2], padding=[1, 0],
            countIncludePad=False)
window_case("avg2d_same_3x3s1", "avgPool2d", randn(2, 3, 7, 9), kernelSize=3, stride=1, padding=1)
window_case("avg2d_unbatched", "avgPool2d", randn(3, 7, 9), kernelSize=2)
window_case("avg1d_ceil_nopad", "avgPool1d", randn(2, 3, 11), kernelSize=4, stride=3, padding=2, ceilMode=True,
            countIncludePad=False)
window_case("avg1d_basic", "avgPool1d", randn(2, 3, 11), kernelSize=3, stride=2, padding=1)
window_case("avg3d_ceil_nopad", "avgPool3d", randn(1, 2, 5, 7, 6), kernelSize=3, stride=2, padding=1,
            ceilMode=True, countIncludePad=False)
window_case("avg3d_divisor", "avgPool3d", randn(2, 2, 5, 7, 6), kernelSize=[2, 3, 2], stride=[1, 2, 2],
            padding=[1, 1, 0], divisorOverride=7)


# ---- adaptive pooling -----------------------------------------------------------------------------
ADAPTIVE = {
    "adaptiveAvgPool1d": F.adaptive_avg_pool1d, "adaptiveAvgPool2d": F.adaptive_avg_pool2d,
    "adaptiveAvgPool3d": F.adaptive_avg_pool3d, "adaptiveMaxPool1d": F.adaptive_max_pool1d,
    "adaptiveMaxPool2d": F.adaptive_max_pool2d, "adaptiveMaxPool3d": F.adaptive_max_pool3d,
}


def adaptive_case(name, op, x, output_size):
    x = x.clone().requires_grad_(True)
    indices = None
    if "Max" in op:
        y, indices = ADAPTIVE[op](x, output_size, return_indices=True)
    else:
        y = ADAPTIVE[op](x, output_size)
    gy = randn(*y.shape)
    y.backward(gy)
    fx.case(name, op=op, params={"outputSize": output_size}, x=x, y=y, gy=gy, dx=x.grad, indices=indices)


adaptive_case("aavg2d_3x4", "adaptiveAvgPool2d", randn(2, 3, 7, 9), [3, 4])
adaptive_case("aavg2d_none_2", "adaptiveAvgPool2d", randn(2, 3, 7, 9), [None, 2])
adaptive_case("aavg2d_global", "adaptiveAvgPool2d", randn(2, 3, 7, 9), 1)
adaptive_case("aavg2d_upsample", "adaptiveAvgPool2d", randn(1, 2, 3, 5), [5, 7])
adaptive_case("aavg1d_4", "adaptiveAvgPool1d", randn(2, 3, 11), 4)
adaptive_case("aavg3d_234", "adaptiveAvgPool3d", randn(1, 2, 5, 7, 6), [2, 3, 4])
adaptive_case("amax2d_3x4", "adaptiveMaxPool2d", randn(2, 3, 7, 9), [3, 4])
adaptive_case("amax2d_ties", "adaptiveMaxPool2d", ties(2, 3, 7, 9), [3, 4])
adaptive_case("amax2d_global", "adaptiveMaxPool2d", randn(2, 3, 7, 9), 1)
adaptive_case("amax1d_4", "adaptiveMaxPool1d", randn(2, 3, 11), 4)
adaptive_case("amax3d_234", "adaptiveMaxPool3d", randn(1, 2, 5, 7, 6), [2, 3, 4])

fx.write()
