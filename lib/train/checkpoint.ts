/**
 * Training checkpoints: one self-contained `.safetensors` file, written atomically.
 *
 * ```
 * tensors
 *   <model state dict, PyTorch names>        layer1.0.bn1.running_mean, fc.weight, ...
 *   optimizer.state.<paramIndex>.<key>       optimiser buffers (momentumBuffer, expAvg, ...), shaped as the parameter
 * __metadata__
 *   format   "pt"                            (so safetensors tools treat the weights as PyTorch's)
 *   convkit  JSON string, a {@link CheckpointMeta}: format/version, architecture (model.toJSON()),
 *            optimiser type, groups and step counts, scheduler state, loader position, RNG state,
 *            class names, preprocessing, metrics history, run settings, callback states
 * ```
 *
 * A sidecar `<name>.json` holds the same metadata, pretty-printed, for people; it is informational
 * (the `.safetensors` file alone restores everything).
 */
import { stat } from 'node:fs/promises';
import type { Preprocess } from '../data/types.js';
import { ArgumentError, FormatError, invalidArgument } from '../errors.js';
import { writeFileAtomic } from '../io/atomic-write.js';
import { loadSafetensors, saveSafetensors } from '../io/safetensors.js';
import { Module, moduleFromJSON, type JsonValue, type ModuleJSON } from '../nn/module.js';
// Side-effect imports: every built-in layer and zoo model, and the imported-graph types (OnnxModel,
// TfjsModel), register themselves for moduleFromJSON.
import '../nn/layers/index.js';
import '../models/index.js';
import '../io/onnx/model.js';
import '../io/tfjs/model.js';
import type { Optimizer, ParamState } from '../optim/optimizer.js';
import type { Scheduler } from '../optim/schedulers/lr-scheduler.js';
import type { SchedulerStateDict } from '../optim/schedulers/state.js';
import { defaultGenerator, type GeneratorState } from '../tensor/random.js';
import { Tensor } from '../tensor/tensor.js';

/** The `format` field of {@link CheckpointMeta}. */
export const CHECKPOINT_FORMAT = 'convkit-checkpoint';
/** The current checkpoint layout version. */
export const CHECKPOINT_VERSION = 1;
/** The prefix of optimiser state tensors. */
export const OPTIMIZER_PREFIX = 'optimizer.state.';

/** Where a data loader stands: the next batch to train on is `batch` of epoch `epoch` (0-based). */
export interface LoaderPosition {
  epoch: number;
  batch: number;
}

/** The optimiser part of {@link CheckpointMeta}: everything but the buffers (stored as tensors). */
export interface OptimizerMeta {
  /** The optimiser's class name (`SGD`, `Adam`, ...). */
  type: string;
  defaults: { [key: string]: JsonValue };
  /** The groups' options with `params` as indices (PyTorch's layout). */
  paramGroups: Array<{ [key: string]: JsonValue }>;
  /** Per-parameter counts (`step`), by parameter index. */
  counts: { [index: string]: { [key: string]: number } };
  /** Per-parameter buffer names, by parameter index (the tensors are `optimizer.state.<index>.<name>`). */
  buffers: { [index: string]: string[] };
}

/** Everything a checkpoint records besides tensors (the JSON in `__metadata__.convkit`). */
export interface CheckpointMeta {
  format: typeof CHECKPOINT_FORMAT;
  version: number;
  /** ISO time of writing. */
  createdAt: string;
  architecture: ModuleJSON;
  optimizer: OptimizerMeta | null;
  scheduler: { type: string; state: SchedulerStateDict } | null;
  /** The next batch to train on. */
  position: LoaderPosition;
  /** Optimiser steps taken so far. */
  step: number;
  /** The default generator's state when the checkpoint was taken. */
  rng: GeneratorState;
  classes: string[] | null;
  preprocess: Preprocess | null;
  /** One entry per completed epoch (see `EpochRecord`). */
  history: Array<{ [key: string]: JsonValue }>;
  /** The run's settings (free-form JSON: epochs, batch size, lr, seed, model name, ...). */
  settings: { [key: string]: JsonValue };
  /** Training-loop state that must survive a resume (partial-epoch sums, callback states). */
  loop: { [key: string]: JsonValue };
}

/** What {@link saveCheckpoint} takes. */
export interface CheckpointState {
  model: Module;
  optimizer?: Optimizer;
  scheduler?: Scheduler;
  position?: LoaderPosition;
  step?: number;
  classes?: string[];
  preprocess?: Preprocess;
  history?: Array<{ [key: string]: JsonValue }>;
  settings?: { [key: string]: JsonValue };
  loop?: { [key: string]: JsonValue };
  /** The RNG state to record (default: the default generator's current state). */
  rng?: GeneratorState;
}

/** What {@link loadCheckpoint} returns. */
export interface LoadedCheckpoint {
  /** The file read. */
  path: string;
  /** The model: rebuilt from the architecture (or the one passed in), weights loaded strictly. */
  model: Module;
  meta: CheckpointMeta;
  /** Every tensor of the file (model and optimiser). */
  tensors: Map<string, Tensor>;
}

/**
 * Resolves a checkpoint path: a directory means `<dir>/last.safetensors`.
 * @internal
 */
export async function resolveCheckpointPath(path: string): Promise<string> {
  if (typeof path !== 'string' || path.length === 0) throw invalidArgument('the checkpoint path', 'a file or directory path', path);
  try {
    if ((await stat(path)).isDirectory()) return `${path.replace(/[/\\]+$/, '')}/last.safetensors`;
  } catch {
    // A path that does not exist yet: a file to create.
  }
  return path;
}

/** `<dir>/<name>.json` for `<dir>/<name>.safetensors`. */
export function sidecarPath(path: string): string {
  return path.endsWith('.safetensors') ? `${path.slice(0, -'.safetensors'.length)}.json` : `${path}.json`;
}

/** Converts a value to JSON-safe form (non-finite numbers become null, as JSON.stringify does). */
function toJson(value: unknown): JsonValue {
  return JSON.parse(JSON.stringify(value ?? null)) as JsonValue;
}

/**
 * Writes a checkpoint (see the module comment for the layout) to `path` (a directory means
 * `<dir>/last.safetensors`), atomically, then its `.json` sidecar. Returns the file written.
 * @throws ArgumentError when `state.model` is not a Module or its class is not registered.
 */
export async function saveCheckpoint(path: string, state: CheckpointState): Promise<string> {
  if (typeof state !== 'object' || state === null || !(state.model instanceof Module)) {
    throw invalidArgument('state.model of saveCheckpoint()', 'a Module', state?.model);
  }
  const file = await resolveCheckpointPath(path);
  const tensors = new Map<string, Tensor>();
  for (const [name, t] of state.model.stateDict()) tensors.set(name, t);
  let optimizer: OptimizerMeta | null = null;
  if (state.optimizer !== undefined) {
    const sd = state.optimizer.stateDict();
    const shapes = state.optimizer.paramGroups.flatMap((g) => g.params.map((p) => p.shape));
    optimizer = {
      type: state.optimizer.constructor.name,
      defaults: toJson(state.optimizer.defaults) as { [key: string]: JsonValue },
      paramGroups: toJson(sd.paramGroups) as Array<{ [key: string]: JsonValue }>,
      counts: {},
      buffers: {},
    };
    for (const [index, paramState] of Object.entries(sd.state as Record<string, ParamState>)) {
      const counts: { [key: string]: number } = {};
      const buffers: string[] = [];
      for (const [key, value] of Object.entries(paramState)) {
        if (value instanceof Float32Array) {
          const name = `${OPTIMIZER_PREFIX}${index}.${key}`;
          if (tensors.has(name)) throw new ArgumentError(`saveCheckpoint: the model has a tensor named '${name}', which clashes with optimiser state`);
          tensors.set(name, new Tensor(value, [...(shapes[Number(index)] ?? [value.length])]));
          buffers.push(key);
        } else counts[key] = value;
      }
      optimizer.counts[index] = counts;
      optimizer.buffers[index] = buffers;
    }
  }
  const meta: CheckpointMeta = {
    format: CHECKPOINT_FORMAT,
    version: CHECKPOINT_VERSION,
    createdAt: new Date().toISOString(),
    architecture: state.model.toJSON(),
    optimizer,
    scheduler: state.scheduler === undefined ? null : { type: state.scheduler.constructor.name, state: toJson(state.scheduler.stateDict()) as SchedulerStateDict },
    position: state.position ?? { epoch: 0, batch: 0 },
    step: state.step ?? 0,
    rng: state.rng ?? defaultGenerator().getState(),
    classes: state.classes ?? null,
    preprocess: state.preprocess ?? null,
    history: (toJson(state.history ?? []) as Array<{ [key: string]: JsonValue }>),
    settings: (toJson(state.settings ?? {}) as { [key: string]: JsonValue }),
    loop: (toJson(state.loop ?? {}) as { [key: string]: JsonValue }),
  };
  const json = JSON.stringify(meta);
  await saveSafetensors(file, tensors, { format: 'pt', convkit: json });
  await writeFileAtomic(sidecarPath(file), Buffer.from(`${JSON.stringify(meta, null, 2)}\n`, 'utf8'));
  return file;
}

/** Validates the parsed `convkit` metadata enough for the loaders below to trust its shape. */
function checkMeta(raw: unknown, file: string): CheckpointMeta {
  const fail = (what: string): FormatError => new FormatError(`${file}: not a convkit checkpoint: ${what}`);
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw fail('__metadata__.convkit is not a JSON object');
  const m = raw as Record<string, unknown>;
  if (m['format'] !== CHECKPOINT_FORMAT) throw fail(`format is ${JSON.stringify(m['format'])}, expected '${CHECKPOINT_FORMAT}'`);
  if (typeof m['version'] !== 'number' || m['version'] > CHECKPOINT_VERSION) {
    throw fail(`version ${JSON.stringify(m['version'])} is not supported (this convkit reads version ${CHECKPOINT_VERSION})`);
  }
  const pos = m['position'] as Record<string, unknown> | undefined;
  if (typeof pos !== 'object' || pos === null || !Number.isInteger(pos['epoch']) || !Number.isInteger(pos['batch'])) {
    throw fail(`position is ${JSON.stringify(pos)}, expected {epoch, batch} integers`);
  }
  if (typeof m['architecture'] !== 'object' || m['architecture'] === null) throw fail('architecture is missing');
  if (!Array.isArray(m['history'])) throw fail('history is not an array');
  return raw as CheckpointMeta;
}

/** Options of {@link loadCheckpoint}. */
export interface LoadCheckpointOptions {
  /**
   * Load the weights into this model (in place) instead of rebuilding one from the stored
   * architecture: for custom modules that are not registered, or to keep optimiser references.
   */
  model?: Module;
}

/**
 * Reads a checkpoint (a directory means `<dir>/last.safetensors`): rebuilds the model from its
 * architecture with `moduleFromJSON` (or uses `options.model`) and loads its weights strictly.
 * @throws FormatError for a file that is not a valid safetensors file or lacks convkit metadata;
 *   ArgumentError / ShapeError when the weights do not fit the model.
 */
export async function loadCheckpoint(path: string, options: LoadCheckpointOptions = {}): Promise<LoadedCheckpoint> {
  const file = await resolveCheckpointPath(path);
  const { tensors, metadata } = await loadSafetensors(file);
  const text = metadata['convkit'];
  if (text === undefined) throw new FormatError(`${file}: not a convkit checkpoint: __metadata__ has no 'convkit' entry (a plain weights file?)`);
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new FormatError(`${file}: not a convkit checkpoint: __metadata__.convkit is not valid JSON (${(err as Error).message})`);
  }
  const meta = checkMeta(raw, file);
  const model = options.model ?? moduleFromJSON(meta.architecture);
  const weights = new Map<string, Tensor>();
  for (const [name, t] of tensors) if (!name.startsWith(OPTIMIZER_PREFIX)) weights.set(name, t);
  model.loadStateDict(weights, { strict: true });
  return { path: file, model, meta, tensors };
}

/** What {@link restoreTraining} returns: where to continue. */
export interface RestoredTraining {
  position: LoaderPosition;
  step: number;
  history: Array<{ [key: string]: JsonValue }>;
  loop: { [key: string]: JsonValue };
}

/**
 * Restores the training state of a loaded checkpoint: the optimiser's groups, counts and buffers
 * (the optimiser must be built over `ckpt.model`'s parameters, or a model holding the same
 * weights, grouped as when saved), the scheduler's state and the default generator's state.
 * @throws ArgumentError when the optimiser or scheduler type differs from the saved one, or their
 *   state dicts do not fit; FormatError when an optimiser tensor is missing.
 */
export function restoreTraining(ckpt: LoadedCheckpoint, optimizer?: Optimizer, scheduler?: Scheduler): RestoredTraining {
  const { meta } = ckpt;
  if (optimizer !== undefined) {
    const saved = meta.optimizer;
    if (saved === null) throw new ArgumentError(`restoreTraining: ${ckpt.path} holds no optimiser state`);
    if (saved.type !== optimizer.constructor.name) {
      throw new ArgumentError(`restoreTraining: ${ckpt.path} holds ${saved.type} state but the optimiser is ${optimizer.constructor.name}`);
    }
    const state: Record<string, Record<string, Float32Array | number>> = {};
    for (const [index, counts] of Object.entries(saved.counts)) state[index] = { ...counts };
    for (const [index, names] of Object.entries(saved.buffers)) {
      const entry = (state[index] ??= {});
      for (const key of names) {
        const t = ckpt.tensors.get(`${OPTIMIZER_PREFIX}${index}.${key}`);
        if (t === undefined) throw new FormatError(`${ckpt.path}: optimiser tensor '${OPTIMIZER_PREFIX}${index}.${key}' is listed but missing`);
        entry[key] = t.data;
      }
    }
    optimizer.loadStateDict({ state, paramGroups: saved.paramGroups as unknown as Array<{ params: number[] }> });
  }
  if (scheduler !== undefined) {
    const saved = meta.scheduler;
    if (saved === null) throw new ArgumentError(`restoreTraining: ${ckpt.path} holds no scheduler state`);
    if (saved.type !== scheduler.constructor.name) {
      throw new ArgumentError(`restoreTraining: ${ckpt.path} holds ${saved.type} state but the scheduler is ${scheduler.constructor.name}`);
    }
    scheduler.loadStateDict(saved.state);
  }
  defaultGenerator().setState(meta.rng);
  return { position: { ...meta.position }, step: meta.step, history: meta.history, loop: meta.loop ?? {} };
}
