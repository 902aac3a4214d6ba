/**
 * Seedable random numbers: the {@link Generator} class (xoshiro128**), a process-wide default
 * generator reseeded by {@link manualSeed}, and the tensor factories {@link rand} and {@link randn}.
 *
 * Algorithms, so that a stream can be reproduced elsewhere:
 * - state: xoshiro128** 1.1 (Blackman and Vigna), four 32-bit words;
 * - seeding: SplitMix64 from the 64-bit seed; its first output gives words 0 (low half) and 1 (high
 *   half), its second output words 2 and 3 (as `rand_xoshiro`'s `seed_from_u64`);
 * - uniform float32 in [0, 1): the top 24 bits of one output times 2^-24;
 * - uniform float64 in [0, 1): 53 bits from two outputs (27 + 26), times 2^-53;
 * - standard normal: Box–Muller on two float64 uniforms, u1 in (0, 1]; it yields a pair, and the
 *   second value is kept for the next call (it is part of the state).
 */
import { ArgumentError, invalidArgument } from '../errors.js';
import { allocate, parseShapeArgs, shapeSize, type Shape } from './shape.js';
import { applyCreateOptions } from './create.js';
import { Tensor } from './tensor.js';

/** The serialisable state of a {@link Generator}: plain JSON, for checkpoints. */
export interface GeneratorState {
  algorithm: 'xoshiro128**';
  /** The four 32-bit state words, as unsigned integers. */
  state: [number, number, number, number];
  /** The second normal of the last Box–Muller pair, not yet returned; null when none. */
  spareNormal: number | null;
}

/** PyTorch's default seed, so an unseeded program is still reproducible. */
export const DEFAULT_SEED = 67280421310721;

const MASK64 = (1n << 64n) - 1n;
const TWO_POW_M24 = 2 ** -24;
const TWO_POW_M53 = 2 ** -53;

function seedBits(seed: unknown, what: string): bigint {
  if (typeof seed === 'number' && Number.isSafeInteger(seed)) return BigInt.asUintN(64, BigInt(seed));
  if (typeof seed === 'bigint' && seed >= -(1n << 63n) && seed <= MASK64) return BigInt.asUintN(64, seed);
  throw invalidArgument(what, 'an integer seed (a safe integer or a bigint of at most 64 bits)', seed);
}

/**
 * A seedable pseudo-random generator (xoshiro128**; see the module comment for the exact
 * algorithms). The same seed always produces the same stream, on every platform.
 */
export class Generator {
  /** The four state words (as int32 bit patterns). */
  readonly #s = new Int32Array(4);
  #spare: number | null = null;
  #seed: number | bigint = DEFAULT_SEED;

  /** A generator seeded with `seed` (default {@link DEFAULT_SEED}, PyTorch's default seed). */
  constructor(seed: number | bigint = DEFAULT_SEED) {
    this.seed(seed);
  }

  /**
   * Restarts the stream from `seed`: a safe integer or a bigint; negative values wrap to 64 bits.
   * Returns this generator.
   */
  seed(seed: number | bigint): this {
    let x = seedBits(seed, 'the seed of Generator.seed()');
    const words: number[] = [];
    for (let i = 0; i < 2; i++) {
      x = (x + 0x9e3779b97f4a7c15n) & MASK64;
      let z = x;
      z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & MASK64;
      z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & MASK64;
      z ^= z >> 31n;
      words.push(Number(z & 0xffffffffn), Number(z >> 32n));
    }
    this.#s.set(words);
    if (words.every((w) => w === 0)) this.#s[0] = 1; // all-zero is a fixed point
    this.#spare = null;
    this.#seed = seed;
    return this;
  }

  /** The seed this generator was last seeded with. */
  get initialSeed(): number | bigint {
    return this.#seed;
  }

  /** The next 32 random bits, as an unsigned integer. */
  nextUint32(): number {
    return step(this.#s);
  }

  /** A uniform float32 in [0, 1) (24 random bits). */
  nextFloat(): number {
    return (step(this.#s) >>> 8) * TWO_POW_M24;
  }

  /** A uniform float64 in [0, 1) (53 random bits). */
  nextDouble(): number {
    return double(this.#s);
  }

  /** A standard normal sample (Box–Muller). */
  nextNormal(): number {
    if (this.#spare !== null) {
      const z = this.#spare;
      this.#spare = null;
      return z;
    }
    const [z0, z1] = boxMuller(this.#s);
    this.#spare = z1;
    return z0;
  }

  /** Fills `out` with what `out.length` calls of {@link nextFloat} would return, faster. */
  fillUniform(out: Float32Array): void {
    if (!(out instanceof Float32Array)) throw invalidArgument('the output of fillUniform()', 'a Float32Array', out);
    const s = this.#s;
    for (let i = 0; i < out.length; i++) out[i] = (step(s) >>> 8) * TWO_POW_M24;
  }

  /** Fills `out` with what `out.length` calls of {@link nextNormal} would return, faster. */
  fillNormal(out: Float32Array): void {
    if (!(out instanceof Float32Array)) throw invalidArgument('the output of fillNormal()', 'a Float32Array', out);
    const s = this.#s;
    const n = out.length;
    let i = 0;
    if (n > 0 && this.#spare !== null) {
      out[i++] = this.#spare;
      this.#spare = null;
    }
    for (; i + 1 < n; i += 2) {
      const u1 = 1 - double(s);
      const u2 = double(s);
      const r = Math.sqrt(-2 * Math.log(u1));
      const theta = 2 * Math.PI * u2;
      out[i] = r * Math.cos(theta);
      out[i + 1] = r * Math.sin(theta);
    }
    if (i < n) out[i] = this.nextNormal();
  }

  /** A copy of the state, plain JSON: save it in a checkpoint and restore it with {@link setState}. */
  getState(): GeneratorState {
    const s = this.#s;
    const state: [number, number, number, number] = [
      (s[0] as number) >>> 0,
      (s[1] as number) >>> 0,
      (s[2] as number) >>> 0,
      (s[3] as number) >>> 0,
    ];
    return { algorithm: 'xoshiro128**', state, spareNormal: this.#spare };
  }

  /**
   * Restores a state from {@link getState}; the stream continues exactly where it was.
   * @throws ArgumentError for anything that is not such a state.
   */
  setState(state: GeneratorState): this {
    if (typeof state !== 'object' || state === null) {
      throw invalidArgument('the state of setState()', 'a GeneratorState object', state);
    }
    if (state.algorithm !== 'xoshiro128**') {
      throw invalidArgument('state.algorithm of setState()', "'xoshiro128**'", state.algorithm);
    }
    const words = state.state as unknown;
    const isWord = (w: unknown): boolean => typeof w === 'number' && Number.isInteger(w) && w >= 0 && w <= 0xffffffff;
    if (!Array.isArray(words) || words.length !== 4 || !words.every(isWord)) {
      throw invalidArgument('state.state of setState()', 'four unsigned 32-bit integers', words);
    }
    if (words.every((w) => w === 0)) {
      throw new ArgumentError('setState: the all-zero state is invalid for xoshiro128**');
    }
    const spare = state.spareNormal as unknown;
    if (spare !== null && (typeof spare !== 'number' || !Number.isFinite(spare))) {
      throw invalidArgument('state.spareNormal of setState()', 'a finite number or null', spare);
    }
    this.#s.set(words as number[]);
    this.#spare = spare;
    return this;
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** One xoshiro128** step on the state words; returns the output as an unsigned integer. */
function step(s: Int32Array): number {
  const s0 = s[0] as number;
  const s1 = s[1] as number;
  const s2 = (s[2] as number) ^ s0;
  const s3 = (s[3] as number) ^ s1;
  const result = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0;
  s[1] = s1 ^ s2;
  s[0] = s0 ^ s3;
  s[2] = s2 ^ (s1 << 9);
  s[3] = rotl(s3, 11);
  return result;
}

/** A uniform float64 in [0, 1) from two steps: 27 + 26 bits. */
function double(s: Int32Array): number {
  const hi = step(s) >>> 5;
  const lo = step(s) >>> 6;
  return (hi * 67108864 + lo) * TWO_POW_M53;
}

/** Box–Muller: two independent standard normals from two uniforms, u1 in (0, 1]. */
function boxMuller(s: Int32Array): [number, number] {
  const u1 = 1 - double(s);
  const u2 = double(s);
  const r = Math.sqrt(-2 * Math.log(u1));
  const theta = 2 * Math.PI * u2;
  return [r * Math.cos(theta), r * Math.sin(theta)];
}

const globalGenerator = new Generator(DEFAULT_SEED);

/** The process-wide generator that {@link rand} and {@link randn} use when given none. */
export function defaultGenerator(): Generator {
  return globalGenerator;
}

/** Reseeds the default generator (like `torch.manual_seed`) and returns it. */
export function manualSeed(seed: number | bigint): Generator {
  seedBits(seed, 'the seed of manualSeed()');
  return globalGenerator.seed(seed);
}

/** Where random values come from: an explicit generator, a fresh one from a seed, or the default. */
export interface RandomOptions {
  /** Draw from this generator (its state advances). */
  generator?: Generator;
  /** Draw from a fresh generator seeded with this (the default generator is left alone). */
  seed?: number | bigint;
  /** Make the new tensor a leaf that requires grad (default false). */
  requiresGrad?: boolean;
}

/** Splits `(shape, opts?)` or `(...dims)` into a checked shape and options. */
function parseRandomArgs(
  args: readonly unknown[],
  op: string,
): { shape: number[]; generator: Generator; options: RandomOptions | undefined } {
  let rest = args;
  let opts: unknown;
  const last = args[args.length - 1];
  if (args.length > 1 && typeof last === 'object' && last !== null && !Array.isArray(last)) {
    rest = args.slice(0, -1);
    opts = last;
  } else if (args.length > 1 && last === undefined) {
    rest = args.slice(0, -1);
  }
  const shape = parseShapeArgs(rest, op);
  if (opts === undefined) return { shape, generator: globalGenerator, options: undefined };
  const options = opts as RandomOptions;
  const { generator, seed } = options;
  if (generator !== undefined && seed !== undefined) {
    throw new ArgumentError(`${op}: pass either generator or seed, not both`);
  }
  if (generator !== undefined) {
    if (!(generator instanceof Generator)) throw invalidArgument(`the generator of ${op}()`, 'a Generator', generator);
    return { shape, generator, options };
  }
  if (seed !== undefined) {
    seedBits(seed, `the seed of ${op}()`);
    return { shape, generator: new Generator(seed), options };
  }
  return { shape, generator: globalGenerator, options };
}

/**
 * A tensor of uniform samples in [0, 1). Shape as an array or one number per dimension:
 * `rand([2, 3], { seed: 1 })`, `rand(2, 3)`. Without options it draws from the default generator.
 */
export function rand(shape: Shape, options?: RandomOptions): Tensor;
export function rand(...shape: number[]): Tensor;
export function rand(...args: unknown[]): Tensor {
  const { shape, generator, options } = parseRandomArgs(args, 'rand');
  const t = new Tensor(allocate(shapeSize(shape), 'rand'), shape);
  generator.fillUniform(t.data);
  return applyCreateOptions(t, options === undefined ? undefined : { requiresGrad: options.requiresGrad }, 'rand');
}

/**
 * A tensor of standard normal samples (mean 0, variance 1). Arguments as for {@link rand}.
 */
export function randn(shape: Shape, options?: RandomOptions): Tensor;
export function randn(...shape: number[]): Tensor;
export function randn(...args: unknown[]): Tensor {
  const { shape, generator, options } = parseRandomArgs(args, 'randn');
  const t = new Tensor(allocate(shapeSize(shape), 'randn'), shape);
  generator.fillNormal(t.data);
  return applyCreateOptions(t, options === undefined ? undefined : { requiresGrad: options.requiresGrad }, 'randn');
}
