#!/usr/bin/env python3
"""Peer for `convkit bench train`: one row of whole-model training or inference in PyTorch.

Usage:
  /usr/bin/python3 torch_train.py run '<spec json>'
  /usr/bin/python3 torch_train.py export <dir> '[{"model": ..., "num_classes": ..., "input": [c, h, w]}, ...]'

`run` takes the spec the convkit worker takes (lib/bench/train.ts, TrainWorkerSpec):
  kind: "train" | "infer" | "leak", model: "lenet5" | "cifar_net" | "resnet18" | "mobilenet_v2",
  numClasses, input [c, h, w], batch, threads, warmup, minSeconds, minRuns, maxRuns,
  steps and sampleEvery (leak)
and prints one JSON object: {"torch", "threads", "blas_capped", "img_per_s", "runs", "peak_rss_mb",
"loss", "rss"?}. Run one process per row so that peak_rss_mb (getrusage ru_maxrss) is that row's.

A training step is zero_grad (set_to_none, as convkit's zeroGrad), forward, cross entropy against
random integer labels (one of 16 label sets in turn, the input batch fixed), backward, SGD step
(lr 0.01, momentum 0.9), the model in train mode.
Inference runs under torch.no_grad() in eval mode. Timing matches the convkit side: `warmup` calls,
then timed calls until minSeconds have passed (at least minRuns, at most maxRuns), median.

PyTorch's OpenMP pool is set to `threads`; its BLAS pool (Debian's torch links OpenBLAS) is capped at
one thread with threadpoolctl, since the two pools otherwise fight over the cores and small models
slow down up to 3x. blas_capped is false when threadpoolctl is missing.

`export` writes <dir>/<model>.onnx for each model (eval mode, batch dimension dynamic, opset 17) for
the onnxruntime-node rows, and prints {"files": {"<model>-<num_classes>": path}}. torch.onnx.export needs no onnx
package.
"""
import json
import os
import resource
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


LABEL_SETS = 16


def build(name, num_classes):
    """The benchmark's models, defined as lib/bench/train-models.ts defines them."""
    if name == "lenet5":
        # models.lenet5() defaults: ReLU, max pooling, 28x28 input padded by 2 in conv1.
        return nn.Sequential(
            nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(16, 120, 5), nn.ReLU(),
            nn.Flatten(),
            nn.Linear(120, 84), nn.ReLU(),
            nn.Linear(84, num_classes),
        )
    if name == "cifar_net":
        return nn.Sequential(
            nn.Conv2d(3, 32, 3, padding=1), nn.ReLU(),
            nn.Conv2d(32, 32, 3, padding=1), nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(),
            nn.Conv2d(64, 64, 3, padding=1), nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Linear(64 * 8 * 8, 512), nn.ReLU(),
            nn.Linear(512, num_classes),
        )
    import torchvision
    if name == "resnet18":
        return torchvision.models.resnet18(num_classes=num_classes)
    if name == "mobilenet_v2":
        return torchvision.models.mobilenet_v2(num_classes=num_classes)
    raise ValueError(f"unknown model {name!r}")


def limit_threads(threads):
    torch.set_num_threads(threads)
    try:
        from threadpoolctl import threadpool_limits
        return threadpool_limits(1, user_api="blas")
    except Exception:
        return None


def rss_mb():
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def peak_rss_mb():
    # ru_maxrss is in kilobytes on Linux.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def median_seconds(fn, spec):
    for _ in range(spec["warmup"]):
        fn()
    times = []
    total = 0.0
    while len(times) < spec["minRuns"] or (total < spec["minSeconds"] and len(times) < spec["maxRuns"]):
        t0 = time.perf_counter()
        fn()
        dt = time.perf_counter() - t0
        times.append(dt)
        total += dt
    times.sort()
    return times[len(times) // 2], len(times)


def run(spec):
    limiter = limit_threads(spec["threads"])
    torch.manual_seed(0)
    model = build(spec["model"], spec["numClasses"])
    batch = spec["batch"]
    x = torch.randn([batch] + list(spec["input"]))
    out = {"torch": torch.__version__, "threads": torch.get_num_threads(), "blas_capped": limiter is not None}

    if spec["kind"] == "infer":
        model.eval()

        def infer():
            with torch.no_grad():
                model(x)

        median, runs = median_seconds(infer, spec)
        out.update(img_per_s=batch / median, runs=runs, peak_rss_mb=peak_rss_mb(), loss=None)
        return out

    model.train()
    # A different label set each step (16 in turn, as the convkit side), so that the model cannot
    # memorise the one fixed input batch (its loss would run to zero, its gradients to denormals).
    labels = [torch.randint(0, spec["numClasses"], (batch,)) for _ in range(LABEL_SETS)]
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    last = {"loss": float("nan"), "n": 0}

    def step():
        y = labels[last["n"] % LABEL_SETS]
        last["n"] += 1
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        last["loss"] = loss.item()

    if spec["kind"] == "leak":
        samples = []
        t0 = time.perf_counter()
        for i in range(1, spec["steps"] + 1):
            step()
            if i % spec["sampleEvery"] == 0:
                samples.append({"step": i, "rssMb": rss_mb()})
        seconds = time.perf_counter() - t0
        out.update(img_per_s=spec["steps"] * batch / seconds, runs=spec["steps"], peak_rss_mb=peak_rss_mb(),
                   loss=last["loss"], rss=samples)
        return out

    median, runs = median_seconds(step, spec)
    out.update(img_per_s=batch / median, runs=runs, peak_rss_mb=peak_rss_mb(), loss=last["loss"])
    return out


def export(directory, models):
    files = {}
    for m in models:
        model = build(m["model"], m["num_classes"]).eval()
        path = os.path.join(directory, f'{m["model"]}-{m["num_classes"]}.onnx')
        dummy = torch.randn([1] + list(m["input"]))
        torch.onnx.export(model, dummy, path, opset_version=17, input_names=["input"], output_names=["output"],
                          dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}})
        files[f'{m["model"]}-{m["num_classes"]}'] = path
    return {"torch": torch.__version__, "files": files}


def main():
    if len(sys.argv) >= 3 and sys.argv[1] == "run":
        print(json.dumps(run(json.loads(sys.argv[2]))))
    elif len(sys.argv) >= 4 and sys.argv[1] == "export":
        print(json.dumps(export(sys.argv[2], json.loads(sys.argv[3]))))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
