/**
 * Weight initialisers, as `torch.nn.init`: each fills a tensor in place (no gradient recorded)
 * and returns it. Random ones draw from `options.generator` or the default generator, so a seeded
 * model is reproducible (the streams differ from PyTorch's: seeds do not carry across libraries).
 *
 * Fans follow PyTorch: for a weight of shape [out, in, ...kernel], `fanIn = in * prod(kernel)` and
 * `fanOut = out * prod(kernel)`; a 1-d tensor has no fans.
 */
import { ArgumentError, invalidArgument } from '../errors.js';
import { defaultGenerator, type Generator } from '../tensor/random.js';
import { Tensor } from '../tensor/tensor.js';

/** Options shared by the random initialisers. */
export interface InitOptions {
  /** Where the random numbers come from (default: the default generator, see `manualSeed`). */
  generator?: Generator;
}

/** A nonlinearity name for {@link calculateGain}, as PyTorch spells them in camelCase. */
export type Nonlinearity =
  | 'linear'
  | 'conv1d'
  | 'conv2d'
  | 'conv3d'
  | 'sigmoid'
  | 'tanh'
  | 'relu'
  | 'leakyRelu'
  | 'selu';

/** Which fan the Kaiming initialisers preserve: `fanIn` keeps forward variance, `fanOut` backward. */
export type FanMode = 'fanIn' | 'fanOut';

/** Options of the Kaiming (He) initialisers. */
export interface KaimingOptions extends InitOptions {
  /** Negative slope of the leaky ReLU that follows (default 0). */
  a?: number;
  /** Default 'fanIn'. */
  mode?: FanMode;
  /** Default 'leakyRelu' (with a = 0, that is ReLU's gain √2). */
  nonlinearity?: Nonlinearity;
}

/** Options of the Xavier (Glorot) initialisers. */
export interface XavierOptions extends InitOptions {
  /** Scale factor (default 1). */
  gain?: number;
}

function checkTensor(t: unknown, op: string): Tensor {
  if (!(t instanceof Tensor)) throw invalidArgument(`the tensor of ${op}()`, 'a Tensor', t);
  return t;
}

function checkNumber(value: unknown, name: string, op: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw invalidArgument(`${name} of ${op}()`, 'a finite number', value);
  return value;
}

/** `[fanIn, fanOut]` of a weight of at least 2 dimensions. */
export function calculateFanInAndFanOut(t: Tensor): [number, number] {
  checkTensor(t, 'calculateFanInAndFanOut');
  if (t.ndim < 2) {
    throw new ArgumentError(`fan in and fan out cannot be computed for a tensor with fewer than 2 dimensions (shape [${t.shape.join(', ')}])`);
  }
  let receptive = 1;
  for (let d = 2; d < t.ndim; d++) receptive *= t.shape[d] as number;
  return [(t.shape[1] as number) * receptive, (t.shape[0] as number) * receptive];
}

/** The recommended gain for a nonlinearity (√2 for ReLU, 5/3 for tanh, ...), as PyTorch's. */
export function calculateGain(nonlinearity: Nonlinearity, param?: number): number {
  switch (nonlinearity) {
    case 'linear':
    case 'conv1d':
    case 'conv2d':
    case 'conv3d':
    case 'sigmoid':
      return 1;
    case 'tanh':
      return 5 / 3;
    case 'relu':
      return Math.SQRT2;
    case 'leakyRelu': {
      const slope = param === undefined ? 0.01 : checkNumber(param, 'the negative slope', 'calculateGain');
      return Math.sqrt(2 / (1 + slope * slope));
    }
    case 'selu':
      return 3 / 4;
    default:
      throw invalidArgument('the nonlinearity of calculateGain()', "one of 'linear', 'conv2d', 'sigmoid', 'tanh', 'relu', 'leakyRelu', 'selu'", nonlinearity);
  }
}

/** Fills with `value`. */
export function constant_(t: Tensor, value: number): Tensor {
  checkTensor(t, 'constant_').data.fill(checkNumber(value, 'the value', 'constant_'));
  return t;
}

/** Fills with zeros. */
export function zeros_(t: Tensor): Tensor {
  return constant_(t, 0);
}

/** Fills with ones. */
export function ones_(t: Tensor): Tensor {
  return constant_(t, 1);
}

/** Fills with samples of U(a, b) (default U(0, 1)). */
export function uniform_(t: Tensor, a = 0, b = 1, options: InitOptions = {}): Tensor {
  checkTensor(t, 'uniform_');
  checkNumber(a, 'the lower bound', 'uniform_');
  checkNumber(b, 'the upper bound', 'uniform_');
  if (!(a <= b)) throw new ArgumentError(`uniform_: the lower bound ${a} is above the upper bound ${b}`);
  const gen = options.generator ?? defaultGenerator();
  gen.fillUniform(t.data);
  const width = b - a;
  const data = t.data;
  for (let i = 0; i < data.length; i++) data[i] = a + width * (data[i] as number);
  return t;
}

/** Fills with samples of N(mean, std²) (default N(0, 1)). */
export function normal_(t: Tensor, mean = 0, std = 1, options: InitOptions = {}): Tensor {
  checkTensor(t, 'normal_');
  checkNumber(mean, 'the mean', 'normal_');
  checkNumber(std, 'the standard deviation', 'normal_');
  if (std < 0) throw invalidArgument('the standard deviation of normal_()', 'a non-negative number', std);
  const gen = options.generator ?? defaultGenerator();
  gen.fillNormal(t.data);
  const data = t.data;
  for (let i = 0; i < data.length; i++) data[i] = mean + std * (data[i] as number);
  return t;
}

/**
 * Fills with N(mean, std²) samples redrawn until they fall in [a, b] (default ±2, absolute
 * bounds as PyTorch's `trunc_normal_`).
 */
export function truncNormal_(t: Tensor, mean = 0, std = 1, a = -2, b = 2, options: InitOptions = {}): Tensor {
  checkTensor(t, 'truncNormal_');
  for (const [v, name] of [[mean, 'the mean'], [std, 'the standard deviation'], [a, 'the lower bound'], [b, 'the upper bound']] as const) {
    checkNumber(v, name, 'truncNormal_');
  }
  if (!(a < b)) throw new ArgumentError(`truncNormal_: the lower bound ${a} must be below the upper bound ${b}`);
  if (std <= 0) throw invalidArgument('the standard deviation of truncNormal_()', 'a positive number', std);
  if ((b - mean) / std < -6 || (a - mean) / std > 6) {
    throw new ArgumentError(`truncNormal_: the interval [${a}, ${b}] is more than 6 standard deviations from the mean ${mean}`);
  }
  const gen = options.generator ?? defaultGenerator();
  const data = t.data;
  for (let i = 0; i < data.length; i++) {
    let v: number;
    do v = mean + std * gen.nextNormal();
    while (v < a || v > b);
    data[i] = v;
  }
  return t;
}

/** Xavier/Glorot uniform: U(-g·√(6/(fanIn+fanOut)), +...). */
export function xavierUniform_(t: Tensor, options: XavierOptions = {}): Tensor {
  const [fanIn, fanOut] = calculateFanInAndFanOut(checkTensor(t, 'xavierUniform_'));
  const gain = options.gain === undefined ? 1 : checkNumber(options.gain, 'options.gain', 'xavierUniform_');
  const bound = gain * Math.sqrt(6 / (fanIn + fanOut));
  return uniform_(t, -bound, bound, options);
}

/** Xavier/Glorot normal: N(0, g²·2/(fanIn+fanOut)). */
export function xavierNormal_(t: Tensor, options: XavierOptions = {}): Tensor {
  const [fanIn, fanOut] = calculateFanInAndFanOut(checkTensor(t, 'xavierNormal_'));
  const gain = options.gain === undefined ? 1 : checkNumber(options.gain, 'options.gain', 'xavierNormal_');
  return normal_(t, 0, gain * Math.sqrt(2 / (fanIn + fanOut)), options);
}

function kaimingStd(t: Tensor, options: KaimingOptions, op: string): number {
  const [fanIn, fanOut] = calculateFanInAndFanOut(checkTensor(t, op));
  const mode = options.mode ?? 'fanIn';
  if (mode !== 'fanIn' && mode !== 'fanOut') throw invalidArgument(`options.mode of ${op}()`, "'fanIn' or 'fanOut'", mode);
  const a = options.a === undefined ? 0 : checkNumber(options.a, 'options.a', op);
  const gain = calculateGain(options.nonlinearity ?? 'leakyRelu', a);
  return gain / Math.sqrt(mode === 'fanIn' ? fanIn : fanOut);
}

/** Kaiming/He uniform: U(-b, b) with b = gain·√(3/fan). PyTorch's default for conv and linear weights uses `a: √5`. */
export function kaimingUniform_(t: Tensor, options: KaimingOptions = {}): Tensor {
  const bound = Math.sqrt(3) * kaimingStd(t, options, 'kaimingUniform_');
  return uniform_(t, -bound, bound, options);
}

/** Kaiming/He normal: N(0, gain²/fan). torchvision's ResNet uses `{ mode: 'fanOut', nonlinearity: 'relu' }`. */
export function kaimingNormal_(t: Tensor, options: KaimingOptions = {}): Tensor {
  return normal_(t, 0, kaimingStd(t, options, 'kaimingNormal_'), options);
}
