#!/usr/bin/env python3
"""PyTorch golden fixtures for F.conv1d/2d/3d: outputs and input/weight/bias gradients.

Run: /usr/bin/python3 scripts/golden/conv.py  (writes test/fixtures/conv/)
Each case draws x, w, b and an upstream gradient dy from a seeded generator, runs the torch
convolution in float64 (so the fixture is the exact value, and float32 error is ours to bound), and
stores float32 copies of everything.
"""
import torch
import torch.nn.functional as F

from common import Fixture

CASES = [
    # name, rank, x shape, w shape, bias, options
    ("conv2d_same_3x3", 2, [2, 3, 7, 9], [5, 3, 3, 3], True, dict(padding=1)),
    ("conv2d_stride2_odd", 2, [2, 4, 11, 10], [6, 4, 3, 3], True, dict(stride=2, padding=1)),
    ("conv2d_stem_7x7_s2", 2, [1, 3, 15, 13], [4, 3, 7, 7], False, dict(stride=2, padding=3)),
    ("conv2d_alexnet_11x11_s4", 2, [1, 3, 27, 27], [4, 3, 11, 11], True, dict(stride=4, padding=2)),
    ("conv2d_groups2_dilation2", 2, [2, 4, 9, 8], [6, 2, 3, 3], True, dict(padding=2, dilation=2, groups=2)),
    ("conv2d_depthwise", 2, [2, 6, 9, 7], [6, 1, 3, 3], True, dict(padding=1, groups=6)),
    ("conv2d_depthwise_multiplier2_s2", 2, [2, 4, 8, 9], [8, 1, 3, 3], False, dict(stride=2, padding=1, groups=4)),
    ("conv2d_pointwise", 2, [3, 8, 6, 7], [5, 8, 1, 1], True, {}),
    ("conv2d_pointwise_s2", 2, [2, 8, 9, 9], [6, 8, 1, 1], False, dict(stride=2)),
    ("conv2d_same_even_kernel", 2, [2, 3, 8, 7], [4, 3, 2, 4], True, dict(padding="same")),
    ("conv2d_same_dilated", 2, [1, 3, 9, 8], [4, 3, 3, 2], True, dict(padding="same", dilation=2)),
    ("conv2d_valid_rect", 2, [2, 3, 10, 9], [4, 3, 3, 2], True, dict(padding="valid", stride=(3, 2), dilation=(1, 2))),
    ("conv2d_per_axis_padding", 2, [2, 3, 6, 9], [4, 3, 3, 5], True, dict(padding=(0, 2))),
    ("conv2d_many_small_images", 2, [12, 5, 3, 4], [7, 5, 3, 3], True, dict(padding=1)),
    ("conv2d_unbatched", 2, [3, 6, 5], [4, 3, 3, 3], True, dict(padding=1)),
    ("conv1d_text", 1, [3, 5, 17], [7, 5, 3], True, dict(padding=1)),
    ("conv1d_groups_dilation", 1, [2, 6, 20], [4, 3, 5], True, dict(stride=2, padding=2, dilation=2, groups=2)),
    ("conv1d_depthwise_same", 1, [2, 4, 15], [4, 1, 4], True, dict(padding="same", groups=4)),
    ("conv3d_video", 3, [2, 3, 5, 7, 6], [4, 3, 3, 3, 3], True, dict(padding=1)),
    ("conv3d_stride_dilation", 3, [1, 2, 6, 9, 8], [3, 2, 2, 3, 3], False, dict(stride=(2, 2, 1), padding=(0, 1, 1), dilation=(1, 1, 2))),
    ("conv3d_depthwise", 3, [2, 4, 4, 5, 5], [4, 1, 3, 3, 3], True, dict(stride=(1, 2, 2), padding=1, groups=4)),
]

FNS = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}


def main():
    gen = torch.Generator().manual_seed(1234)
    fx = Fixture("conv")
    for name, rank, xs, ws, has_bias, opts in CASES:
        x = (torch.rand(xs, generator=gen, dtype=torch.float64) * 2 - 1).requires_grad_()
        w = (torch.rand(ws, generator=gen, dtype=torch.float64) * 2 - 1).requires_grad_()
        b = (torch.rand(ws[0], generator=gen, dtype=torch.float64) * 2 - 1).requires_grad_() if has_bias else None
        # Round inputs to float32 first so both sides start from the same numbers.
        with torch.no_grad():
            x.copy_(x.float().double())
            w.copy_(w.float().double())
            if b is not None:
                b.copy_(b.float().double())
        y = FNS[rank](x, w, b, **opts)
        dy = (torch.rand(y.shape, generator=gen, dtype=torch.float64) * 2 - 1).float().double()
        y.backward(dy)
        params = {k: (list(v) if isinstance(v, tuple) else v) for k, v in opts.items()}
        fx.case(name, op=f"conv{rank}d", params=params, x=x, w=w, b=b, y=y, dy=dy, dx=x.grad, dw=w.grad,
                db=b.grad if b is not None else None)
    fx.write()


if __name__ == "__main__":
    main()
