#!/usr/bin/python3
"""Golden fixtures for batch norm and local response norm.

Run with Debian's PyTorch: `/usr/bin/python3 scripts/golden/norm.py`; it rewrites
test/fixtures/norm/{manifest.json,data.bin} (format: scripts/golden/common.py). Seeded, so reruns with
the same torch give the same files. test/norm/golden.test.ts reads them.

Batch norm cases store x, the optional weight / bias / running statistics before (rm0, rv0) and after
(rm1, rv1) the call, the output y, a random output gradient gy and the gradients dx, dw, db from
y.backward(gy), for [N, C], [N, C, L], [N, C, H, W] and [N, C, D, H, W], training and evaluation,
with and without affine parameters and running statistics, and channels whose mean is large against
their spread. Local response norm cases store x, y, gy and dx for odd and even sizes (PyTorch's
asymmetric window), 3-D to 5-D inputs and alphas large enough that the window matters.
"""
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import Fixture  # noqa: E402

gen = torch.Generator().manual_seed(20240612)


def randn(*shape):
    return torch.randn(shape, generator=gen, dtype=torch.float32)


def rand(*shape):
    return torch.rand(shape, generator=gen, dtype=torch.float32)


fx = Fixture("norm")


def bn_case(name, x, training, affine=True, running=True, momentum=0.1, eps=1e-5):
    c = x.shape[1]
    x = x.clone().requires_grad_(True)
    w = (0.5 + rand(c)).requires_grad_(True) if affine else None
    b = randn(c).requires_grad_(True) if affine else None
    rm0 = randn(c) * 0.1 if running else None
    rv0 = 0.5 + rand(c) if running else None
    rm = rm0.clone() if running else None
    rv = rv0.clone() if running else None
    y = F.batch_norm(x, rm, rv, w, b, training=training, momentum=momentum, eps=eps)
    gy = randn(*y.shape)
    y.backward(gy)
    fx.case(name, op="batchNorm",
            params={"training": training, "momentum": momentum, "eps": eps, "affine": affine, "running": running},
            x=x, weight=w, bias=b, rm0=rm0, rv0=rv0, rm1=rm, rv1=rv, y=y, gy=gy, dx=x.grad,
            dw=w.grad if affine else None, db=b.grad if affine else None)


x4 = randn(4, 3, 7, 9)
x4[:, 1] += 50.0  # a channel whose mean is large against its spread
bn_case("bn2d_train", x4, training=True)
bn_case("bn2d_eval", randn(4, 3, 7, 9) * 2 + 0.5, training=False)
bn_case("bn2d_train_plain", randn(3, 4, 5, 6), training=True, affine=False, running=False)
bn_case("bn2d_train_momentum", randn(2, 5, 3, 3), training=True, momentum=0.3, eps=1e-3)
bn_case("bn2d_eval_plain", randn(2, 3, 4, 5), training=False, affine=False)
bn_case("bn1d_nc_train", randn(8, 5) * 3, training=True)
bn_case("bn1d_nc_eval", randn(8, 5), training=False)
bn_case("bn1d_ncl_train", randn(4, 3, 11), training=True)
bn_case("bn1d_ncl_train_no_running", randn(4, 3, 11), training=True, running=False)
bn_case("bn3d_train", randn(2, 3, 3, 4, 5), training=True)
bn_case("bn3d_eval", randn(2, 3, 3, 4, 5), training=False)


def lrn_case(name, x, size, alpha=1e-4, beta=0.75, k=1.0):
    x = x.clone().requires_grad_(True)
    y = F.local_response_norm(x, size, alpha=alpha, beta=beta, k=k)
    gy = randn(*y.shape)
    y.backward(gy)
    fx.case(name, op="localResponseNorm", params={"size": size, "alpha": alpha, "beta": beta, "k": k},
            x=x, y=y, gy=gy, dx=x.grad)


lrn_case("lrn_size5_alexnet", randn(2, 7, 5, 6) * 3, 5, alpha=1e-4, beta=0.75, k=2.0)
lrn_case("lrn_size5_strong", randn(2, 7, 5, 6), 5, alpha=1.0, beta=0.75, k=1.0)
lrn_case("lrn_size4_even", randn(2, 6, 3, 5), 4, alpha=2.0, beta=0.75, k=1.0)
lrn_case("lrn_size2_beta_0_6", randn(1, 5, 4, 3), 2, alpha=0.5, beta=0.6, k=2.0)
lrn_case("lrn_size1", randn(1, 4, 3, 3), 1, alpha=0.7, beta=0.5, k=1.5)
lrn_case("lrn_size9_wider_than_c", randn(2, 4, 3, 3), 9, alpha=3.0, beta=0.75, k=1.0)
lrn_case("lrn_3d_input", randn(2, 6, 9), 3, alpha=1.0, beta=1.0, k=1.0)
lrn_case("lrn_5d_input", randn(1, 5, 2, 3, 4), 5, alpha=1.5, beta=0.75, k=1.0)

fx.write()
