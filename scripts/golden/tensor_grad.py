#!/usr/bin/python3
"""Golden fixtures for the differentiable tensor library and the shape/linear ops of F.

Run with Debian's PyTorch: `/usr/bin/python3 scripts/golden/tensor_grad.py`. It rewrites
test/fixtures/tensor_grad/ (format: scripts/golden/common.py); the output is deterministic.

Every case runs one op in PyTorch on seeded inputs, backpropagates a seeded random upstream
gradient, and stores
  in0, in1, ...   the inputs (integer indices as float32)
  y / y0, y1 ...  the output(s)
  gy / gy0, ...   the upstream gradient(s) of the output(s)
  g0, g1, ...     the gradient of each differentiable input (absent for inputs that get none)
`op` names the convkit function and `params` its arguments. Tests: test/tensor/grad-golden.test.ts
(tensor library) and test/functional/tensor-ops-golden.test.ts (F); tolerances are stated there.
"""
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import Fixture  # noqa: E402

gen = torch.Generator().manual_seed(20240917)


def randn(*shape):
    return torch.randn(tuple(shape), generator=gen, dtype=torch.float32)


def away(*shape, margin=0.5):
    """Normal samples pushed away from 0 (|x| >= margin)."""
    x = randn(*shape)
    return torch.where(x >= 0, x + margin, x - margin)


def positive(*shape):
    return randn(*shape).abs() + 0.25


def ties(*shape, levels=3):
    """Small integers: many ties, for the max gradient."""
    return torch.randint(0, levels, tuple(shape), generator=gen).to(torch.float32)


class Fixture0d(Fixture):
    """Keeps the shape [] of 0-d tensors (common.Fixture stores them as [1]: np.ascontiguousarray
    returns at least one dimension)."""

    def tensor(self, value):
        entry = super().tensor(value)
        if isinstance(value, torch.Tensor) and value.dim() == 0:
            entry["shape"] = []
        return entry


fx = Fixture0d("tensor_grad")


def case(name, op, params, inputs, fn, diff=None):
    """Runs fn on the inputs and stores inputs, outputs, upstream gradients and input gradients."""
    diff = diff if diff is not None else [True] * len(inputs)
    ins = [t.clone().requires_grad_(d) for t, d in zip(inputs, diff)]
    out = fn(*ins)
    outs = list(out) if isinstance(out, (list, tuple)) else [out]
    gys = [randn(*o.shape) for o in outs]
    torch.autograd.backward(outs, gys)
    tensors = {f"in{i}": t for i, t in enumerate(inputs)}
    if len(outs) == 1:
        tensors["y"] = outs[0]
        tensors["gy"] = gys[0]
    else:
        for i, (o, g) in enumerate(zip(outs, gys)):
            tensors[f"y{i}"] = o
            tensors[f"gy{i}"] = g
    for i, t in enumerate(ins):
        if diff[i]:
            tensors[f"g{i}"] = t.grad if t.grad is not None else torch.zeros_like(t)
    params = dict(params)
    params["outputs"] = len(outs)
    fx.case(name, op, params, **tensors)


def amax(x, axis, keepdim):
    if axis is None:
        return torch.amax(x, dim=tuple(range(x.dim())), keepdim=keepdim) if x.dim() else x.clone()
    return torch.amax(x, dim=axis, keepdim=keepdim)


def reduce_fn(op, axis, keepdim):
    def fn(x):
        if op == "max":
            return amax(x, axis, keepdim)
        f = getattr(torch, op)
        if axis is None:
            return f(x, dim=tuple(range(x.dim())), keepdim=True) if keepdim else f(x)
        return f(x, dim=axis, keepdim=keepdim)
    return fn


def tensor_library():
    # Elementwise binary ops with broadcasting (both operands get gradients).
    pairs = [
        ("same", [3, 5], [3, 5]),
        ("row", [2, 3, 4], [4]),
        ("column", [2, 3, 4], [3, 1]),
        ("lower_rank_first", [4], [2, 3, 4]),
        ("both_broadcast", [2, 1, 4], [3, 1]),
        ("scalar_tensor", [], [2, 3]),
        ("inner", [2, 3, 5], [2, 1, 5]),
    ]
    for tag, sa, sb in pairs:
        for op in ("add", "sub", "mul", "div"):
            a = randn(*sa)
            b = away(*sb) if op == "div" else randn(*sb)
            case(f"{op}_{tag}", op, {}, [a, b], getattr(torch, op))
    # A number operand.
    case("mul_number", "mul", {"number": 2.5}, [randn(3, 4)], lambda x: x * 2.5)
    case("div_number_first", "div", {"numberFirst": 3.0}, [away(2, 5)], lambda x: torch.div(torch.tensor(3.0), x))

    # Reductions.
    for op in ("sum", "mean", "max"):
        for axis, keepdim in [(None, False), (None, True), (1, False), (-1, True), ([0, 2], False), ([2, 0], True)]:
            x = ties(3, 4, 5) if op == "max" else randn(3, 4, 5)
            case(f"{op}_{axis}_{keepdim}", op, {"axis": axis, "keepdim": keepdim}, [x], reduce_fn(op, axis, keepdim))
    case("max_distinct", "max", {"axis": 1, "keepdim": False}, [randn(4, 7)], reduce_fn("max", 1, False))
    case("max_all_tied", "max", {"axis": None, "keepdim": False}, [torch.full((2, 3), 1.5)], reduce_fn("max", None, False))
    case("sum_0d", "sum", {"axis": None, "keepdim": False}, [randn()], reduce_fn("sum", None, False))

    # matmul: every torch.matmul case, odd sizes.
    for sa, sb in [([5, 7], [7, 3]), ([7], [7]), ([7], [7, 3]), ([5, 7], [7]), ([2, 5, 7], [7, 3]), ([5, 7], [2, 7, 3]),
                   ([2, 5, 7], [2, 7, 3]), ([1, 5, 7], [3, 7, 4]), ([3, 5, 7], [1, 7, 4]), ([2, 1, 5, 7], [3, 7, 4]),
                   ([7], [2, 7, 3]), ([2, 3, 5, 7], [7]), ([4, 1, 3, 6], [2, 6, 5]), ([13, 9], [9, 17])]:
        case(f"matmul_{'x'.join(map(str, sa))}_{'x'.join(map(str, sb))}", "matmul", {}, [randn(*sa), randn(*sb)], torch.matmul)

    # Layout ops.
    case("reshape", "reshape", {"shape": [4, -1]}, [randn(2, 3, 4)], lambda x: x.reshape(4, -1))
    case("view", "view", {"shape": [6, 4]}, [randn(2, 3, 4)], lambda x: x.view(6, 4))
    case("flatten_1_2", "flatten", {"startDim": 1, "endDim": 2}, [randn(2, 3, 4, 5)], lambda x: torch.flatten(x, 1, 2))
    case("squeeze_all", "squeeze", {}, [randn(2, 1, 3, 1)], lambda x: x.squeeze())
    case("squeeze_dim", "squeeze", {"dim": 1}, [randn(2, 1, 3, 1)], lambda x: x.squeeze(1))
    case("unsqueeze", "unsqueeze", {"dim": -1}, [randn(2, 3)], lambda x: x.unsqueeze(-1))
    case("transpose", "transpose", {"dims": [0, 2]}, [randn(2, 3, 4)], lambda x: x.transpose(0, 2))
    case("transpose_2d", "transpose", {"dims": []}, [randn(5, 3)], lambda x: x.t())
    case("permute", "permute", {"dims": [3, 1, 0, 2]}, [randn(2, 3, 4, 5)], lambda x: x.permute(3, 1, 0, 2))
    case("T_2d", "T", {}, [randn(3, 5)], lambda x: x.T)
    case("T_3d", "T", {}, [randn(2, 3, 4)], lambda x: x.permute(2, 1, 0))
    case("clone", "clone", {}, [randn(3, 4)], lambda x: x.clone())
    case("expand_column", "expand", {"shape": [2, 3, 4]}, [randn(3, 1)], lambda x: x.expand(2, 3, 4))
    case("expand_keep", "expand", {"shape": [3, -1]}, [randn(4)], lambda x: x.expand(3, -1))
    case("expand_middle", "expand", {"shape": [2, 5, 3]}, [randn(2, 1, 3)], lambda x: x.expand(2, 5, 3))

    # Unary ops.
    case("neg", "neg", {}, [randn(3, 4)], torch.neg)
    case("abs", "abs", {}, [away(3, 4, margin=0.1)], torch.abs)
    case("exp", "exp", {}, [randn(3, 4)], torch.exp)
    case("log", "log", {}, [positive(3, 4)], torch.log)
    case("sqrt", "sqrt", {}, [positive(3, 4)], torch.sqrt)
    for p in (2.0, 3.0, 0.5, -1.5, 0.0, 1.0):
        case(f"pow_{p}", "pow", {"exponent": p}, [positive(3, 4)], lambda x, p=p: torch.pow(x, p))
    case("pow_2_negative_base", "pow", {"exponent": 2.0}, [randn(3, 4)], lambda x: torch.pow(x, 2.0))


def functional():
    # linear
    case("linear_2d", "linear", {"bias": True}, [randn(5, 7), randn(3, 7), randn(3)], F.linear)
    case("linear_3d", "linear", {"bias": True}, [randn(2, 4, 7), randn(9, 7), randn(9)], F.linear)
    case("linear_4d_nobias", "linear", {"bias": False}, [randn(2, 3, 4, 7), randn(5, 7)], F.linear)
    case("linear_1d", "linear", {"bias": True}, [randn(7), randn(3, 7), randn(3)], F.linear)
    case("linear_wide", "linear", {"bias": True}, [randn(33, 65), randn(17, 65), randn(17)], F.linear)

    # flatten (torch.flatten defaults)
    case("F_flatten_default", "F.flatten", {}, [randn(2, 3, 4)], torch.flatten)
    case("F_flatten_1", "F.flatten", {"startDim": 1}, [randn(2, 3, 4, 5)], lambda x: torch.flatten(x, 1))

    # add
    case("F_add_residual", "F.add", {}, [randn(2, 3, 4, 4), randn(2, 3, 4, 4)], torch.add)
    case("F_add_broadcast", "F.add", {}, [randn(2, 3, 4, 4), randn(3, 1, 1)], torch.add)

    # cat
    case("cat_0", "cat", {"dim": 0}, [randn(2, 3), randn(1, 3), randn(4, 3)], lambda *t: torch.cat(t, 0))
    case("cat_1", "cat", {"dim": 1}, [randn(2, 3, 4), randn(2, 1, 4), randn(2, 5, 4)], lambda *t: torch.cat(t, 1))
    case("cat_last", "cat", {"dim": -1}, [randn(2, 3, 4), randn(2, 3, 70)], lambda *t: torch.cat(t, -1))
    case("cat_1d", "cat", {"dim": 0}, [randn(5), randn(3)], lambda *t: torch.cat(t, 0))

    # split
    case("split_size_1", "split", {"split": 2, "dim": 1}, [randn(2, 5, 3)], lambda x: torch.split(x, 2, 1))
    case("split_sections_last", "split", {"split": [1, 4, 2], "dim": -1}, [randn(3, 7)], lambda x: torch.split(x, [1, 4, 2], -1))
    case("split_0", "split", {"split": [3, 1], "dim": 0}, [randn(4, 5)], lambda x: torch.split(x, [3, 1], 0))
    case("split_even", "split", {"split": 3, "dim": 0}, [randn(6, 2)], lambda x: torch.split(x, 3, 0))

    # pad
    pads = [
        ("constant_last", [1, 2], "constant", None, [2, 3, 4]),
        ("constant_value_crop", [1, -1, 2, 0], "constant", 0.5, [2, 3, 4]),
        ("constant_3d", [1, 1, 0, 2, 2, 1], "constant", None, [2, 2, 3, 4]),
        ("constant_all_dims", [1, 0, 0, 1, 1, 1], "constant", -1.0, [2, 3, 4]),
        ("constant_crop_only", [-1, -1, -1, 0], "constant", None, [3, 4, 5]),
        ("reflect_1d", [2, 3], "reflect", None, [2, 3, 5]),
        ("reflect_2d", [1, 2, 3, 1], "reflect", None, [1, 2, 4, 5]),
        ("reflect_3d", [1, 2, 2, 1, 1, 1], "reflect", None, [1, 2, 3, 4, 5]),
        ("reflect_crop", [-1, 2], "reflect", None, [1, 2, 5]),
        ("replicate_1d", [3, 1], "replicate", None, [2, 3, 5]),
        ("replicate_2d", [2, 0, 1, 3], "replicate", None, [1, 2, 4, 5]),
        ("replicate_3d", [1, 1, 2, 1, 0, 2], "replicate", None, [1, 2, 3, 4, 5]),
        ("replicate_crop", [2, -2], "replicate", None, [1, 2, 5]),
    ]
    for tag, p, mode, value, shape in pads:
        params = {"pad": p, "mode": mode}
        if value is not None:
            params["value"] = value
        kw = {"mode": mode} if value is None else {"mode": mode, "value": value}
        case(f"pad_{tag}", "pad", params, [randn(*shape)], lambda x, p=p, kw=kw: F.pad(x, tuple(p), **kw))

    # embedding (in0: indices as floats, no gradient; in1: weight)
    idx = torch.tensor([[1, 3, 3], [9, 0, 3]], dtype=torch.float32)
    emb = lambda pi: (lambda i, w: F.embedding(i.long(), w, padding_idx=pi))  # noqa: E731
    case("embedding", "embedding", {}, [idx, randn(10, 4)], emb(None), diff=[False, True])
    case("embedding_padding", "embedding", {"paddingIdx": 3}, [idx, randn(10, 4)], emb(3), diff=[False, True])
    case("embedding_padding_negative", "embedding", {"paddingIdx": -1}, [idx, randn(10, 4)], emb(-1), diff=[False, True])
    idx1 = torch.tensor([4, 4, 4, 0, 2, 4], dtype=torch.float32)
    case("embedding_1d_repeats", "embedding", {}, [idx1, randn(5, 70)], emb(None), diff=[False, True])


def main():
    torch.set_num_threads(1)
    tensor_library()
    functional()
    fx.write()


if __name__ == "__main__":
    main()
