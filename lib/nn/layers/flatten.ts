/**
 * `Flatten`: merges dimensions `startDim..endDim` into one, as `torch.nn.Flatten` (default: all but
 * the batch dimension, `[N, C, H, W]` to `[N, C*H*W]`, the step between convolutions and a `Linear`).
 * The result shares the input's buffer.
 */
import { invalidArgument } from '../../errors.js';
import { flatten } from '../../functional/tensor-ops.js';
import { Tensor } from '../../tensor/tensor.js';
import { Module, registerModuleType, type JsonValue } from '../module.js';
import { configAs, integer, layerOptions } from './args.js';

/** Options of {@link Flatten}. */
export interface FlattenLayerOptions {
  /** First dimension to merge (default 1: the batch dimension is kept). */
  startDim?: number;
  /** Last dimension to merge, inclusive (default -1). */
  endDim?: number;
}

/** Flattens `startDim..endDim` (default 1..-1). */
export class Flatten extends Module {
  readonly startDim: number;
  readonly endDim: number;

  constructor(options?: FlattenLayerOptions) {
    super();
    const o = layerOptions('Flatten', options, ['startDim', 'endDim']);
    this.startDim = integer('Flatten', 'startDim', o['startDim'] ?? 1);
    this.endDim = integer('Flatten', 'endDim', o['endDim'] ?? -1);
  }

  forward(x: Tensor): Tensor {
    if (!(x instanceof Tensor)) throw invalidArgument('the input of Flatten', 'a Tensor', x);
    return flatten(x, { startDim: this.startDim, endDim: this.endDim });
  }

  override config(): { [key: string]: JsonValue } {
    return { startDim: this.startDim, endDim: this.endDim };
  }

  override describe(): string {
    return this.startDim === 1 && this.endDim === -1 ? 'Flatten()' : `Flatten(startDim=${this.startDim}, endDim=${this.endDim})`;
  }
}

registerModuleType('Flatten', Flatten, (config) => new Flatten(configAs<FlattenLayerOptions>(config)));
