#!/usr/bin/env python3
"""Exports PyTorch models to ONNX for convkit's ONNX importer tests (test/io/onnx-*.test.ts).

    python3 scripts/golden/onnx_models.py torchvision OUT_DIR   # ResNet-18, MobileNetV2, GoogLeNet
    python3 scripts/golden/onnx_models.py fixture OUT_DIR       # the tiny committed fixture

torchvision: each model is randomly initialised with a fixed seed, put in eval mode and exported
with opset 13 (torch.onnx.export's defaults otherwise, so batch norm is folded into the convolutions
as in any real export). Next to `<name>.onnx` it writes `<name>.json`: the input and output shapes
and the torch version, with the float32 little-endian input and output in `<name>.input.bin` and
`<name>.output.bin`. The models are too big to commit, so the test runs this into a cache directory.

fixture: a tiny conv-bn-relu-maxpool-flatten-gemm net (a few KB) exported with
TrainingMode.PRESERVE from eval mode, so BatchNormalization stays a node with its running
statistics as initializers, plus `tiny.json` with an input, the eval output, the gradients of
`sum(out * r)` for every parameter (eval mode), and in training mode the output, the gradients
and the running mean after one forward pass.

torch.onnx.export does not need the `onnx` Python package.
"""
import json
import os
import sys

import torch
import torch.nn as nn


def export(model, x, path):
    torch.onnx.export(model, (x,), path, opset_version=13, input_names=['input'], output_names=['output'])


def torchvision_models(out_dir):
    import torchvision
    specs = [
        ('resnet18', lambda: torchvision.models.resnet18(weights=None)),
        ('mobilenet_v2', lambda: torchvision.models.mobilenet_v2(weights=None)),
        ('googlenet', lambda: torchvision.models.googlenet(weights=None, aux_logits=False, init_weights=True)),
    ]
    for name, build in specs:
        torch.manual_seed(0)
        model = build().eval()
        # Give the batch norms non-trivial running statistics, so folding them is tested.
        with torch.no_grad():
            for m in model.modules():
                if isinstance(m, nn.BatchNorm2d):
                    m.running_mean.uniform_(-0.2, 0.2)
                    m.running_var.uniform_(0.5, 1.5)
        x = torch.randn(1, 3, 64, 64)
        with torch.no_grad():
            y = model(x)
        export(model, x, os.path.join(out_dir, f'{name}.onnx'))
        x.numpy().astype('<f4').tofile(os.path.join(out_dir, f'{name}.input.bin'))
        y.numpy().astype('<f4').tofile(os.path.join(out_dir, f'{name}.output.bin'))
        with open(os.path.join(out_dir, f'{name}.json'), 'w') as f:
            json.dump({'torch': torch.__version__, 'input': list(x.shape), 'output': list(y.shape)}, f)
        print(f'{name}: {tuple(y.shape)}')


class Tiny(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.bn = nn.BatchNorm2d(4)
        self.pool = nn.MaxPool2d(2)
        self.fc = nn.Linear(4 * 4 * 4, 3)

    def forward(self, x):
        x = self.pool(torch.relu(self.bn(self.conv(x))))
        return self.fc(torch.flatten(x, 1))


def flat(t):
    return [round(float(v), 8) for v in t.detach().reshape(-1)]


def fixture(out_dir):
    torch.manual_seed(0)
    model = Tiny()
    with torch.no_grad():
        model.bn.running_mean.uniform_(-0.2, 0.2)
        model.bn.running_var.uniform_(0.5, 1.5)
        model.bn.weight.uniform_(0.5, 1.5)
        model.bn.bias.uniform_(-0.2, 0.2)
    model.eval()
    x = torch.randn(2, 3, 8, 8)
    r = torch.randn(2, 3)
    export_kwargs = dict(opset_version=13, input_names=['input'], output_names=['logits'],
                         training=torch.onnx.TrainingMode.PRESERVE, do_constant_folding=False)
    torch.onnx.export(model, (x,), os.path.join(out_dir, 'tiny.onnx'), **export_kwargs)

    def grads(train):
        model.train(train)
        model.zero_grad()
        y = model(x)
        (y * r).sum().backward()
        return y, {n: flat(p.grad) for n, p in model.named_parameters()}

    y_eval, g_eval = grads(False)
    running_mean_before = model.bn.running_mean.clone()
    y_train, g_train = grads(True)
    out = {
        'torch': torch.__version__,
        'input': {'shape': list(x.shape), 'data': flat(x)},
        'r': {'shape': list(r.shape), 'data': flat(r)},
        'eval': {'output': flat(y_eval), 'grads': g_eval},
        'train': {'output': flat(y_train), 'grads': g_train,
                  'running_mean_before': flat(running_mean_before), 'running_mean': flat(model.bn.running_mean)},
        'shape': list(y_eval.shape),
    }
    with open(os.path.join(out_dir, 'tiny.json'), 'w') as f:
        json.dump(out, f)
    print('fixture written')


if __name__ == '__main__':
    if len(sys.argv) != 3 or sys.argv[1] not in ('torchvision', 'fixture'):
        sys.exit(__doc__)
    os.makedirs(sys.argv[2], exist_ok=True)
    (torchvision_models if sys.argv[1] == 'torchvision' else fixture)(sys.argv[2])
