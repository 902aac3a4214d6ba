"""Writes torchvision state dicts as .safetensors (PyTorch names) plus an input and PyTorch's output.

Usage: /usr/bin/python3 scripts/golden/torchvision_safetensors.py OUT_DIR

For each of resnet18 and mobilenet_v2 (random init, seed 0, batch-norm running statistics set to
seeded non-trivial values so the buffers matter, eval mode) writes into OUT_DIR:
  <name>.safetensors   the state_dict (F32; num_batches_tracked as I64), written with the standard
                       library only (Python's `safetensors` package is not needed): 8-byte LE header
                       length, JSON header padded with spaces to 8 bytes, raw little-endian data
  <name>.input.bin     a [2, 3, 64, 64] input, float32 LE
  <name>.output.bin    the model's output on it, float32 LE
  <name>.json          {"torch", "input": shape, "output": shape}
The files are too big to commit; test/transfer/torchvision-safetensors.test.ts runs this script
into a cache directory when torch and torchvision are available.
"""
import json
import os
import struct
import sys

import torch
import torchvision

DTYPES = {torch.float32: ('F32', '<f4'), torch.int64: ('I64', '<i8')}


def write_safetensors(path, state):
    header = {'__metadata__': {'format': 'pt'}}
    blobs = []
    offset = 0
    for name, t in state.items():
        t = t.detach().cpu().contiguous()
        dtype, np_dtype = DTYPES[t.dtype]
        blob = t.numpy().astype(np_dtype).tobytes()
        header[name] = {'dtype': dtype, 'shape': list(t.shape), 'data_offsets': [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    text = json.dumps(header).encode()
    text += b' ' * (-len(text) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(text)) + text + b''.join(blobs))


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for name in ['resnet18', 'mobilenet_v2']:
        torch.manual_seed(0)
        model = getattr(torchvision.models, name)(weights=None)
        g = torch.Generator().manual_seed(1)
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.copy_(torch.randn(m.num_features, generator=g) * 0.1)
                m.running_var.copy_(torch.rand(m.num_features, generator=g) * 0.5 + 0.75)
                m.num_batches_tracked.fill_(7)
        model.eval()
        x = torch.randn(2, 3, 64, 64, generator=g)
        with torch.no_grad():
            y = model(x)
        write_safetensors(os.path.join(out, f'{name}.safetensors'), model.state_dict())
        x.numpy().astype('<f4').tofile(os.path.join(out, f'{name}.input.bin'))
        y.numpy().astype('<f4').tofile(os.path.join(out, f'{name}.output.bin'))
        with open(os.path.join(out, f'{name}.json'), 'w') as f:
            json.dump({'torch': torch.__version__, 'input': list(x.shape), 'output': list(y.shape)}, f)


if __name__ == '__main__':
    main()
