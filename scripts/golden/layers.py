#!/usr/bin/python3
"""Golden fixtures for the built-in layers (lib/nn/layers).

Run with Debian's PyTorch: `/usr/bin/python3 scripts/golden/layers.py`; it rewrites
test/fixtures/layers/{manifest.json,data.bin} (format: scripts/golden/common.py). Seeded and
single-threaded, so reruns with the same torch give the same files. test/nn/layers/golden.test.ts reads
them.

Every case builds one small torch.nn module (default PyTorch initialisation, batch-norm statistics
and affine parameters randomised so they matter) and stores:
  params.module   the convkit architecture ({type, config, children}) that moduleFromJSON() rebuilds:
                  the TypeScript test builds the layer from it, so it also checks the factories;
  params.train    whether the module runs in training mode;
  s0.<name>       the state dict before the forward, by PyTorch's names (loaded with loadStateDict);
  x, y            input and output (Embedding: x holds the indices);
  r               a random tensor; the loss is sum(y * r) (LSTM: + sum(hN * rh) + sum(cN * rc));
  dx, g.<name>    the gradients of that loss wrt the input and every parameter;
  s1.<name>       the state dict after the forward, for modules with buffers (batch norm in training:
                  updated running statistics and num_batches_tracked).
LSTM cases also store h0, c0 (when given), hN, cN, dh0 and dc0.
"""
import os
import sys
import warnings

import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import Fixture  # noqa: E402

warnings.filterwarnings("ignore", message="Using padding='same' with even kernel")
torch.set_num_threads(1)
torch.manual_seed(20240901)
gen = torch.Generator().manual_seed(20240902)


def randn(*shape):
    return torch.randn(shape, generator=gen, dtype=torch.float32)


def rand(*shape):
    return torch.rand(shape, generator=gen, dtype=torch.float32)


fx = Fixture("layers")


def state(prefix, module):
    return {f"{prefix}.{k}": v.detach().clone() for k, v in module.state_dict().items()}


def after(module):
    """The state after the forward, for modules with buffers (the only state a forward changes)."""
    return state("s1", module) if any(True for _ in module.buffers()) else {}


def grads(module):
    return {f"g.{k}": p.grad for k, p in module.named_parameters() if p.grad is not None}


def case(name, module, spec, x, train=False, randomize_bn=True):
    """One forward and backward of `module` on `x`; `spec` is the convkit ModuleJSON."""
    if randomize_bn:
        for m in module.modules():
            if isinstance(m, nn.modules.batchnorm._BatchNorm):
                with torch.no_grad():
                    if m.affine:
                        m.weight.copy_(0.5 + rand(m.num_features))
                        m.bias.copy_(randn(m.num_features))
                    if m.track_running_stats:
                        m.running_mean.copy_(randn(m.num_features) * 0.5)
                        m.running_var.copy_(0.5 + rand(m.num_features))
                        m.num_batches_tracked.fill_(3)
    module.train(train)
    s0 = state("s0", module)
    x = x.clone().requires_grad_(True)
    y = module(x)
    r = randn(*y.shape)
    (y * r).sum().backward()
    fx.case(name, op=spec["type"], params={"module": spec, "train": train},
            x=x, y=y, r=r, dx=x.grad, **s0, **after(module), **grads(module))


def J(type_, children=None, **config):
    spec = {"type": type_, "config": config}
    if children is not None:
        spec["children"] = {str(i): c for i, c in enumerate(children)}
    return spec


# ---------------------------------------------------------------------------------------------
# convolution and linear

case("conv1d", nn.Conv1d(4, 6, 3, stride=2, padding=1),
     J("Conv1d", inChannels=4, outChannels=6, kernelSize=3, stride=2, padding=1), randn(2, 4, 9))
case("conv2d", nn.Conv2d(3, 8, 3, padding=1),
     J("Conv2d", inChannels=3, outChannels=8, kernelSize=3, padding=1), randn(2, 3, 7, 7))
case("conv2d_groups_dilation_nobias",
     nn.Conv2d(4, 6, (3, 2), stride=(2, 1), padding=(1, 0), dilation=(1, 2), groups=2, bias=False),
     J("Conv2d", inChannels=4, outChannels=6, kernelSize=[3, 2], stride=[2, 1], padding=[1, 0], dilation=[1, 2],
       groups=2, bias=False),
     randn(2, 4, 8, 9))
case("conv2d_same_even_kernel", nn.Conv2d(3, 4, 4, padding="same"),
     J("Conv2d", inChannels=3, outChannels=4, kernelSize=4, padding="same"), randn(2, 3, 6, 5))
case("conv2d_depthwise", nn.Conv2d(4, 4, 3, padding=1, groups=4),
     J("Conv2d", inChannels=4, outChannels=4, kernelSize=3, padding=1, groups=4), randn(2, 4, 6, 6))
case("conv3d", nn.Conv3d(2, 3, (2, 3, 3), stride=(1, 2, 2), padding=(0, 1, 1)),
     J("Conv3d", inChannels=2, outChannels=3, kernelSize=[2, 3, 3], stride=[1, 2, 2], padding=[0, 1, 1]),
     randn(2, 2, 4, 6, 6))
case("linear", nn.Linear(7, 5), J("Linear", inFeatures=7, outFeatures=5), randn(3, 4, 7))
case("linear_nobias", nn.Linear(6, 3, bias=False), J("Linear", inFeatures=6, outFeatures=3, bias=False), randn(5, 6))

# ---------------------------------------------------------------------------------------------
# pooling

case("maxpool1d", nn.MaxPool1d(3, stride=2, padding=1), J("MaxPool1d", kernelSize=3, stride=2, padding=1),
     randn(2, 3, 10))
case("maxpool2d_ceil", nn.MaxPool2d(3, stride=2, padding=1, ceil_mode=True),
     J("MaxPool2d", kernelSize=3, stride=2, padding=1, ceilMode=True), randn(2, 3, 8, 8))
case("maxpool2d_dilation", nn.MaxPool2d(2, stride=1, dilation=2),
     J("MaxPool2d", kernelSize=2, stride=1, dilation=2), randn(1, 2, 6, 7))
case("maxpool3d", nn.MaxPool3d(2), J("MaxPool3d", kernelSize=2), randn(1, 2, 4, 4, 4))
case("avgpool1d_exclude_pad", nn.AvgPool1d(3, stride=2, padding=1, count_include_pad=False),
     J("AvgPool1d", kernelSize=3, stride=2, padding=1, countIncludePad=False), randn(2, 3, 10))
case("avgpool2d_ceil", nn.AvgPool2d(3, stride=2, padding=1, ceil_mode=True),
     J("AvgPool2d", kernelSize=3, stride=2, padding=1, ceilMode=True), randn(2, 3, 8, 8))
case("avgpool3d", nn.AvgPool3d((1, 2, 2)), J("AvgPool3d", kernelSize=[1, 2, 2]), randn(1, 2, 3, 4, 6))
case("adaptiveavgpool1d", nn.AdaptiveAvgPool1d(4), J("AdaptiveAvgPool1d", outputSize=4), randn(2, 3, 10))
case("adaptiveavgpool2d", nn.AdaptiveAvgPool2d(3), J("AdaptiveAvgPool2d", outputSize=3), randn(2, 3, 7, 9))
case("adaptiveavgpool2d_none", nn.AdaptiveAvgPool2d((2, None)), J("AdaptiveAvgPool2d", outputSize=[2, None]),
     randn(1, 2, 5, 3))
case("adaptiveavgpool3d", nn.AdaptiveAvgPool3d((1, 2, 2)), J("AdaptiveAvgPool3d", outputSize=[1, 2, 2]),
     randn(2, 2, 3, 5, 4))
case("adaptivemaxpool2d", nn.AdaptiveMaxPool2d((2, 3)), J("AdaptiveMaxPool2d", outputSize=[2, 3]),
     randn(2, 3, 7, 8))

# ---------------------------------------------------------------------------------------------
# activations, flatten, identity

case("relu", nn.ReLU(), J("ReLU"), randn(2, 3, 4))
case("leakyrelu", nn.LeakyReLU(0.2), J("LeakyReLU", negativeSlope=0.2), randn(2, 3, 4))
case("relu6", nn.ReLU6(), J("ReLU6"), randn(2, 3, 4) * 5)
case("sigmoid", nn.Sigmoid(), J("Sigmoid"), randn(2, 3, 4) * 3)
case("tanh", nn.Tanh(), J("Tanh"), randn(2, 3, 4) * 2)
case("gelu", nn.GELU(), J("GELU"), randn(2, 3, 4) * 2)
case("gelu_tanh", nn.GELU(approximate="tanh"), J("GELU", approximate="tanh"), randn(2, 3, 4) * 2)
case("softmax", nn.Softmax(dim=1), J("Softmax", dim=1), randn(2, 5, 3) * 2)
case("logsoftmax", nn.LogSoftmax(dim=-1), J("LogSoftmax", dim=-1), randn(4, 6) * 2)
case("identity", nn.Identity(), J("Identity"), randn(2, 3))
case("flatten", nn.Flatten(), J("Flatten"), randn(2, 3, 2, 2))
case("flatten_0_1", nn.Flatten(0, 1), J("Flatten", startDim=0, endDim=1), randn(2, 3, 4))

# ---------------------------------------------------------------------------------------------
# normalisation

case("batchnorm2d_train", nn.BatchNorm2d(3), J("BatchNorm2d", numFeatures=3), randn(4, 3, 5, 6) * 2 + 1, train=True)
case("batchnorm2d_eval", nn.BatchNorm2d(3), J("BatchNorm2d", numFeatures=3), randn(4, 3, 5, 6) * 2 + 1)
case("batchnorm1d_nc_train", nn.BatchNorm1d(5, momentum=0.3, eps=1e-3),
     J("BatchNorm1d", numFeatures=5, momentum=0.3, eps=1e-3), randn(8, 5), train=True)
case("batchnorm1d_ncl_eval", nn.BatchNorm1d(4), J("BatchNorm1d", numFeatures=4), randn(3, 4, 7))
case("batchnorm1d_ncl_cumulative_train", nn.BatchNorm1d(4, momentum=None),
     J("BatchNorm1d", numFeatures=4, momentum=None), randn(3, 4, 7), train=True)
case("batchnorm3d_train", nn.BatchNorm3d(2), J("BatchNorm3d", numFeatures=2), randn(2, 2, 3, 4, 5), train=True)
case("batchnorm2d_noaffine_train", nn.BatchNorm2d(3, affine=False), J("BatchNorm2d", numFeatures=3, affine=False),
     randn(2, 3, 4, 4), train=True)
case("batchnorm2d_nostats_eval", nn.BatchNorm2d(3, track_running_stats=False),
     J("BatchNorm2d", numFeatures=3, trackRunningStats=False), randn(2, 3, 4, 4))
case("localresponsenorm", nn.LocalResponseNorm(3, alpha=1e-2, beta=0.75, k=2.0),
     J("LocalResponseNorm", size=3, alpha=1e-2, beta=0.75, k=2.0), randn(2, 6, 4, 4) * 2)

# ---------------------------------------------------------------------------------------------
# embedding (x holds the indices; no dx)

emb = nn.Embedding(10, 4, padding_idx=2)
idx = torch.tensor([[1, 2, 3], [2, 9, 1]])
y = emb(idx)
r = randn(*y.shape)
s0 = state("s0", emb)
(y * r).sum().backward()
fx.case("embedding", op="Embedding",
        params={"module": J("Embedding", numEmbeddings=10, embeddingDim=4, paddingIdx=2), "train": False},
        x=idx.float(), y=y, r=r, **s0, **grads(emb))

# ---------------------------------------------------------------------------------------------
# sequential: names 0.weight, 1.running_mean, ...

seq = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                    nn.Linear(4 * 3 * 3, 5))
case("sequential_train", seq,
     J("Sequential", [J("Conv2d", inChannels=3, outChannels=4, kernelSize=3, padding=1), J("BatchNorm2d", numFeatures=4),
                      J("ReLU"), J("MaxPool2d", kernelSize=2), J("Flatten"), J("Linear", inFeatures=36, outFeatures=5)]),
     randn(2, 3, 6, 6), train=True)

# ---------------------------------------------------------------------------------------------
# LSTM


def lstm_case(name, module, spec, x, with_state):
    module.train(False)
    s0 = state("s0", module)
    x = x.clone().requires_grad_(True)
    d = 2 if module.bidirectional else 1
    batched = x.dim() == 3
    b = x.shape[0 if module.batch_first else 1] if batched else None
    shape = (module.num_layers * d, b, module.hidden_size) if batched else (module.num_layers * d, module.hidden_size)
    h0 = randn(*shape).requires_grad_(True) if with_state else None
    c0 = randn(*shape).requires_grad_(True) if with_state else None
    y, (hn, cn) = module(x, (h0, c0)) if with_state else module(x)
    r, rh, rc = randn(*y.shape), randn(*hn.shape), randn(*cn.shape)
    ((y * r).sum() + (hn * rh).sum() + (cn * rc).sum()).backward()
    fx.case(name, op="LSTM", params={"module": spec, "train": False, "withState": with_state},
            x=x, y=y, r=r, rh=rh, rc=rc, hN=hn, cN=cn, dx=x.grad, h0=h0, c0=c0,
            dh0=h0.grad if with_state else None, dc0=c0.grad if with_state else None,
            **s0, **after(module), **grads(module))


lstm_case("lstm_2layer", nn.LSTM(5, 6, num_layers=2), J("LSTM", inputSize=5, hiddenSize=6, numLayers=2),
          randn(7, 3, 5), with_state=False)
lstm_case("lstm_2layer_state", nn.LSTM(5, 6, num_layers=2), J("LSTM", inputSize=5, hiddenSize=6, numLayers=2),
          randn(4, 3, 5), with_state=True)
lstm_case("lstm_2layer_batchfirst", nn.LSTM(5, 6, num_layers=2, batch_first=True),
          J("LSTM", inputSize=5, hiddenSize=6, numLayers=2, batchFirst=True), randn(3, 6, 5), with_state=False)
lstm_case("lstm_2layer_batchfirst_state", nn.LSTM(5, 6, num_layers=2, batch_first=True),
          J("LSTM", inputSize=5, hiddenSize=6, numLayers=2, batchFirst=True), randn(3, 5, 5), with_state=True)
lstm_case("lstm_bidirectional_2layer_state", nn.LSTM(4, 3, num_layers=2, bidirectional=True),
          J("LSTM", inputSize=4, hiddenSize=3, numLayers=2, bidirectional=True), randn(5, 2, 4), with_state=True)
lstm_case("lstm_bidirectional_batchfirst", nn.LSTM(4, 3, bidirectional=True, batch_first=True),
          J("LSTM", inputSize=4, hiddenSize=3, bidirectional=True, batchFirst=True), randn(2, 6, 4), with_state=False)
lstm_case("lstm_nobias", nn.LSTM(3, 4, bias=False), J("LSTM", inputSize=3, hiddenSize=4, bias=False),
          randn(5, 2, 3), with_state=True)
lstm_case("lstm_unbatched", nn.LSTM(3, 4, num_layers=2), J("LSTM", inputSize=3, hiddenSize=4, numLayers=2),
          randn(6, 3), with_state=True)
lstm_case("lstm_long_sequence", nn.LSTM(3, 5), J("LSTM", inputSize=3, hiddenSize=5), randn(37, 2, 3), with_state=False)

fx.write()
