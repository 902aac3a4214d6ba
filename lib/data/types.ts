/**
 * The data path's shared types: what a dataset yields, how images become tensors (the
 * preprocessing a checkpoint records so `predict` can feed any image to the model), and what a
 * loader hands the training loop.
 *
 *   files / IDX / CIFAR ─▶ Dataset.get(i) ─▶ Sample (CHW float32) ─▶ DataLoader ─▶ Batch (NCHW)
 */
import type { Tensor } from '../tensor/tensor.js';

/**
 * How an image file becomes a CHW float32 array, in this order: decode (EXIF orientation
 * applied), convert to `channels`, resize so the shorter side is `resize` (when given), centre-crop
 * to `size` (or resize straight to `size` when `resize` is absent), scale to [0, 1], then
 * `(x - mean[c]) / std[c]`. Plain JSON: checkpoints store it.
 */
export interface Preprocess {
  /** 1 (grey) or 3 (RGB). */
  channels: 1 | 3;
  /** Output [height, width]. */
  size: [number, number];
  /** Shorter side before the centre crop; absent: resize straight to `size` (aspect not kept). */
  resize?: number;
  /** Per-channel mean after scaling to [0, 1] (length `channels`). */
  mean: number[];
  /** Per-channel standard deviation after scaling to [0, 1] (length `channels`). */
  std: number[];
}

/** One example: a CHW float32 image (already preprocessed) and its class index. */
export interface Sample {
  input: Float32Array;
  label: number;
}

/** A sample that could not be read: where it came from and why. */
export interface SkippedSample {
  index: number;
  /** The file path (or `file#record` for records inside IDX/CIFAR files). */
  source: string;
  reason: string;
}

/**
 * A random-access dataset. `get` may be async (image files) or sync (IDX/CIFAR arrays); it throws
 * (a FormatError for unreadable data) rather than returning garbage.
 */
export interface Dataset {
  readonly length: number;
  /** Class names, index = label. */
  readonly classes: string[];
  /** [C, H, W] of every sample's input. */
  readonly sampleShape: [number, number, number];
  get(index: number): Sample | Promise<Sample>;
  /** A human-readable origin of sample `index` (a file path, or `file#record`). */
  source(index: number): string;
}

/** One mini-batch. Samples that failed to load are left out and listed in `skipped`. */
export interface Batch {
  /** [N, C, H, W]. */
  input: Tensor;
  /** Class indices, length N. */
  target: Int32Array;
  /** Dataset indices of the N samples, in batch order. */
  indices: number[];
  skipped: SkippedSample[];
}

/**
 * What the training loop consumes: a deterministic sequence of batches per epoch. The order of
 * epoch `e` depends only on (seed, e), so a loader's position is just `{ epoch, batch }` and a
 * resumed run continues on the same batches.
 */
export interface BatchSource {
  readonly dataset: Dataset;
  /** Batches in one epoch. */
  readonly batchesPerEpoch: number;
  readonly batchSize: number;
  /** Batches of `epoch`, starting at batch index `startBatch` (default 0). */
  batches(epoch: number, startBatch?: number): AsyncIterable<Batch>;
  /** Stops worker threads. Idempotent. */
  close(): Promise<void>;
}
