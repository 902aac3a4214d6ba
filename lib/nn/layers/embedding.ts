/**
 * `Embedding`: a lookup table of `numEmbeddings` vectors of size `embeddingDim`, as
 * `torch.nn.Embedding` (word vectors for 1-D convolutions over text). The weight is initialised
 * N(0, 1) as PyTorch's, with the `paddingIdx` row zeroed; that row gets no gradient.
 *
 * Differs from PyTorch: `maxNorm`, `normType`, `scaleGradByFreq` and `sparse` are not supported.
 */
import { ArgumentError } from '../../errors.js';
import { embedding, type EmbeddingIndices } from '../../functional/tensor-ops.js';
import { zeros } from '../../tensor/create.js';
import type { Tensor } from '../../tensor/tensor.js';
import { normal_, type InitOptions } from '../init.js';
import { Module, registerModuleType, type JsonValue } from '../module.js';
import { configAs, integer, layerOptions, positiveInt } from './args.js';

/** Options of {@link Embedding}. */
export interface EmbeddingLayerOptions {
  /**
   * The row that stands for padding: zero at initialisation and never updated by gradients
   * (negative counts from the end). Default: none.
   */
  paddingIdx?: number | null;
}

/** Looks up rows of `weight` `[numEmbeddings, embeddingDim]` by integer index. */
export class Embedding extends Module {
  readonly numEmbeddings: number;
  readonly embeddingDim: number;
  /** The padding row in 0..numEmbeddings-1 (a negative index given is normalised), or null. */
  readonly paddingIdx: number | null;
  /** `[numEmbeddings, embeddingDim]`. */
  readonly weight: Tensor;

  constructor(numEmbeddings: number, embeddingDim: number, options?: EmbeddingLayerOptions) {
    super();
    const o = layerOptions('Embedding', options, ['paddingIdx']);
    this.numEmbeddings = positiveInt('Embedding', 'numEmbeddings', numEmbeddings);
    this.embeddingDim = positiveInt('Embedding', 'embeddingDim', embeddingDim);
    const pi = o['paddingIdx'] ?? null;
    if (pi === null) {
      this.paddingIdx = null;
    } else {
      const n = this.numEmbeddings;
      const idx = integer('Embedding', 'paddingIdx', pi);
      if (idx < -n || idx >= n) {
        throw new ArgumentError(`Embedding: paddingIdx must be within -numEmbeddings..numEmbeddings-1 (${-n}..${n - 1}), received ${idx}`);
      }
      this.paddingIdx = idx < 0 ? idx + n : idx;
    }
    this.weight = this.registerParameter('weight', zeros([this.numEmbeddings, this.embeddingDim]));
    this.resetParameters();
  }

  /** PyTorch's default: N(0, 1), then the padding row set to zero. */
  resetParameters(options: InitOptions = {}): void {
    normal_(this.weight, 0, 1, options);
    if (this.paddingIdx !== null) {
      const d = this.embeddingDim;
      this.weight.data.fill(0, this.paddingIdx * d, (this.paddingIdx + 1) * d);
    }
  }

  /**
   * The rows for `indices` (a Tensor of integer values, an Int32Array or an array of integers): the
   * result has the indices' shape plus a last dimension `embeddingDim`.
   */
  forward(indices: EmbeddingIndices): Tensor {
    return embedding(indices, this.weight, this.paddingIdx === null ? {} : { paddingIdx: this.paddingIdx });
  }

  override config(): { [key: string]: JsonValue } {
    return { numEmbeddings: this.numEmbeddings, embeddingDim: this.embeddingDim, paddingIdx: this.paddingIdx };
  }

  override describe(): string {
    return `Embedding(${this.numEmbeddings}, ${this.embeddingDim}${this.paddingIdx === null ? '' : `, paddingIdx=${this.paddingIdx}`})`;
  }
}

registerModuleType('Embedding', Embedding, (config) => {
  const c = configAs<{ numEmbeddings: number; embeddingDim: number; paddingIdx?: number | null }>(config);
  return new Embedding(c.numEmbeddings, c.embeddingDim, { paddingIdx: c.paddingIdx ?? null });
});
