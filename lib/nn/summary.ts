/**
 * `summary(model, inputShape)`: one row per layer call with its output volume (HxWxC, as lecture
 * notes draw it, and NCHW), its parameter count and whether those parameters train, plus totals;
 * as a table (`text`) and as JSON (`rows`, `totals`).
 *
 * It runs one forward pass of a zero input (batch 1 by default) in eval mode without recording
 * gradients, watching every leaf module (one without children) as it is called; the model's
 * training flags are restored afterwards and its weights and running statistics are untouched.
 * A leaf called twice (a shared ReLU) gives two rows; its parameters count once.
 */
import { noGrad } from '../autograd/grad-mode.js';
import { invalidArgument } from '../errors.js';
import { zeros } from '../tensor/create.js';
import { checkShape, type Shape } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';
import { Module } from './module.js';

/** One layer call in a {@link Summary}. */
export interface SummaryRow {
  /** Dotted path of the layer (`layer1.0.conv1`). */
  name: string;
  /** The layer's one-line description (`Conv2d(3, 64, kernel=7, stride=2, padding=3)`). */
  layer: string;
  /** Output shape, batch first (NCHW for images); the first output when there are several. */
  outputShape: number[];
  /** The output volume without the batch: `HxWxC` for images, `LxC` for sequences, `F` for vectors. */
  volume: string;
  /** Parameter elements owned by this layer (0 on a repeated call of the same layer). */
  params: number;
  /** Of those, the trainable ones. */
  trainableParams: number;
}

/** What {@link summary} returns. */
export interface Summary {
  rows: SummaryRow[];
  totals: {
    /** All parameter elements of the model (shared tensors once), called or not. */
    params: number;
    trainable: number;
    frozen: number;
  };
  /** Input shape used, batch first. */
  inputShape: number[];
  /** The table as text. */
  text: string;
}

/** Options of {@link summary}. */
export interface SummaryOptions {
  /** Batch size of the probe input (default 1). */
  batchSize?: number;
}

/** `HxWxC` style volume of a batch-first shape (channels second, as NCHW). */
export function formatVolume(shape: Shape): string {
  const dims = shape.slice(1);
  if (dims.length <= 1) return dims.length === 0 ? '1' : String(dims[0]);
  return [...dims.slice(1), dims[0]].join('x');
}

function firstTensor(value: unknown): Tensor | null {
  if (value instanceof Tensor) return value;
  if (Array.isArray(value)) {
    for (const item of value) {
      const t = firstTensor(item);
      if (t !== null) return t;
    }
  }
  return null;
}

/**
 * Summarises `model` on an input of `inputShape` (without the batch dimension, e.g. `[3, 224, 224]`),
 * or on a given input tensor (batch first; for models that take indices, say).
 * @throws whatever the model's forward throws for that input (a ShapeError naming the layer).
 */
export function summary(model: Module, input: Shape | Tensor, options: SummaryOptions = {}): Summary {
  if (!(model instanceof Module)) throw invalidArgument('the model of summary()', 'a Module', model);
  const batch = options.batchSize ?? 1;
  if (!Number.isInteger(batch) || batch < 1) throw invalidArgument('options.batchSize of summary()', 'a positive integer', batch);
  const probe = input instanceof Tensor ? input : zeros([batch, ...checkShape(input, 'summary')]);

  const names = new Map<Module, string>();
  for (const [name, m] of model.namedModules()) names.set(m, name);
  const leaves = model.modules().filter((m) => m.children().length === 0);
  const rows: SummaryRow[] = [];
  const counted = new Set<Tensor>();
  const modes = model.modules().map((m) => [m, m.training] as const);

  for (const leaf of leaves) {
    const original = leaf.forward;
    const wrapped = (...args: never[]): unknown => {
      const out = original.apply(leaf, args);
      const t = firstTensor(out);
      let params = 0;
      let trainableParams = 0;
      for (const p of leaf.parameters()) {
        if (counted.has(p)) continue;
        counted.add(p);
        params += p.size;
        if (p.requiresGrad) trainableParams += p.size;
      }
      rows.push({
        name: names.get(leaf) ?? '',
        layer: leaf.describe(),
        outputShape: t === null ? [] : [...t.shape],
        volume: t === null ? '-' : formatVolume(t.shape),
        params,
        trainableParams,
      });
      return out;
    };
    Object.defineProperty(leaf, 'forward', { value: wrapped, configurable: true, writable: true });
  }
  try {
    model.eval();
    noGrad(() => (model.forward as (x: Tensor) => unknown)(probe));
  } finally {
    for (const leaf of leaves) delete (leaf as unknown as { forward?: unknown }).forward;
    for (const [m, mode] of modes) m.training = mode;
  }

  let params = 0;
  let trainable = 0;
  for (const p of model.parameters()) {
    params += p.size;
    if (p.requiresGrad) trainable += p.size;
  }
  const totals = { params, trainable, frozen: params - trainable };
  return { rows, totals, inputShape: [...probe.shape], text: formatTable(rows, totals, probe.shape) };
}

function formatTable(rows: SummaryRow[], totals: Summary['totals'], inputShape: Shape): string {
  const fmt = (n: number): string => n.toLocaleString('en-US');
  const header = ['layer', 'type', 'output (HxWxC)', 'output shape', 'params', 'trainable'];
  const body = rows.map((r) => [
    r.name,
    r.layer,
    r.volume,
    `[${r.outputShape.join(', ')}]`,
    fmt(r.params),
    r.params === 0 ? '' : r.trainableParams === r.params ? 'yes' : r.trainableParams === 0 ? 'frozen' : 'partly',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => (row[i] as string).length)));
  const line = (cells: string[]): string =>
    cells.map((c, i) => (i === 4 ? c.padStart(widths[i] as number) : c.padEnd(widths[i] as number))).join('  ').trimEnd();
  const rule = '-'.repeat(widths.reduce((a, b) => a + b + 2, -2));
  return [
    `input: [${inputShape.join(', ')}] (${formatVolume(inputShape)})`,
    line(header),
    rule,
    ...body.map(line),
    rule,
    `total params: ${fmt(totals.params)}`,
    `trainable params: ${fmt(totals.trainable)}`,
    `frozen params: ${fmt(totals.frozen)}`,
  ].join('\n');
}
