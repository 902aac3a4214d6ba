"""Shared writer for PyTorch golden fixtures.

A fixture family is a folder test/fixtures/<family>/ with
  manifest.json  {"torch": version, "family": name, "cases": [{"name", "op", "params", "tensors": {
                  key: {"shape": [...], "offset": elements, "length": elements}}}]}
  data.bin       every tensor as little-endian float32, concatenated (offsets in elements)
Tests read them with test/helpers/golden.ts. Integer tensors (class indices, max-pool indices) are
stored as float32 too: exact below 2**24.

Usage in a generator script:
    fx = Fixture("conv")
    fx.case("conv2d_basic", op="conv2d", params={...}, x=x, w=w, y=y, dx=x.grad, ...)
    fx.write()
"""
import json
import os

import numpy as np
import torch

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "test", "fixtures")


class Fixture:
    def __init__(self, family):
        self.family = family
        self.cases = []
        self.chunks = []
        self.offset = 0

    def tensor(self, value):
        if isinstance(value, torch.Tensor):
            value = value.detach().cpu().numpy()
        arr = np.array(value, dtype=np.float32, order="C")  # keeps 0-d shapes (ascontiguousarray does not)
        entry = {"shape": list(arr.shape), "offset": self.offset, "length": int(arr.size)}
        self.chunks.append(arr.astype("<f4").tobytes())
        self.offset += int(arr.size)
        return entry

    def case(self, name, op, params=None, **tensors):
        if any(c["name"] == name for c in self.cases):
            raise ValueError(f"duplicate case name {name}")
        self.cases.append({
            "name": name,
            "op": op,
            "params": params or {},
            "tensors": {k: self.tensor(v) for k, v in tensors.items() if v is not None},
        })

    def write(self):
        folder = os.path.join(ROOT, self.family)
        os.makedirs(folder, exist_ok=True)
        with open(os.path.join(folder, "data.bin"), "wb") as f:
            for chunk in self.chunks:
                f.write(chunk)
        with open(os.path.join(folder, "manifest.json"), "w") as f:
            json.dump({"torch": torch.__version__, "family": self.family, "cases": self.cases}, f, indent=1)
            f.write("\n")
        size = os.path.getsize(os.path.join(folder, "data.bin"))
        print(f"{self.family}: {len(self.cases)} cases, {size / 1024:.0f} KiB of data")
