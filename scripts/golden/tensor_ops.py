#!/usr/bin/python3
"""Golden fixture for the tensor library: inputs and PyTorch outputs, written as JSON.

Run with Debian's PyTorch (`/usr/bin/python3 scripts/golden/tensor_ops.py`); it rewrites
test/fixtures/tensor/ops.json. The output is deterministic (seeded), so rerunning it with the same
torch version gives the same file. test/tensor/golden.test.ts reads it; tolerances are stated there.

Encoding: every tensor is {"shape": [...], "data": [...]} with data flattened row-major. Each
float32 value is written as its shortest decimal form that parses (as a float64, then rounded to
float32, which is what JS does via Float32Array) back to the same float32; the script asserts
that. NaN and infinities are written as the strings "nan", "inf" and "-inf".
"""
import json
import math
import os
import sys

import numpy as np
import torch

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'test', 'fixtures', 'tensor', 'ops.json')

gen = torch.Generator().manual_seed(20240601)


def randn(*shape):
    return torch.randn(tuple(shape), generator=gen, dtype=torch.float32)


def away_from_zero(*shape):
    """Normal samples pushed away from 0 (|x| >= 0.5), for divisors."""
    x = randn(*shape)
    return torch.where(x >= 0, x + 0.5, x - 0.5)


def ramp(*shape):
    """0, 1, 2, ... in the given shape: every value distinct and short to write."""
    return torch.arange(int(np.prod(shape)) if shape else 1, dtype=torch.float32).reshape(*shape)


def enc_value(v):
    v = np.float32(v)
    if math.isnan(v):
        return 'nan'
    if math.isinf(v):
        return 'inf' if v > 0 else '-inf'
    f = float(str(v))  # numpy prints the shortest string that identifies the float32
    assert np.float32(f) == v and np.signbit(np.float32(f)) == np.signbit(v), (v, f)
    return f


def enc(t):
    t = t.detach().to(torch.float32).contiguous()
    return {'shape': list(t.shape), 'data': [enc_value(v) for v in t.reshape(-1).numpy()]}


def operand(x):
    """A tensor, or a plain number (a Python scalar operand)."""
    return {'scalar': x} if isinstance(x, float) else enc(x)


def elementwise_cases():
    cases = []
    pairs = [
        ('same shape', randn(2, 3), away_from_zero(2, 3)),
        ('row vector', randn(2, 3, 4), away_from_zero(4)),
        ('column and row', randn(3, 1), away_from_zero(1, 4)),
        ('both broadcast', randn(2, 1, 4), away_from_zero(3, 1)),
        ('lower rank first', randn(4), away_from_zero(2, 3, 4)),
        ('size-1 into matrix', randn(1), away_from_zero(2, 3)),
        ('0-d tensor', randn(), away_from_zero(2, 3)),
        ('4-d general', randn(2, 3, 1, 5), away_from_zero(3, 4, 1)),
        ('inner broadcast', randn(2, 3, 2), away_from_zero(2, 1, 2)),
        ('empty', randn(0, 3), away_from_zero(3)),
        ('tensor and scalar', randn(2, 3), 0.1),
        ('scalar and tensor', -2.5, away_from_zero(3, 2)),
        ('division by zero', torch.tensor([1.0, -1.0, 0.0, 2.0]), torch.tensor([0.0, 0.0, 0.0, -0.0])),
    ]
    for name, a, b in pairs:
        outs = {}
        for op in ('add', 'sub', 'mul', 'div'):
            if isinstance(a, float):
                # A number on the left acts as a 0-d float32 tensor. (Not `a / b`: torch's __rtruediv__
                # computes reciprocal(b) * a, which rounds twice and is up to 1 ulp off the true quotient.)
                outs[op] = getattr(torch, op)(torch.tensor(a, dtype=torch.float32), b)
            else:
                outs[op] = getattr(torch, op)(a, b)
        cases.append({'name': name, 'a': operand(a), 'b': operand(b), 'out': {op: enc(t) for op, t in outs.items()}})
    return cases


def reduce_one(op, x, axis, keepdim):
    if axis is None:
        if x.dim() == 0:
            return x.clone()  # reducing a 0-d tensor over everything returns its value
        dims = tuple(range(x.dim()))
        if op == 'max':
            return torch.amax(x, dim=dims, keepdim=keepdim)
        return getattr(torch, op)(x, dim=dims, keepdim=True) if keepdim else getattr(torch, op)(x)
    fn = torch.amax if op == 'max' else getattr(torch, op)
    return fn(x, dim=axis, keepdim=keepdim)


def reduce_cases():
    """Each entry: one input and several (axis, keepdim) variants with the sum, mean and amax."""
    inputs = [
        (randn(2, 3, 4), [(None, False), (None, True), (0, False), (1, False), (-1, False), (-2, True), ([0, 2], False),
                          ([-1, -3], True), ([0, 1, 2], False), ([2, 0], False)]),
        (randn(7), [(None, False), (0, False), (-1, True)]),
        (randn(3, 1, 5), [(1, False), ([0, 2], True), (None, False)]),
        (randn(2, 3, 4, 5), [([1, 3], False), ([0, 1], True), ([0, 3], False), (2, False)]),
        (randn(), [(None, False), (0, False), (-1, True)]),
        (randn(40, 30), [(0, False), (1, False), (None, False)]),
        (torch.zeros(2, 0, 3), [(None, False), (1, False), (1, True), ([0, 2], False), (2, False)]),
    ]
    cases = []
    for x, variants in inputs:
        rows = []
        for axis, keepdim in variants:
            row = {'axis': axis, 'keepdim': keepdim}
            for op in ('sum', 'mean', 'max'):
                if op == 'max' and x.numel() == 0 and (axis is None or any(x.shape[d] == 0 for d in (axis if isinstance(axis, list) else [axis]))):
                    continue  # an error in torch (and in convkit): tested in errors.test.ts
                row[op] = enc(reduce_one(op, x, axis, keepdim))
            rows.append(row)
        cases.append({'x': enc(x), 'variants': rows})
    return cases


def layout_cases():
    """Inputs are ramps (0, 1, 2, ... reshaped to `ramp`), so they are not stored."""
    cases = []
    for shape, dims in [([2, 3], [0, 1]), ([2, 3], [1, 0]), ([2, 3, 4], [0, 2]), ([2, 3, 4], [-1, -2]), ([4, 1, 3], [0, 2]),
                        ([33, 35], [0, 1]), ([3, 40, 37], [1, 2])]:
        x = ramp(*shape)
        cases.append({'op': 'transpose', 'ramp': shape, 'dims': dims, 'out': enc(torch.transpose(x, dims[0], dims[1]))})
    for shape, dims in [([2, 3, 4], [2, 0, 1]), ([2, 3, 4], [1, 2, 0]), ([2, 3, 4], [0, 2, 1]), ([2, 3, 4], [-1, 0, 1]),
                        ([2, 3, 4, 5], [3, 1, 0, 2]), ([2, 1, 3, 1], [3, 2, 1, 0]), ([5], [0])]:
        x = ramp(*shape)
        cases.append({'op': 'permute', 'ramp': shape, 'dims': dims, 'out': enc(x.permute(*dims))})
    return cases


def arange_cases():
    cases = []
    for args in [(5,), (2.5,), (0, 5), (1, 10, 3), (10, 0, -1), (10, 1, -3), (0, 1, 0.1), (-1, 1, 0.25), (0.5, 3.7, 0.3),
                 (1, -1, -0.3), (0, 0), (3, 3, -1), (-5, 5, 0.7), (1e3, 1e3 + 1, 0.125), (0, 100, 1)]:
        out = torch.arange(*[float(a) for a in args], dtype=torch.float32)
        cases.append({'args': list(args), 'out': enc(out)})
    return cases


def matmul_cases():
    cases = []
    for sa, sb in [([3, 4], [4, 5]), ([1, 1], [1, 1]), ([7, 9], [9, 6]), ([2, 3, 4], [2, 4, 5]), ([2, 3, 4], [4, 5]),
                   ([3, 4], [2, 4, 5]), ([1, 3, 4], [2, 4, 5]), ([2, 3, 4], [1, 4, 5]), ([2, 1, 3, 4], [5, 4, 2]),
                   ([4], [4]), ([4], [4, 3]), ([3, 4], [4]), ([4], [2, 4, 3]), ([2, 3, 4], [4]), ([0, 3], [3, 2]),
                   ([2, 0], [0, 3]), ([3, 2], [2, 0])]:
        a, b = randn(*sa), randn(*sb)
        cases.append({'a': enc(a), 'b': enc(b), 'out': enc(torch.matmul(a, b))})
    return cases


def main():
    torch.set_num_threads(1)
    fixture = {
        'generator': 'scripts/golden/tensor_ops.py',
        'torch': torch.__version__,
        'numpy': np.__version__,
        'elementwise': elementwise_cases(),
        'reduce': reduce_cases(),
        'layout': layout_cases(),
        'arange': arange_cases(),
        'matmul': matmul_cases(),
    }
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, 'w') as f:
        json.dump(fixture, f, separators=(',', ':'), allow_nan=False)
        f.write('\n')
    print(f'wrote {os.path.relpath(OUT)} ({os.path.getsize(OUT)} bytes, torch {torch.__version__})', file=sys.stderr)


if __name__ == '__main__':
    main()
