/**
 * Normalisation layers: `BatchNorm1d/2d/3d` and `LocalResponseNorm`, as `torch.nn`.
 *
 * Batch norm holds, with PyTorch's names (so torchvision state dicts load by name), the
 * parameters `weight` (gamma, ones) and `bias` (beta, zeros), and the buffers `running_mean`
 * (zeros), `running_var` (ones) and `num_batches_tracked` (a 0-d counter). In training mode it
 * normalises with the batch statistics and updates the running ones in place
 * (`running = (1 - momentum) running + momentum batch`, unbiased variance) and counts the batch;
 * in evaluation mode it uses the running statistics. With `trackRunningStats: false` it always uses
 * batch statistics and has no buffers; with `affine: false` it has no parameters.
 *
 * Differs from PyTorch: `num_batches_tracked` is a float32 0-d tensor (PyTorch's is int64; counts
 * are exact up to 2^24 batches), and a state dict loads it as float32.
 */
import { ShapeError, invalidArgument } from '../../errors.js';
import { batchNorm, localResponseNorm } from '../../functional/norm.js';
import { zeros } from '../../tensor/create.js';
import { formatShape } from '../../tensor/shape.js';
import { Tensor } from '../../tensor/tensor.js';
import { ones_, zeros_ } from '../init.js';
import { Module, registerModuleType, type JsonValue } from '../module.js';
import { bool, checkInput, configAs, finite, layerOptions, positiveInt } from './args.js';

/** Options of {@link BatchNorm2d} (and 1d, 3d), PyTorch's in camelCase. */
export interface BatchNormLayerOptions {
  /** Added to the variance before the square root (default 1e-5). */
  eps?: number;
  /**
   * Weight of the batch statistic in the running average (default 0.1); null for a cumulative
   * average over every batch seen (`1 / num_batches_tracked`), as PyTorch's `momentum=None`.
   */
  momentum?: number | null;
  /** Learn a per-channel scale and shift (default true). */
  affine?: boolean;
  /** Keep running statistics for evaluation mode (default true). */
  trackRunningStats?: boolean;
}

abstract class BatchNormNd extends Module {
  readonly numFeatures: number;
  readonly eps: number;
  readonly momentum: number | null;
  readonly affine: boolean;
  readonly trackRunningStats: boolean;
  /** Gamma `[numFeatures]` (null without `affine`). */
  readonly weight: Tensor | null;
  /** Beta `[numFeatures]` (null without `affine`). */
  readonly bias: Tensor | null;
  /** Buffer `running_mean` `[numFeatures]` (null without `trackRunningStats`). */
  readonly runningMean: Tensor | null;
  /** Buffer `running_var` `[numFeatures]` (null without `trackRunningStats`). */
  readonly runningVar: Tensor | null;
  /** Buffer `num_batches_tracked`, 0-d (null without `trackRunningStats`). */
  readonly numBatchesTracked: Tensor | null;
  readonly #layer: string;
  readonly #ranks: readonly number[];
  readonly #dims: string;

  protected constructor(layer: string, ranks: readonly number[], dims: string, numFeatures: number, options: BatchNormLayerOptions | undefined) {
    super();
    this.#layer = layer;
    this.#ranks = ranks;
    this.#dims = dims;
    const o = layerOptions(layer, options, ['eps', 'momentum', 'affine', 'trackRunningStats']);
    this.numFeatures = positiveInt(layer, 'numFeatures', numFeatures);
    this.eps = finite(layer, 'eps', o['eps'], 1e-5, 0);
    const momentum = o['momentum'] === undefined ? 0.1 : o['momentum'];
    if (momentum !== null && (typeof momentum !== 'number' || !Number.isFinite(momentum))) {
      throw invalidArgument(`momentum of ${layer}`, 'a finite number or null', momentum);
    }
    this.momentum = momentum;
    this.affine = bool(layer, 'affine', o['affine'], true);
    this.trackRunningStats = bool(layer, 'trackRunningStats', o['trackRunningStats'], true);
    const c = this.numFeatures;
    this.weight = this.registerParameter('weight', this.affine ? zeros([c]) : null);
    this.bias = this.registerParameter('bias', this.affine ? zeros([c]) : null);
    const track = this.trackRunningStats;
    this.runningMean = this.registerBuffer('running_mean', track ? zeros([c]) : null);
    this.runningVar = this.registerBuffer('running_var', track ? zeros([c]) : null);
    this.numBatchesTracked = this.registerBuffer('num_batches_tracked', track ? zeros([]) : null);
    this.resetParameters();
  }

  /** Running mean 0, running variance 1, batch count 0. */
  resetRunningStats(): void {
    if (this.runningMean !== null) zeros_(this.runningMean);
    if (this.runningVar !== null) ones_(this.runningVar);
    if (this.numBatchesTracked !== null) zeros_(this.numBatchesTracked);
  }

  /** PyTorch's default: running statistics reset, weight ones, bias zeros. */
  resetParameters(): void {
    this.resetRunningStats();
    if (this.weight !== null) ones_(this.weight);
    if (this.bias !== null) zeros_(this.bias);
  }

  forward(x: Tensor): Tensor {
    checkInput(this.#layer, x, this.#ranks, this.#dims);
    if (x.shape[1] !== this.numFeatures) {
      throw new ShapeError(`${this.describe()}: expected an input with ${this.numFeatures} channels (dimension 1), received shape ${formatShape(x.shape)}`);
    }
    const counter = this.numBatchesTracked;
    const updating = this.training && counter !== null;
    // PyTorch's exponential_average_factor: momentum, or 1 / batches seen (this one included).
    const factor = !updating ? 0 : this.momentum ?? 1 / ((counter.data[0] as number) + 1);
    const y = batchNorm(x, this.runningMean, this.runningVar, {
      weight: this.weight,
      bias: this.bias,
      training: this.training || this.runningMean === null,
      momentum: factor,
      eps: this.eps,
    });
    if (updating) counter.data[0] = (counter.data[0] as number) + 1;
    return y;
  }

  override config(): { [key: string]: JsonValue } {
    return {
      numFeatures: this.numFeatures,
      eps: this.eps,
      momentum: this.momentum,
      affine: this.affine,
      trackRunningStats: this.trackRunningStats,
    };
  }

  /** `BatchNorm2d(64)`, with the options that differ from the defaults. */
  override describe(): string {
    const parts = [String(this.numFeatures)];
    if (this.eps !== 1e-5) parts.push(`eps=${this.eps}`);
    if (this.momentum !== 0.1) parts.push(`momentum=${this.momentum}`);
    if (!this.affine) parts.push('affine=false');
    if (!this.trackRunningStats) parts.push('trackRunningStats=false');
    return `${this.#layer}(${parts.join(', ')})`;
  }
}

/** Batch norm over `[N, C]` or `[N, C, L]` (after a Linear or a Conv1d), as `torch.nn.BatchNorm1d`. */
export class BatchNorm1d extends BatchNormNd {
  constructor(numFeatures: number, options?: BatchNormLayerOptions) {
    super('BatchNorm1d', [2, 3], '[N, C] or [N, C, L]', numFeatures, options);
  }
}

/** Batch norm over `[N, C, H, W]`, as `torch.nn.BatchNorm2d`. */
export class BatchNorm2d extends BatchNormNd {
  constructor(numFeatures: number, options?: BatchNormLayerOptions) {
    super('BatchNorm2d', [4], '[N, C, H, W]', numFeatures, options);
  }
}

/** Batch norm over `[N, C, D, H, W]`, as `torch.nn.BatchNorm3d`. */
export class BatchNorm3d extends BatchNormNd {
  constructor(numFeatures: number, options?: BatchNormLayerOptions) {
    super('BatchNorm3d', [5], '[N, C, D, H, W]', numFeatures, options);
  }
}

/** Options of {@link LocalResponseNorm}. */
export interface LocalResponseNormLayerOptions {
  /** Scale of the sum of squares (default 1e-4; divided by size, as PyTorch). */
  alpha?: number;
  /** Exponent (default 0.75). */
  beta?: number;
  /** Additive constant (default 1; AlexNet used 2). */
  k?: number;
}

/**
 * Local response normalisation across `size` neighbouring channels (AlexNet), as
 * `torch.nn.LocalResponseNorm`: `y = x / (k + alpha / size * sum x^2) ^ beta`. Input `[N, C, ...]`.
 */
export class LocalResponseNorm extends Module {
  readonly size: number;
  readonly alpha: number;
  readonly beta: number;
  readonly k: number;

  constructor(size: number, options?: LocalResponseNormLayerOptions) {
    super();
    const o = layerOptions('LocalResponseNorm', options, ['alpha', 'beta', 'k']);
    this.size = positiveInt('LocalResponseNorm', 'size', size);
    this.alpha = finite('LocalResponseNorm', 'alpha', o['alpha'], 1e-4);
    this.beta = finite('LocalResponseNorm', 'beta', o['beta'], 0.75);
    this.k = finite('LocalResponseNorm', 'k', o['k'], 1);
  }

  forward(x: Tensor): Tensor {
    if (!(x instanceof Tensor)) throw invalidArgument('the input of LocalResponseNorm', 'a Tensor', x);
    return localResponseNorm(x, this.size, { alpha: this.alpha, beta: this.beta, k: this.k });
  }

  override config(): { [key: string]: JsonValue } {
    return { size: this.size, alpha: this.alpha, beta: this.beta, k: this.k };
  }

  override describe(): string {
    return `LocalResponseNorm(${this.size}, alpha=${this.alpha}, beta=${this.beta}, k=${this.k})`;
  }
}

type BatchNormConfig = BatchNormLayerOptions & { numFeatures: number };
const bnOptions = ({ numFeatures: _, ...rest }: BatchNormConfig): BatchNormLayerOptions => rest;

registerModuleType('BatchNorm1d', BatchNorm1d, (config) => {
  const c = configAs<BatchNormConfig>(config);
  return new BatchNorm1d(c.numFeatures, bnOptions(c));
});
registerModuleType('BatchNorm2d', BatchNorm2d, (config) => {
  const c = configAs<BatchNormConfig>(config);
  return new BatchNorm2d(c.numFeatures, bnOptions(c));
});
registerModuleType('BatchNorm3d', BatchNorm3d, (config) => {
  const c = configAs<BatchNormConfig>(config);
  return new BatchNorm3d(c.numFeatures, bnOptions(c));
});
registerModuleType('LocalResponseNorm', LocalResponseNorm, (config) => {
  const { size, ...rest } = configAs<LocalResponseNormLayerOptions & { size: number }>(config);
  return new LocalResponseNorm(size, rest);
});
