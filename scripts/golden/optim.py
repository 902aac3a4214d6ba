#!/usr/bin/python3
"""Golden fixtures for convkit's optim package: optimisers, learning-rate schedulers, gradient clipping.

Run with Debian's PyTorch: `/usr/bin/python3 scripts/golden/optim.py`. It rewrites
test/fixtures/optim/{manifest.json,data.bin} (format: scripts/golden/common.py). Seeded, so reruns with
the same torch give the same files. Tests: test/optim/golden-*.test.ts (tolerances stated there).

Optimiser cases (op = the convkit class: "SGD", "Adam", "AdamW", "RMSprop", "Adagrad"):
  A fixed nonconvex problem over four parameters of odd shapes ([3, 5], [7], [2, 3, 2], [1]),
    loss = sum_i sum(sin(3 p_i + i) + (0.25 + 0.25 i) p_i^2) + 0.1 sum(p_0) sum(p_1),
  run for STEPS steps with torch.optim's single-tensor (foreach=False) code. Each step computes the
  gradient at torch's current parameters, optionally drops some gradients (p.grad = None), then steps.
  Stored per parameter i:
    p{i}_init   the starting values
    g{i}        the gradient fed at every step, stacked: [STEPS, *shape] (zeros where it was None)
    p{i}_traj   the parameter after every step, stacked: [STEPS, *shape]
  params:
    options     the optimiser's constructor options, camelCase (convkit's names)
    groups      null (one group of every parameter) or [{"params": [indices], ...group options}]
    frozen      indices of parameters with requires_grad=False (they never get a gradient)
    nullGrad    {index: [steps]}: steps at which that parameter's gradient is None
    scheduler   null or {"type", "options"}: a scheduler stepped after every optimiser step
    stateKeys   {index: [keys]}: the camelCase state keys torch holds per parameter at the end
    stepCounts  {index: step}: torch's per-parameter step counter at the end (Adam, AdamW, Adagrad)
  The test feeds the stored gradients (so the two trajectories never feed back into the loss) and
  compares every step.

Scheduler cases (op = "scheduler"): an SGD (momentum 0.9) or Adam optimiser with two groups
(lr 0.1 and 0.01), the scheduler built on it, then STEPS_SCHED x (optimizer.step(); scheduler.step()).
params.lrs[k] = [lr of each group] after construction (k = 0) and after step k; params.momenta (OneCycleLR)
likewise for the SGD momentum or Adam beta1. ReduceLROnPlateau steps on params.metrics. params.error
names the message torch raises on one further step (OneCycleLR past totalSteps). Values are Python
floats, kept exactly in the JSON.

Clipping cases (op = "clipGradNorm" / "clipGradValue"): gradients g0.. before (g{i}) and after
(c{i}) clipping, params.total = the returned total norm.
"""
import math
import os
import sys
import warnings

import torch
from torch.nn.utils import clip_grad_norm_, clip_grad_value_
from torch.optim import SGD, Adagrad, Adam, AdamW, RMSprop, lr_scheduler as sched

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import Fixture  # noqa: E402

warnings.simplefilter("ignore")  # the epoch-argument deprecation warnings SequentialLR triggers
gen = torch.Generator().manual_seed(20250301)
SHAPES = [(3, 5), (7,), (2, 3, 2), (1,)]
STEPS = 20
STEPS_SCHED = 30

SNAKE = {
    "weightDecay": "weight_decay", "lrDecay": "lr_decay", "initialAccumulatorValue": "initial_accumulator_value",
    "stepSize": "step_size", "tMax": "T_max", "etaMin": "eta_min", "startFactor": "start_factor",
    "endFactor": "end_factor", "totalIters": "total_iters", "maxLr": "max_lr", "totalSteps": "total_steps",
    "stepsPerEpoch": "steps_per_epoch", "pctStart": "pct_start", "annealStrategy": "anneal_strategy",
    "cycleMomentum": "cycle_momentum", "baseMomentum": "base_momentum", "maxMomentum": "max_momentum",
    "divFactor": "div_factor", "finalDivFactor": "final_div_factor", "threePhase": "three_phase",
    "thresholdMode": "threshold_mode", "minLr": "min_lr",
}
CAMEL_STATE = {"momentum_buffer": "momentumBuffer", "exp_avg": "expAvg", "exp_avg_sq": "expAvgSq",
               "max_exp_avg_sq": "maxExpAvgSq", "square_avg": "squareAvg", "grad_avg": "gradAvg",
               "sum": "sum", "step": "step"}
OPTIMIZERS = {"SGD": SGD, "Adam": Adam, "AdamW": AdamW, "RMSprop": RMSprop, "Adagrad": Adagrad}


def snake(options):
    return {SNAKE.get(k, k): v for k, v in options.items()}


def randn(*shape):
    return torch.randn(tuple(shape), generator=gen, dtype=torch.float32)


def loss_fn(ps):
    loss = torch.zeros(())
    for i, p in enumerate(ps):
        loss = loss + torch.sin(3 * p + i).sum() + (0.25 + 0.25 * i) * (p * p).sum()
    return loss + 0.1 * ps[0].sum() * ps[1].sum()


# LambdaLR's functions, by name (test/optim/golden-schedulers.test.ts defines the same ones).
LAMBDAS = {
    "poly": lambda e: (1 - e / 40) ** 0.9,
    "inverse": lambda e: 1 / (1 + 0.1 * e),
    "warmupStep": lambda e: (e + 1) / 5 if e < 4 else 0.5 ** ((e - 4) // 6),
}


def make_scheduler(opt, spec, built=None):
    kind, options = spec["type"], snake(spec["options"])
    if kind == "SequentialLR":
        subs = [make_scheduler(opt, s) for s in options["schedulers"]]
        return sched.SequentialLR(opt, subs, milestones=options["milestones"])
    if kind == "LambdaLR":
        names = options["lrLambda"]
        fns = [LAMBDAS[n] for n in names] if isinstance(names, list) else LAMBDAS[names]
        return sched.LambdaLR(opt, fns)
    return getattr(sched, kind)(opt, **options)


fx = Fixture("optim")


def optim_case(name, op, options, groups=None, frozen=(), null_grad=None, scheduler=None):
    null_grad = null_grad or {}
    init = [randn(*s) for s in SHAPES]
    ps = [t.clone().requires_grad_(i not in frozen) for i, t in enumerate(init)]
    kwargs = snake(options)
    if groups is None:
        opt = OPTIMIZERS[op](ps, **kwargs)
    else:
        opt = OPTIMIZERS[op]([dict(snake({k: v for k, v in g.items() if k != "params"}),
                                   params=[ps[i] for i in g["params"]]) for g in groups], **kwargs)
    sch = make_scheduler(opt, scheduler) if scheduler else None
    grads = [[] for _ in ps]
    traj = [[] for _ in ps]
    for step in range(STEPS):
        opt.zero_grad(set_to_none=True)
        loss_fn(ps).backward()
        for i, p in enumerate(ps):
            if step in null_grad.get(i, []):
                p.grad = None
            grads[i].append(p.grad.clone() if p.grad is not None else torch.zeros(SHAPES[i]))
        opt.step()
        if sch is not None:
            sch.step()
        for i, p in enumerate(ps):
            traj[i].append(p.detach().clone())
    state_keys = {}
    step_counts = {}
    for i, p in enumerate(ps):
        if p in opt.state:
            st = opt.state[p]
            state_keys[i] = sorted(CAMEL_STATE[k] for k, v in st.items() if v is not None)
            if "step" in st:
                step_counts[i] = float(st["step"])
    if op == "Adagrad":
        # torch creates Adagrad's state for every parameter in the constructor; convkit lazily, on the
        # first gradient (see lib/optim/adagrad.ts), so only parameters that stepped have state.
        state_keys = {i: k for i, k in state_keys.items() if step_counts[i] > 0}
        step_counts = {i: c for i, c in step_counts.items() if c > 0}
    tensors = {}
    for i in range(len(ps)):
        tensors[f"p{i}_init"] = init[i]
        tensors[f"g{i}"] = torch.stack(grads[i])
        tensors[f"p{i}_traj"] = torch.stack(traj[i])
    fx.case(name, op=op, params={
        "options": options, "groups": groups, "frozen": list(frozen),
        "nullGrad": {str(k): v for k, v in null_grad.items()}, "scheduler": scheduler, "steps": STEPS,
        "stateKeys": {str(k): v for k, v in state_keys.items()},
        "stepCounts": {str(k): v for k, v in step_counts.items()},
    }, **tensors)


INTERMITTENT = {3: [1, 2, 5, 9, 10, 11, 17]}

# SGD
optim_case("sgd_plain", "SGD", {"lr": 0.1})
optim_case("sgd_momentum", "SGD", {"lr": 0.05, "momentum": 0.9}, null_grad=INTERMITTENT)
optim_case("sgd_momentum_dampening_wd", "SGD", {"lr": 0.05, "momentum": 0.9, "dampening": 0.3, "weightDecay": 0.01})
optim_case("sgd_nesterov_wd", "SGD", {"lr": 0.03, "momentum": 0.8, "nesterov": True, "weightDecay": 1e-3})
optim_case("sgd_maximize", "SGD", {"lr": 0.01, "momentum": 0.5, "maximize": True})
optim_case("sgd_groups_frozen", "SGD", {"lr": 0.1, "momentum": 0.9},
           groups=[{"params": [0, 1], "lr": 0.01, "weightDecay": 0.05}, {"params": [2, 3], "dampening": 0.5}],
           frozen=[2])
# Adam
optim_case("adam_default", "Adam", {"lr": 1e-2}, null_grad=INTERMITTENT)
optim_case("adam_amsgrad_wd", "Adam", {"lr": 2e-2, "betas": [0.8, 0.99], "weightDecay": 0.1, "amsgrad": True})
optim_case("adam_maximize_eps", "Adam", {"lr": 5e-3, "eps": 1e-3, "maximize": True})
optim_case("adam_groups_frozen", "Adam", {"lr": 1e-2},
           groups=[{"params": [0], "lr": 1e-3}, {"params": [1, 2, 3], "weightDecay": 0.01, "amsgrad": True}],
           frozen=[1], null_grad=INTERMITTENT)
# AdamW
optim_case("adamw_default", "AdamW", {"lr": 1e-2})
optim_case("adamw_amsgrad", "AdamW", {"lr": 3e-2, "weightDecay": 0.1, "amsgrad": True, "betas": [0.85, 0.995]},
           null_grad=INTERMITTENT)
optim_case("adamw_groups", "AdamW", {"lr": 1e-2},
           groups=[{"params": [0, 2], "lr": 1e-3, "weightDecay": 0.0}, {"params": [1, 3], "weightDecay": 0.5}])
# RMSprop
optim_case("rmsprop_default", "RMSprop", {"lr": 1e-2})
optim_case("rmsprop_centered_momentum_wd", "RMSprop",
           {"lr": 5e-3, "alpha": 0.9, "momentum": 0.8, "centered": True, "weightDecay": 0.01}, null_grad=INTERMITTENT)
optim_case("rmsprop_momentum", "RMSprop", {"lr": 1e-3, "momentum": 0.9, "eps": 1e-6})
optim_case("rmsprop_centered_maximize", "RMSprop", {"lr": 1e-3, "centered": True, "maximize": True})
# Adagrad
optim_case("adagrad_default", "Adagrad", {"lr": 0.1})
optim_case("adagrad_lr_decay_wd_init", "Adagrad",
           {"lr": 0.2, "lrDecay": 0.05, "weightDecay": 0.01, "initialAccumulatorValue": 0.1, "eps": 1e-6},
           null_grad=INTERMITTENT)
optim_case("adagrad_groups_frozen", "Adagrad", {"lr": 0.1},
           groups=[{"params": [0, 1], "lrDecay": 0.1}, {"params": [2, 3], "lr": 0.05}], frozen=[3])
# Optimisers driven by a scheduler that also writes momentum (OneCycleLR) or only lr.
optim_case("sgd_onecycle", "SGD", {"lr": 0.1, "momentum": 0.9},
           scheduler={"type": "OneCycleLR", "options": {"maxLr": 0.2, "totalSteps": STEPS}})
optim_case("adam_onecycle_linear", "Adam", {"lr": 1e-2},
           scheduler={"type": "OneCycleLR",
                      "options": {"maxLr": 0.05, "totalSteps": STEPS + 5, "annealStrategy": "linear"}})
optim_case("adamw_warmup_cosine", "AdamW", {"lr": 2e-2},
           scheduler={"type": "SequentialLR", "options": {
               "schedulers": [{"type": "LinearLR", "options": {"startFactor": 0.1, "totalIters": 5}},
                              {"type": "CosineAnnealingLR", "options": {"tMax": 15}}],
               "milestones": [5]}})


def sched_case(name, spec, optimizer="SGD", metrics=None, steps=STEPS_SCHED, extra_step_error=False):
    ps = [torch.zeros(2, requires_grad=True), torch.zeros(3, requires_grad=True)]
    groups = [{"params": [ps[0]], "lr": 0.1}, {"params": [ps[1]], "lr": 0.01}]
    if optimizer == "SGD":
        opt = SGD(groups, lr=0.1, momentum=0.9)
    else:
        opt = Adam(groups, lr=0.1, betas=(0.9, 0.999))

    def momenta():
        return [g["momentum"] if optimizer == "SGD" else g["betas"][0] for g in opt.param_groups]

    s = make_scheduler(opt, spec)
    lrs = [[g["lr"] for g in opt.param_groups]]
    moms = [momenta()]
    last = [list(s.get_last_lr())] if spec["type"] != "ReduceLROnPlateau" else []
    for k in range(steps):
        opt.step()
        if metrics is not None:
            s.step(metrics[k])
        else:
            s.step()
        lrs.append([g["lr"] for g in opt.param_groups])
        moms.append(momenta())
        last.append(list(s._last_lr if spec["type"] == "ReduceLROnPlateau" else s.get_last_lr()))
    error = None
    if extra_step_error:
        try:
            opt.step()
            s.step()
        except ValueError as e:
            error = str(e)
    params = {"scheduler": spec, "optimizer": optimizer, "lrs": lrs, "lastLrs": last, "steps": steps}
    if spec["type"] == "OneCycleLR":
        params["momenta"] = moms
    if metrics is not None:
        params["metrics"] = metrics
    if error is not None:
        params["error"] = error
    fx.case(name, op="scheduler", params=params)


sched_case("step_lr", {"type": "StepLR", "options": {"stepSize": 4, "gamma": 0.5}})
sched_case("multistep_lr_repeated", {"type": "MultiStepLR", "options": {"milestones": [3, 3, 8, 20], "gamma": 0.3}})
sched_case("exponential_lr", {"type": "ExponentialLR", "options": {"gamma": 0.9}})
sched_case("cosine_lr", {"type": "CosineAnnealingLR", "options": {"tMax": 30, "etaMin": 1e-4}})
sched_case("cosine_lr_past_tmax", {"type": "CosineAnnealingLR", "options": {"tMax": 7, "etaMin": 1e-3}})
sched_case("linear_lr_warmup", {"type": "LinearLR", "options": {"startFactor": 0.25, "totalIters": 8}})
sched_case("linear_lr_decay", {"type": "LinearLR", "options": {"startFactor": 1.0, "endFactor": 0.1, "totalIters": 10}})
sched_case("lambda_lr_shared", {"type": "LambdaLR", "options": {"lrLambda": "poly"}})
sched_case("lambda_lr_per_group", {"type": "LambdaLR", "options": {"lrLambda": ["inverse", "warmupStep"]}})
sched_case("onecycle_cos_sgd", {"type": "OneCycleLR", "options": {"maxLr": [0.5, 0.05], "totalSteps": 30}},
           extra_step_error=True)
sched_case("onecycle_linear_three_phase_adam",
           {"type": "OneCycleLR", "options": {"maxLr": 0.3, "epochs": 5, "stepsPerEpoch": 6, "annealStrategy": "linear",
                                              "threePhase": True, "pctStart": 0.25, "divFactor": 10.0,
                                              "finalDivFactor": 100.0, "baseMomentum": 0.8, "maxMomentum": 0.9}},
           optimizer="Adam")
sched_case("onecycle_no_momentum", {"type": "OneCycleLR",
                                    "options": {"maxLr": 0.4, "totalSteps": 40, "cycleMomentum": False, "pctStart": 0.4}})
sched_case("sequential_warmup_cosine", {"type": "SequentialLR", "options": {
    "schedulers": [{"type": "LinearLR", "options": {"startFactor": 0.1, "totalIters": 5}},
                   {"type": "CosineAnnealingLR", "options": {"tMax": 25, "etaMin": 1e-4}}],
    "milestones": [5]}})
sched_case("sequential_three", {"type": "SequentialLR", "options": {
    "schedulers": [{"type": "ExponentialLR", "options": {"gamma": 0.8}},
                   {"type": "StepLR", "options": {"stepSize": 3, "gamma": 0.5}},
                   {"type": "LambdaLR", "options": {"lrLambda": "poly"}}],
    "milestones": [4, 12]}})
METRICS_MIN = [1.0, 0.9, 0.95, 0.91, 0.92, 0.89, 0.9, 0.9, 0.9, 0.9, 0.7, 0.71, 0.72, 0.73, 0.74, 0.69, 0.6999,
               0.70, 0.71, 0.72, 0.73, 0.74, 0.75, 0.76, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5]
sched_case("plateau_min_rel", {"type": "ReduceLROnPlateau", "options": {
    "factor": 0.5, "patience": 2, "cooldown": 1, "minLr": [0.01, 0.004]}}, metrics=METRICS_MIN)
METRICS_MAX = [0.1, 0.2, 0.22, 0.26, 0.3, 0.31, 0.32, 0.33, 0.4, 0.41, 0.42, 0.43, 0.44, 0.45, 0.46, 0.47, 0.48,
               0.49, 0.5, 0.5, 0.5, 0.5, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6]
sched_case("plateau_max_abs", {"type": "ReduceLROnPlateau", "options": {
    "mode": "max", "factor": 0.3, "patience": 1, "threshold": 0.05, "thresholdMode": "abs", "minLr": 1e-3,
    "eps": 1e-4}}, metrics=METRICS_MAX)


def clip_case(name, op, arg, norm_type=None, scale=1.0, with_none=False):
    gs = [randn(*s) * scale for s in SHAPES]
    ps = [torch.zeros(s, requires_grad=True) for s in SHAPES]
    for p, g in zip(ps, gs):
        p.grad = g.clone()
    if with_none:
        ps[1].grad = None
    tensors = {f"g{i}": g for i, g in enumerate(gs)}
    params = {"arg": arg, "noGrad": [1] if with_none else []}
    if op == "clipGradNorm":
        total = clip_grad_norm_(ps, arg, norm_type=norm_type)
        params["normType"] = "inf" if norm_type == math.inf else norm_type
        params["total"] = float(total)
    else:
        clip_grad_value_(ps, arg)
    for i, p in enumerate(ps):
        if p.grad is not None:
            tensors[f"c{i}"] = p.grad
    fx.case(name, op=op, params=params, **tensors)


clip_case("clip_norm2_clipped", "clipGradNorm", 1.0, 2.0)
clip_case("clip_norm2_unclipped", "clipGradNorm", 100.0, 2.0)
clip_case("clip_norm2_none_grad", "clipGradNorm", 0.5, 2.0, with_none=True)
clip_case("clip_norminf_clipped", "clipGradNorm", 0.75, math.inf, scale=3.0)
clip_case("clip_norminf_unclipped", "clipGradNorm", 50.0, math.inf)
clip_case("clip_norm1_clipped", "clipGradNorm", 2.0, 1.0)
clip_case("clip_norm3_clipped", "clipGradNorm", 1.5, 3.0, scale=2.0)
clip_case("clip_value", "clipGradValue", 0.6, with_none=True)

fx.write()
