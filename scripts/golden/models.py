"""Golden fixtures for the model zoo: torchvision's ResNet-18, VGG-11 and MobileNetV2 with the
same weights as convkit's, their outputs and their gradients.

The weights are not stored (VGG-11 alone is 530 MB): every floating tensor of the state dict is
filled by `pattern_fill` below, an integer formula that test/models/pattern.ts reproduces
exactly. Inputs, outputs and the gradients of small tensors are stored whole; for every
parameter the fixture also keeps two summaries of its gradient: the L2 norm and the dot product
with a second pattern (a fixed random projection), which catch any wrong element with high
probability.

Loss: sum(output * r) for a stored r, so d loss / d output = r.

Run: /usr/bin/python3 scripts/golden/models.py
"""
import numpy as np
import torch
import torchvision

from common import Fixture

torch.manual_seed(0)


def pattern(n, k, salt):
    """Values in [-1, 1]: ((i * 7919 + k * 104729 + salt) mod 2001 - 1000) / 1000, exact in float64."""
    i = np.arange(n, dtype=np.int64)
    return (((i * 7919 + k * 104729 + salt) % 2001) - 1000).astype(np.float64) / 1000.0


def pattern_fill(model):
    """Fills the state dict in order: scaled patterns by role (weights by 1/sqrt(fan_in))."""
    sd = model.state_dict()
    k = 0
    for name, t in sd.items():
        if not t.is_floating_point():
            continue
        p = pattern(t.numel(), k, 17)
        if name.endswith("running_var"):
            v = 1.0 + 0.5 * np.abs(p)
        elif name.endswith("running_mean"):
            v = 0.1 * p
        elif t.dim() == 1 and name.endswith("weight"):  # batch-norm gamma
            v = 1.0 + 0.2 * p
        elif t.dim() == 1:  # biases
            v = 0.1 * p
        else:
            fan_in = t[0].numel()
            v = p * (1.7 / np.sqrt(fan_in))
        t.copy_(torch.from_numpy(v.astype(np.float32)).reshape(t.shape))
        k += 1


def grad_summaries(model):
    out = {}
    for k, (name, p) in enumerate(model.named_parameters()):
        g = p.grad.detach().double().numpy().reshape(-1)
        proj = pattern(g.size, k, 29)
        out[name] = [float(np.sqrt((g * g).sum())), float((g * proj).sum())]
    return out


def run(fx, case, model, shape, seed, full_grads, train=False):
    pattern_fill(model)
    model.train(train)
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(shape, generator=g).requires_grad_(True)
    y = model(x)
    r = torch.randn(y.shape, generator=g)
    (y * r).sum().backward()
    params = dict(model.named_parameters())
    tensors = {"x": x, "y": y, "r": r, "dx": x.grad}
    for name in full_grads:
        tensors["grad:" + name] = params[name].grad
    if train:
        for name, b in model.named_buffers():
            if name.endswith("running_mean") or name.endswith("running_var"):
                if name.startswith("layer1.0.") or name.startswith("bn1"):
                    tensors["buffer:" + name] = b
    fx.case(case, op="model", params={"train": train, "grad_summaries": grad_summaries(model)}, **tensors)


fx = Fixture("models")
run(fx, "resnet18_eval", torchvision.models.resnet18(num_classes=10), (2, 3, 64, 64), 1,
    ["conv1.weight", "layer4.1.bn2.weight", "fc.weight", "fc.bias"])
run(fx, "resnet18_train", torchvision.models.resnet18(num_classes=10), (2, 3, 64, 64), 2,
    ["conv1.weight", "bn1.weight", "layer2.0.downsample.0.weight", "fc.bias"],
    train=True)
run(fx, "vgg11_eval", torchvision.models.vgg11(num_classes=10), (2, 3, 32, 32), 3,
    ["features.0.weight", "features.0.bias", "classifier.6.weight", "classifier.6.bias"])
run(fx, "mobilenet_v2_eval", torchvision.models.mobilenet_v2(num_classes=10), (2, 3, 64, 64), 4,
    ["features.0.0.weight", "features.1.conv.0.0.weight", "features.17.conv.3.weight", "classifier.1.weight", "classifier.1.bias"])
fx.write()
