/**
 * `Dropout` (each element) and `Dropout2d` (whole channels), as `torch.nn`: active in training mode,
 * the identity in evaluation mode (`model.eval()`). Inverted dropout: kept values are scaled by
 * 1 / (1 - p) while training, so evaluation needs no rescaling.
 *
 * Masks come from convkit's default generator (`manualSeed` makes them reproducible); they cannot
 * equal PyTorch's. Differs from PyTorch: no `inplace` option.
 */
import { invalidArgument } from '../../errors.js';
import { dropout, dropout2d } from '../../functional/dropout.js';
import { Tensor } from '../../tensor/tensor.js';
import { Module, registerModuleType, type JsonValue } from '../module.js';
import { configAs, probability } from './args.js';

/** Zeroes each element with probability `p` (default 0.5) while training. */
export class Dropout extends Module {
  readonly p: number;

  constructor(p = 0.5) {
    super();
    this.p = probability('Dropout', 'p', p, 0.5);
  }

  forward(x: Tensor): Tensor {
    if (!(x instanceof Tensor)) throw invalidArgument('the input of Dropout', 'a Tensor', x);
    return dropout(x, { p: this.p, training: this.training });
  }

  override config(): { [key: string]: JsonValue } {
    return { p: this.p };
  }

  override describe(): string {
    return `Dropout(p=${this.p})`;
  }
}

/**
 * Zeroes whole channels of `[N, C, H, W]` (or `[C, H, W]`) with probability `p` (default 0.5) while
 * training: neighbouring pixels are correlated, so dropping single ones regularises little.
 */
export class Dropout2d extends Module {
  readonly p: number;

  constructor(p = 0.5) {
    super();
    this.p = probability('Dropout2d', 'p', p, 0.5);
  }

  forward(x: Tensor): Tensor {
    if (!(x instanceof Tensor)) throw invalidArgument('the input of Dropout2d', 'a Tensor', x);
    return dropout2d(x, { p: this.p, training: this.training });
  }

  override config(): { [key: string]: JsonValue } {
    return { p: this.p };
  }

  override describe(): string {
    return `Dropout2d(p=${this.p})`;
  }
}

registerModuleType('Dropout', Dropout, (config) => new Dropout(configAs<{ p?: number }>(config).p));
registerModuleType('Dropout2d', Dropout2d, (config) => new Dropout2d(configAs<{ p?: number }>(config).p));
