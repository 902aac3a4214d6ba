#!/usr/bin/env python3
"""Golden fixtures for lib/data/transforms: deterministic torchvision results on a small float image.

Run with the interpreter that has torch + torchvision (torchvision 0.14 here):
    /usr/bin/python3 scripts/golden/transforms.py
Writes test/fixtures/transforms/golden.json, read by test/data/transforms-golden.test.ts.

Every case uses torchvision.transforms.functional on a float32 CHW tensor, so:
- rotate/affine: bilinear grid_sample, zeros outside, centre ((W-1)/2, (H-1)/2) (torchvision's
  tensor path; the PIL path rounds the centre differently);
- resized_crop: F.interpolate bilinear, align_corners=False, antialias=False;
- pad + crop and hflip are exact.
"""
import json
import os

import torch
import torchvision
import torchvision.transforms.functional as F
from torchvision.transforms import InterpolationMode

OUT = os.path.join(os.path.dirname(__file__), '..', '..', 'test', 'fixtures', 'transforms', 'golden.json')


def flat(t):
    return [float(v) for v in t.reshape(-1).tolist()]


def main():
    g = torch.Generator().manual_seed(1234)
    img = torch.rand((3, 7, 9), generator=g, dtype=torch.float32)
    square = torch.rand((2, 8, 8), generator=g, dtype=torch.float32)
    bil = InterpolationMode.BILINEAR
    cases = []

    def add(op, params, inp, out):
        cases.append({'op': op, 'params': params, 'input': inp, 'shape': list(out.shape), 'output': flat(out)})

    add('hflip', {}, 'img', F.hflip(img))
    for angle in (30.0, -17.0, 90.0):
        add('rotate', {'angle': angle}, 'img', F.rotate(img, angle, interpolation=bil))
        add('rotate', {'angle': angle}, 'square', F.rotate(square, angle, interpolation=bil))
    for angle, shear in ((0.0, [12.0, 0.0]), (0.0, [-25.0, 0.0]), (20.0, [10.0, -7.0])):
        add('affine', {'angle': angle, 'shear': shear}, 'img',
            F.affine(img, angle=angle, translate=[0, 0], scale=1.0, shear=shear, interpolation=bil))
    for top, left, h, w, size in ((1, 2, 5, 6, [8, 11]), (0, 0, 7, 9, [4, 5]), (2, 3, 3, 3, [7, 7])):
        add('resized_crop', {'top': top, 'left': left, 'height': h, 'width': w, 'size': size}, 'img',
            F.resized_crop(img, top, left, h, w, size, interpolation=bil, antialias=False))
    for pad, top, left, oh, ow in ((2, 3, 1, 7, 9), (4, 0, 8, 7, 9), (0, 1, 2, 4, 5)):
        add('pad_crop', {'padding': pad, 'top': top, 'left': left, 'height': oh, 'width': ow}, 'img',
            F.crop(F.pad(img, [pad]), top, left, oh, ow))

    doc = {
        'generator': 'scripts/golden/transforms.py',
        'torch': torch.__version__,
        'torchvision': torchvision.__version__,
        'inputs': {
            'img': {'shape': list(img.shape), 'data': flat(img)},
            'square': {'shape': list(square.shape), 'data': flat(square)},
        },
        'cases': cases,
    }
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, 'w') as f:
        json.dump(doc, f)
    print(f'wrote {len(cases)} cases to {os.path.normpath(OUT)}')


if __name__ == '__main__':
    main()
