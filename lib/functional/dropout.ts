/**
 * Dropout: `F.dropout` (each element) and `F.dropout2d` (whole channels). Inverted dropout as in
 * PyTorch: kept values are scaled by 1 / (1 - p) during training, so evaluation needs no rescaling.
 *
 * The mask comes from convkit's seedable {@link Generator} (xoshiro128**): the same seed or
 * generator state gives the same mask on every platform, but the stream is not PyTorch's, so masks
 * cannot match PyTorch's bit for bit. An element is kept when its uniform draw u (24 random bits,
 * one draw per element or channel, in row-major order) satisfies u < 1 - p.
 */
import { recordOp } from '../autograd/record.js';
import { ArgumentError, ShapeError, invalidArgument } from '../errors.js';
import { readOptions, tensorArg } from '../ops/activation.js';
import { Generator, defaultGenerator } from '../tensor/random.js';
import { allocate, formatShape } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';

export interface DropoutOptions {
  /** Probability of zeroing an element (default 0.5), in [0, 1]. */
  p?: number;
  /** Apply dropout (default true); false returns the input itself, as in evaluation mode. */
  training?: boolean;
  /** Draw the mask from this generator (its state advances). */
  generator?: Generator;
  /** Draw the mask from a fresh generator seeded with this (the default generator is left alone). */
  seed?: number | bigint;
}

interface DropoutArgs {
  p: number;
  training: boolean;
  generator: Generator;
}

function dropoutArgs(op: string, options: unknown): DropoutArgs {
  const opts = readOptions(op, options, ['p', 'training', 'generator', 'seed']);
  const p = opts['p'] ?? 0.5;
  if (typeof p !== 'number' || !(p >= 0 && p <= 1)) throw invalidArgument(`p of ${op}()`, 'a probability in [0, 1]', p);
  const training = opts['training'] ?? true;
  if (typeof training !== 'boolean') throw invalidArgument(`training of ${op}()`, 'a boolean', training);
  const { generator, seed } = opts;
  if (generator !== undefined && seed !== undefined) throw new ArgumentError(`${op}: pass either generator or seed, not both`);
  if (generator !== undefined && !(generator instanceof Generator)) {
    throw invalidArgument(`the generator of ${op}()`, 'a Generator', generator);
  }
  let gen: Generator;
  if (generator !== undefined) {
    gen = generator;
  } else if (seed !== undefined) {
    if (!(typeof seed === 'number' || typeof seed === 'bigint')) {
      throw invalidArgument(`the seed of ${op}()`, 'an integer seed (a safe integer or a bigint of at most 64 bits)', seed);
    }
    gen = new Generator(seed);
  } else {
    gen = defaultGenerator();
  }
  return { p, training, generator: gen };
}

/**
 * Multiplies x by a mask holding 0 or 1 / (1 - p), one mask value per `group` consecutive
 * elements, and records the backward (the gradient times the same mask).
 */
function applyMask(op: string, x: Tensor, p: number, generator: Generator, group: number): Tensor {
  const groups = group === 0 ? 0 : x.size / group;
  const mask = allocate(groups, op);
  if (p < 1) {
    generator.fillUniform(mask);
    // PyTorch divides the Bernoulli mask by (1 - p) in float32: the kept scale is that float.
    const scale = Math.fround(1 / Math.fround(1 - p));
    const keep = 1 - p;
    for (let i = 0; i < groups; i++) mask[i] = (mask[i] as number) < keep ? scale : 0;
  }
  const out = new Tensor(allocate(x.size, op), x.shape);
  const xd = x.data;
  const od = out.data;
  for (let g = 0, i = 0; g < groups; g++) {
    const m = mask[g] as number;
    for (const end = i + group; i < end; i++) od[i] = (xd[i] as number) * m; // x * 0: NaN stays NaN
  }
  return recordOp(op, out, [x], (grad) => {
    const dx = allocate(x.size, op);
    const gd = grad.data;
    for (let g = 0, i = 0; g < groups; g++) {
      const m = mask[g] as number;
      for (const end = i + group; i < end; i++) dx[i] = (gd[i] as number) * m;
    }
    return [new Tensor(dx, x.shape)];
  });
}

/**
 * Zeroes each element with probability `p` and scales the rest by 1 / (1 - p) (inverted dropout).
 * With `training: false` or `p = 0` it returns the input itself; `p = 1` gives `x * 0` (zeros, and
 * NaN where x is NaN or infinite, as PyTorch). The backward multiplies by the same mask.
 *
 * Differs from PyTorch: the mask comes from convkit's generator (see the module comment), so it is
 * reproducible with `seed`/`generator` but never equal to PyTorch's; no `inplace` option.
 * @throws ArgumentError for p outside [0, 1], both `generator` and `seed`, or an unknown option.
 */
export function dropout(input: Tensor, options?: DropoutOptions): Tensor {
  const x = tensorArg('dropout', input);
  const { p, training, generator } = dropoutArgs('dropout', options);
  if (!training || p === 0) return x;
  return applyMask('dropout', x, p, generator, 1);
}

/**
 * Channel dropout: zeroes whole channels (every H x W plane) with probability `p`, scaling the
 * others by 1 / (1 - p). The input is [N, C, H, W] (one draw per (n, c)) or [C, H, W] (one draw
 * per channel).
 *
 * Differs from PyTorch: a 3-D input is [C, H, W], as PyTorch documents (PyTorch 1.13 treats it as
 * [N, C, L] with a warning); other ranks are a ShapeError rather than a warning; the mask comes
 * from convkit's generator.
 * @throws ShapeError for an input that is not 3-D or 4-D; ArgumentError as {@link dropout}.
 */
export function dropout2d(input: Tensor, options?: DropoutOptions): Tensor {
  const x = tensorArg('dropout2d', input);
  const { p, training, generator } = dropoutArgs('dropout2d', options);
  if (x.ndim !== 3 && x.ndim !== 4) {
    throw new ShapeError(`dropout2d: expected a 3-D [C, H, W] or 4-D [N, C, H, W] input, got shape ${formatShape(x.shape)}`);
  }
  if (!training || p === 0) return x;
  const plane = (x.shape[x.ndim - 1] as number) * (x.shape[x.ndim - 2] as number);
  if (plane === 0) return applyMask('dropout2d', x, p, generator, 0);
  return applyMask('dropout2d', x, p, generator, plane);
}
