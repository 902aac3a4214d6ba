#!/usr/bin/python3
"""Golden fixtures for the activation family: activations, softmax / log-softmax, losses.

Run with Debian's PyTorch: `/usr/bin/python3 scripts/golden/activation.py`. It rewrites
test/fixtures/activation/{manifest.json,data.bin} (format: scripts/golden/common.py); the output
is deterministic (seeded). test/activation/golden.test.ts replays every case through convkit and
compares outputs and gradients (tolerances are stated there).

Every case stores its inputs, the upstream gradient `gy` used for backward, the output `y` and the
gradients (`dx`, and `dt` where the target is differentiable). Class indices are stored as float32
(exact). Inputs mix random values, values near 0 and large magnitudes (+-30, and logits 1000 apart)
so the stable formulations are exercised; special values (NaN, +-inf) have cases of their own.
"""
import math
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import Fixture  # noqa: E402

torch.manual_seed(20240611)
gen = torch.Generator().manual_seed(20240611)
fx = Fixture("activation")


def randn(*shape, scale=1.0):
    return torch.randn(shape, generator=gen) * scale


def rand(*shape):
    return torch.rand(shape, generator=gen)


def randint(high, *shape):
    return torch.randint(0, high, shape, generator=gen)


def activation_input(*shape):
    """Random values with some near 0, some at +-30 and exact kinks (0, 6) sprinkled in."""
    x = randn(*shape, scale=3.0).flatten()
    specials = [0.0, 1e-3, -1e-3, 1e-6, -1e-6, 30.0, -30.0, 6.0, 5.999, 6.001, -0.5, 12.0]
    for i, v in enumerate(specials):
        x[(i * 5) % x.numel()] = v
    return x.reshape(shape)


# --- activations -----------------------------------------------------------------------------

ACTIVATIONS = [
    ("relu", {}, lambda x, p: F.relu(x)),
    ("leakyRelu", {}, lambda x, p: F.leaky_relu(x)),
    ("leakyRelu", {"negativeSlope": 0.2}, lambda x, p: F.leaky_relu(x, negative_slope=0.2)),
    ("leakyRelu", {"negativeSlope": -1.5}, lambda x, p: F.leaky_relu(x, negative_slope=-1.5)),
    ("relu6", {}, lambda x, p: F.relu6(x)),
    ("sigmoid", {}, lambda x, p: torch.sigmoid(x)),
    ("tanh", {}, lambda x, p: torch.tanh(x)),
    ("gelu", {}, lambda x, p: F.gelu(x)),
    ("gelu", {"approximate": "none"}, lambda x, p: F.gelu(x, approximate="none")),
    ("gelu", {"approximate": "tanh"}, lambda x, p: F.gelu(x, approximate="tanh")),
]

for i, (op, params, fn) in enumerate(ACTIVATIONS):
    for shape in ([3, 7], [2, 5, 3, 4]):
        x = activation_input(*shape).requires_grad_()
        y = fn(x, params)
        gy = randn(*shape)
        y.backward(gy)
        name = f"{op}_{i}_{'x'.join(map(str, shape))}"
        fx.case(name, op=op, params=params, x=x, gy=gy, y=y, dx=x.grad)

# Special values: forward and backward through NaN, +-inf, +-0.
special = torch.tensor([float("nan"), float("inf"), -float("inf"), 0.0, -0.0, 1.0, -1.0, 88.0, -88.0, 6.0])
for i, (op, params, fn) in enumerate(ACTIVATIONS):
    x = special.clone().requires_grad_()
    y = fn(x, params)
    gy = torch.ones_like(special)
    y.backward(gy)
    fx.case(f"{op}_{i}_special", op=op, params=params, x=x, gy=gy, y=y, dx=x.grad)

# --- softmax ---------------------------------------------------------------------------------

for op, fn in (("softmax", F.softmax), ("logSoftmax", F.log_softmax)):
    for shape, dim, scale in (([3, 7], 1, 3.0), ([3, 7], 0, 3.0), ([3, 7], -1, 30.0), ([2, 5, 3, 4], 1, 3.0),
                              ([2, 5, 3, 4], 3, 30.0), ([2, 5, 3, 4], 0, 3.0), ([2, 5, 3, 4], -2, 3.0), ([7], 0, 3.0)):
        x = randn(*shape, scale=scale)
        if len(shape) == 2 and dim != 0:
            x[1] += 1000.0  # one slice far from 0: only the max subtraction keeps it finite
        x.requires_grad_()
        y = fn(x, dim=dim)
        gy = randn(*shape)
        y.backward(gy)
        fx.case(f"{op}_{'x'.join(map(str, shape))}_dim{dim}_s{int(scale)}", op=op, params={"dim": dim},
                x=x, gy=gy, y=y, dx=x.grad)
    x = torch.tensor([[1.0, float("nan"), 2.0], [float("inf"), 1.0, 2.0], [-float("inf")] * 3, [1.0, 2.0, 3.0]])
    x.requires_grad_()
    y = fn(x, dim=1)
    gy = torch.ones_like(x)
    y.backward(gy)
    fx.case(f"{op}_special", op=op, params={"dim": 1}, x=x, gy=gy, y=y, dx=x.grad)

# --- cross entropy ---------------------------------------------------------------------------


def loss_case(name, op, params, fn, x, t, t_is_index, extra=None, target_grad=False):
    """Runs fn(x, t), backward with a random upstream gradient, and records the case."""
    x = x.clone().requires_grad_()
    t = t.clone()
    if target_grad:
        t.requires_grad_()
    y = fn(x, t)
    gy = randn(*y.shape) if y.dim() > 0 else torch.tensor(0.7)
    y.backward(gy)
    tensors = dict(x=x, t=t.float() if t_is_index else t, gy=gy, y=y, dx=x.grad)
    if target_grad:
        tensors["dt"] = t.grad
    if extra:
        tensors.update(extra)
    fx.case(name, op=op, params=params, **tensors)


def ce_params(reduction="mean", weight=None, ignore_index=-100, label_smoothing=0.0, index=True):
    params = {"reduction": reduction, "targetKind": "index" if index else "probs"}
    if weight is not None:
        params["weight"] = True
    if ignore_index != -100:
        params["ignoreIndex"] = ignore_index
    if label_smoothing != 0.0:
        params["labelSmoothing"] = label_smoothing
    return params


def ce(reduction="mean", weight=None, ignore_index=-100, label_smoothing=0.0):
    return lambda x, t: F.cross_entropy(x, t, weight=weight, ignore_index=ignore_index, reduction=reduction,
                                        label_smoothing=label_smoothing)


for reduction in ("mean", "sum", "none"):
    x = randn(3, 7, scale=2.0)
    t = randint(7, 3)
    loss_case(f"ce_basic_{reduction}", "crossEntropy", ce_params(reduction), ce(reduction), x, t, True)

    w = rand(5) + 0.5
    x = randn(6, 5, scale=3.0)
    t = randint(5, 6)
    t[1] = -100
    t[4] = -100
    loss_case(f"ce_weight_ignore_{reduction}", "crossEntropy", ce_params(reduction, w), ce(reduction, w), x, t, True,
              extra={"w": w})

    t2 = randint(5, 6)
    loss_case(f"ce_ignore_in_range_{reduction}", "crossEntropy", ce_params(reduction, ignore_index=1),
              ce(reduction, ignore_index=1), x, t2, True)

    for eps in (0.1, 1.0):
        loss_case(f"ce_smoothing{eps}_weight_ignore_{reduction}", "crossEntropy",
                  ce_params(reduction, w, label_smoothing=eps), ce(reduction, w, label_smoothing=eps), x, t, True,
                  extra={"w": w})
    loss_case(f"ce_smoothing_ignore_{reduction}", "crossEntropy", ce_params(reduction, label_smoothing=0.2),
              ce(reduction, label_smoothing=0.2), x, t, True)

    # Probabilities (soft labels), with a gradient for the target.
    p = torch.softmax(randn(4, 6, scale=2.0), dim=1)
    x = randn(4, 6, scale=3.0)
    loss_case(f"ce_probs_{reduction}", "crossEntropy", ce_params(reduction, index=False), ce(reduction), x, p, False,
              target_grad=True)
    w6 = rand(6) + 0.5
    loss_case(f"ce_probs_weight_smoothing_{reduction}", "crossEntropy",
              ce_params(reduction, w6, label_smoothing=0.15, index=False), ce(reduction, w6, label_smoothing=0.15),
              x, p, False, extra={"w": w6}, target_grad=True)

    # Spatial: [N, C, H, W] logits with [N, H, W] targets (segmentation).
    w4 = rand(4) + 0.5
    x = randn(2, 4, 3, 5, scale=2.0)
    t = randint(4, 2, 3, 5)
    t[0, 1, 2] = -100
    t[1, 0, 0] = -100
    loss_case(f"ce_spatial_{reduction}", "crossEntropy", ce_params(reduction, w4, label_smoothing=0.1),
              ce(reduction, w4, label_smoothing=0.1), x, t, True, extra={"w": w4})
    p = torch.softmax(randn(2, 4, 3, 5), dim=1)
    loss_case(f"ce_spatial_probs_{reduction}", "crossEntropy", ce_params(reduction, index=False), ce(reduction),
              x, p, False, target_grad=True)

# Large logits: +-30 and rows 1000 apart.
x = randn(4, 5, scale=30.0)
x[2] += 1000.0
x[3] -= 1000.0
loss_case("ce_large_logits", "crossEntropy", ce_params("none"), ce("none"), x, randint(5, 4), True)
# Unbatched [C] input with a 0-d target.
loss_case("ce_unbatched", "crossEntropy", ce_params("none"), ce("none"), randn(6), torch.tensor(4), True)
loss_case("ce_unbatched_probs", "crossEntropy", ce_params("mean", index=False), ce("mean"), randn(6),
          torch.softmax(randn(6), 0), False, target_grad=True)
# Every target ignored: mean is NaN (0 / 0), the gradient is zero.
loss_case("ce_all_ignored", "crossEntropy", ce_params("mean"), ce("mean"), randn(3, 4), torch.full((3,), -100), True)

# --- NLL ------------------------------------------------------------------------------------

for reduction in ("mean", "sum", "none"):
    w = rand(7) + 0.5
    x = torch.log_softmax(randn(5, 7, scale=2.0), 1)
    t = randint(7, 5)
    t[2] = -100
    loss_case(f"nll_{reduction}", "nllLoss", {"reduction": reduction, "weight": True},
              lambda x, t: F.nll_loss(x, t, weight=w, reduction=reduction), x, t, True, extra={"w": w})
    x = torch.log_softmax(randn(2, 4, 3, 3), 1)
    t = randint(4, 2, 3, 3)
    t[1, 1, 1] = 3
    loss_case(f"nll_spatial_ignore3_{reduction}", "nllLoss", {"reduction": reduction, "ignoreIndex": 3},
              lambda x, t: F.nll_loss(x, t, ignore_index=3, reduction=reduction), x, t, True)

# --- pointwise losses ------------------------------------------------------------------------

for reduction in ("mean", "sum", "none"):
    x, t = randn(3, 7, scale=2.0), randn(3, 7, scale=2.0)
    loss_case(f"mse_{reduction}", "mseLoss", {"reduction": reduction},
              lambda x, t: F.mse_loss(x, t, reduction=reduction), x, t, False, target_grad=True)
    for beta in (1.0, 0.5, 0.0):
        x = randn(3, 7, scale=1.5)
        t = randn(3, 7, scale=1.5)
        t[0, 0] = x[0, 0]  # d = 0: the kink (beta = 0 gives gradient -1, as PyTorch)
        t[1, 1] = x[1, 1] + beta  # d = -beta exactly
        loss_case(f"smoothL1_beta{beta}_{reduction}", "smoothL1Loss", {"reduction": reduction, "beta": beta},
                  lambda x, t: F.smooth_l1_loss(x, t, reduction=reduction, beta=beta), x, t, False, target_grad=True)
    x = randn(4, 5, scale=4.0)
    x[0, 0], x[0, 1], x[1, 0], x[1, 1] = 30.0, -30.0, 100.0, -100.0
    t = rand(4, 5)
    t[2] = (t[2] > 0.5).float()
    loss_case(f"bce_{reduction}", "binaryCrossEntropyWithLogits", {"reduction": reduction},
              lambda x, t: F.binary_cross_entropy_with_logits(x, t, reduction=reduction), x, t, False,
              target_grad=True)
    w = rand(5) + 0.5
    pw = rand(5) * 3.0 + 0.2
    loss_case(f"bce_weight_posweight_{reduction}", "binaryCrossEntropyWithLogits",
              {"reduction": reduction, "weight": True, "posWeight": True},
              lambda x, t: F.binary_cross_entropy_with_logits(x, t, weight=w, pos_weight=pw, reduction=reduction),
              x, t, False, extra={"w": w, "pw": pw}, target_grad=True)
    w41 = rand(4, 1) + 0.5
    loss_case(f"bce_weight_column_{reduction}", "binaryCrossEntropyWithLogits", {"reduction": reduction, "weight": True},
              lambda x, t: F.binary_cross_entropy_with_logits(x, t, weight=w41, reduction=reduction), x, t, False,
              extra={"w": w41}, target_grad=True)

fx.write()
