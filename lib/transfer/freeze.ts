/**
 * Freezing a pretrained backbone: {@link freezeBackbone} (everything but the head, or everything
 * before a named module), frozen batch norm kept in eval mode ({@link keepFrozenBatchNormInEval}),
 * parameter groups with a lower backbone learning rate ({@link backboneParamGroups}) and gradual
 * unfreezing during `fit` ({@link unfreezeSchedule}).
 */
import { ArgumentError, invalidArgument } from '../errors.js';
import { Module } from '../nn/module.js';
import type { Optimizer, ParamGroupInput } from '../optim/optimizer.js';
import type { Tensor } from '../tensor/tensor.js';
import type { Callback, EpochRecord, FitContext } from '../train/callbacks.js';
import { findHead } from './head.js';

/** Options of {@link freezeBackbone}. */
export interface FreezeOptions {
  /**
   * The first module (dotted path, `'layer4'`) left trainable: every parameter registered before
   * it is frozen, it and everything after it train. Default: freeze everything but the head.
   */
  until?: string;
}

/** What {@link freezeBackbone} did, by parameter name. */
export interface FreezeResult {
  frozen: string[];
  trainable: string[];
}

function headPaths(model: Module): string[] {
  const head = findHead(model);
  return [head.path, ...head.auxPaths];
}

function under(name: string, path: string): boolean {
  return path === '' || name === path || name.startsWith(`${path}.`);
}

/**
 * Freezes the backbone of `model` in place: with `until`, every parameter registered (depth first,
 * as `namedParameters()` lists them) before the first parameter of that module; without it, every
 * parameter outside the classifier head (see `findHead`). The others are made trainable. Frozen
 * batch norm layers then stay in eval mode (see {@link keepFrozenBatchNormInEval}).
 * @throws ArgumentError for an unknown `until` module, or one without parameters.
 */
export function freezeBackbone(model: Module, options: FreezeOptions = {}): FreezeResult {
  if (!(model instanceof Module)) throw invalidArgument('the model of freezeBackbone()', 'a Module', model);
  const params = model.namedParameters();
  let isFrozen: (name: string, index: number) => boolean;
  if (options.until !== undefined) {
    const until = options.until;
    if (typeof until !== 'string' || until === '') throw invalidArgument('options.until of freezeBackbone()', 'a module path such as layer4', until);
    model.getModule(until); // throws for an unknown path, naming it
    const first = params.findIndex(([name]) => under(name, until));
    if (first < 0) throw new ArgumentError(`freezeBackbone: module '${until}' has no parameters to start training from`);
    isFrozen = (_name, i) => i < first;
  } else {
    const heads = headPaths(model);
    isFrozen = (name) => !heads.some((h) => under(name, h));
  }
  const result: FreezeResult = { frozen: [], trainable: [] };
  params.forEach(([name, p], i) => {
    p.requiresGrad = !isFrozen(name, i);
    (p.requiresGrad ? result.trainable : result.frozen).push(name);
  });
  keepFrozenBatchNormInEval(model);
  return result;
}

/** True for a batch-norm-like module: no children, and a running-mean buffer. */
function isBatchNorm(m: Module): boolean {
  return m.children().length === 0 && m.namedBuffers().some(([n]) => /^running_?mean$/i.test(n));
}

/** The mode `train()`/`eval()` last set on each watched batch norm layer (its `training` may read false). */
const requested = new WeakMap<Module, boolean>();

/** The training flag `train()`/`eval()` last set on `m` (differs from `m.training` for a frozen, watched batch norm). @internal */
export function requestedMode(m: Module): boolean {
  return requested.get(m) ?? m.training;
}

/**
 * Keeps every frozen batch norm layer of `model` in eval mode: its `training` flag reads false
 * while all of its parameters are frozen, whatever `model.train()` sets, so a training step
 * normalises with the pretrained running statistics and leaves them unchanged (the usual
 * fine-tuning practice; PyTorch users override `train()` for it). The flag follows `train()` again
 * as soon as a parameter is unfrozen (gradual unfreezing). Layers without affine parameters are
 * left alone. Idempotent; returns the paths of the batch norm layers it watches.
 *
 * ONNX models run batch normalisation inside the graph with the model's own flag: keep an
 * imported ONNX backbone in `eval()` instead.
 */
export function keepFrozenBatchNormInEval(model: Module): string[] {
  if (!(model instanceof Module)) throw invalidArgument('the model of keepFrozenBatchNormInEval()', 'a Module', model);
  const out: string[] = [];
  for (const [path, m] of model.namedModules()) {
    if (!isBatchNorm(m)) continue;
    const params = m.parameters();
    if (params.length === 0) continue;
    out.push(path);
    if (requested.has(m)) continue;
    requested.set(m, m.training);
    Object.defineProperty(m, 'training', {
      configurable: true,
      enumerable: true,
      get: () => requested.get(m) === true && params.some((p) => p.requiresGrad),
      set: (v: boolean) => {
        requested.set(m, v);
      },
    });
  }
  return out;
}

/** Options of {@link backboneParamGroups}. */
export interface ParamGroupsOptions {
  /** The head's learning rate. */
  lr: number;
  /** The backbone's learning rate as a fraction of `lr` (default 0.1). */
  backboneLrScale?: number;
}

/**
 * Two optimiser parameter groups: the backbone (every parameter outside the head, frozen ones
 * included, at `lr * backboneLrScale`) and the head (at `lr`). Frozen parameters get no gradient,
 * so the optimiser skips them until they are unfrozen: gradual unfreezing then needs no new group.
 *
 * ```ts
 * const opt = new SGD(backboneParamGroups(model, { lr: 0.01 }), { lr: 0.01, momentum: 0.9 });
 * ```
 */
export function backboneParamGroups(model: Module, options: ParamGroupsOptions): ParamGroupInput[] {
  const lr = options?.lr;
  if (typeof lr !== 'number' || !(lr > 0)) throw invalidArgument('options.lr of backboneParamGroups()', 'a positive number', lr);
  const scale = options.backboneLrScale ?? 0.1;
  if (typeof scale !== 'number' || !(scale >= 0)) throw invalidArgument('options.backboneLrScale of backboneParamGroups()', 'a number >= 0', scale);
  const heads = headPaths(model);
  const head: Tensor[] = [];
  const backbone: Tensor[] = [];
  for (const [name, p] of model.namedParameters()) (heads.some((h) => under(name, h)) ? head : backbone).push(p);
  const groups: ParamGroupInput[] = [];
  if (backbone.length > 0) groups.push({ params: backbone, lr: lr * scale });
  groups.push({ params: head, lr });
  return groups;
}

/** One step of {@link unfreezeSchedule}. */
export interface UnfreezeStage {
  /** The epoch (0-based) from which the modules train. */
  epoch: number;
  /** Module paths to unfreeze (`'layer4'`, or several). */
  modules: string | string[];
}

/** Options of {@link unfreezeSchedule}. */
export interface UnfreezeOptions {
  stages: UnfreezeStage[];
  /**
   * Learning rate of the group added for parameters the optimiser does not hold yet (default: the
   * smallest lr among its groups, i.e. the backbone's). With {@link backboneParamGroups} every
   * parameter is already held and no group is added.
   */
  lr?: number;
}

/** The callback {@link unfreezeSchedule} returns: `unfrozen` lists the stages applied so far. */
export interface UnfreezeCallback extends Callback {
  readonly unfrozen: string[];
}

/**
 * A `fit` callback for gradual unfreezing: before epoch `stage.epoch` it unfreezes the stage's
 * modules (their frozen batch norm layers follow `train()` again) and adds to the optimiser, with
 * the lower backbone lr, any of their parameters it does not hold. Stages due at the start
 * (epoch 0, or an epoch already reached by a resumed run) are applied in `onTrainBegin`.
 *
 * ```ts
 * await fit(model, { ..., callbacks: [unfreezeSchedule({ stages: [{ epoch: 2, modules: 'layer4' }, { epoch: 4, modules: 'layer3' }] })] });
 * ```
 * Added groups are not known to a scheduler built earlier; build the optimiser from
 * {@link backboneParamGroups} when a scheduler is used.
 */
export function unfreezeSchedule(options: UnfreezeOptions): UnfreezeCallback {
  if (typeof options !== 'object' || options === null || !Array.isArray(options.stages)) {
    throw invalidArgument('the options of unfreezeSchedule()', 'an object with a stages list', options);
  }
  const stages = options.stages.map((s, i) => {
    if (typeof s !== 'object' || s === null || !Number.isInteger(s.epoch) || s.epoch < 0) {
      throw invalidArgument(`stages[${i}] of unfreezeSchedule()`, '{ epoch: integer >= 0, modules }', s);
    }
    const modules = typeof s.modules === 'string' ? [s.modules] : s.modules;
    if (!Array.isArray(modules) || modules.length === 0 || !modules.every((m) => typeof m === 'string')) {
      throw invalidArgument(`stages[${i}].modules of unfreezeSchedule()`, 'a module path or a list of them', s.modules);
    }
    return { epoch: s.epoch, modules };
  });
  if (options.lr !== undefined && !(typeof options.lr === 'number' && options.lr > 0)) {
    throw invalidArgument('options.lr of unfreezeSchedule()', 'a positive number', options.lr);
  }
  const unfrozen: string[] = [];
  const done = new Set<number>();
  const apply = (ctx: FitContext, upTo: number): void => {
    stages.forEach((stage, i) => {
      if (done.has(i) || stage.epoch > upTo) return;
      done.add(i);
      for (const path of stage.modules) {
        const module = ctx.model.getModule(path);
        module.unfreeze();
        addMissing(ctx.optimizer, module.parameters(), options.lr);
        unfrozen.push(path);
      }
      ctx.log(`unfroze ${stage.modules.join(', ')} for epoch ${stage.epoch + 1}`);
    });
  };
  return {
    unfrozen,
    onTrainBegin(ctx: FitContext): void {
      apply(ctx, ctx.position.epoch);
    },
    onEpochEnd(ctx: FitContext, record: EpochRecord): void {
      apply(ctx, record.epoch + 1);
    },
  };
}

function addMissing(optimizer: Optimizer, params: Tensor[], lr: number | undefined): void {
  const held = new Set(optimizer.paramGroups.flatMap((g) => g.params));
  const missing = params.filter((p) => !held.has(p));
  if (missing.length === 0) return;
  const groupLr = lr ?? Math.min(...optimizer.paramGroups.map((g) => g.lr));
  optimizer.addParamGroup({ params: missing, lr: groupLr, initialLr: groupLr });
}
