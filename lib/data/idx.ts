/**
 * MNIST-style IDX files (MNIST, Fashion-MNIST, KMNIST...): the official
 * `train-images-idx3-ubyte[.gz]`, `train-labels-idx1-ubyte[.gz]`, `t10k-*` files, gzipped or not.
 *
 * Format (big-endian): bytes 0-1 zero, byte 2 the element type (0x08 = uint8, the only one
 * accepted), byte 3 the number of dimensions, then one uint32 per dimension, then the data.
 * Every length is checked against the (decompressed) file, so a truncated download is a
 * FormatError naming the file, the offset of the data and expected vs actual lengths.
 *
 * Samples: pixels / 255, optionally resized (bilinear, PyTorch's align_corners=False) to `size`,
 * grey replicated to `channels`, then `(x - mean) / std`. The default is mean 0, std 1 (inputs
 * in [0, 1], as torchvision's `ToTensor()`); {@link MNIST_MEAN}/{@link FASHION_MNIST_MEAN} and the
 * matching STDs are exported for the usual normalisation.
 */
import { existsSync, readFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { ArgumentError, FormatError } from '../errors.js';
import { channelStat, normalizeInPlace, type ChannelStat } from './normalize.js';
import { resizeBilinear } from './resample.js';
import type { IdxSpec } from './spec.js';
import type { Dataset, Sample } from './types.js';

/** MNIST's training-set pixel mean and std (after scaling to [0, 1]). */
export const MNIST_MEAN = 0.1307;
export const MNIST_STD = 0.3081;
/** Fashion-MNIST's training-set pixel mean and std (after scaling to [0, 1]). */
export const FASHION_MNIST_MEAN = 0.286;
export const FASHION_MNIST_STD = 0.353;
/** Fashion-MNIST's class names, index = label. */
export const FASHION_MNIST_CLASSES = [
  'T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot',
];
const DIGITS = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];

/** A parsed IDX file: dimensions and the uint8 data (a view into the file's bytes). */
export interface IdxArray {
  dims: number[];
  data: Uint8Array;
}

/** Reads a file, gunzipping when it starts with the gzip magic; errors name the file. */
function readMaybeGzip(file: string): Buffer {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (err) {
    throw new FormatError(`${file}: cannot read file: ${(err as Error).message}`);
  }
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      return gunzipSync(bytes);
    } catch (err) {
      throw new FormatError(`${file}: corrupt or truncated gzip stream (${bytes.length} compressed bytes): ${(err as Error).message}`);
    }
  }
  return bytes;
}

/**
 * Parses an IDX file's bytes (already decompressed).
 * @param expectDims the number of dimensions required (3 for images, 1 for labels).
 * @throws FormatError on a bad magic number, element type, dimension count or length.
 */
export function parseIdx(bytes: Uint8Array, file: string, expectDims: number): IdxArray {
  const gz = file.endsWith('.gz') ? ' (decompressed)' : '';
  if (bytes.length < 4) throw new FormatError(`${file}: ${bytes.length} bytes${gz}; an IDX file needs at least a 4-byte header`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = view.getUint32(0);
  if (bytes[0] !== 0 || bytes[1] !== 0) {
    throw new FormatError(`${file}: bad IDX magic number 0x${magic.toString(16).padStart(8, '0')}; expected 0x0000080${expectDims}`);
  }
  if (bytes[2] !== 0x08) {
    throw new FormatError(`${file}: IDX element type 0x${bytes[2]!.toString(16)} is not supported; expected 0x08 (unsigned byte)`);
  }
  const ndims = bytes[3]!;
  if (ndims !== expectDims) {
    throw new FormatError(`${file}: IDX file has ${ndims} dimension(s) (magic 0x${magic.toString(16).padStart(8, '0')}); expected ${expectDims}`);
  }
  const header = 4 + 4 * ndims;
  if (bytes.length < header) {
    throw new FormatError(`${file}: truncated header: ${bytes.length} bytes${gz}, expected at least ${header}`);
  }
  const dims: number[] = [];
  for (let i = 0; i < ndims; i++) dims.push(view.getUint32(4 + 4 * i));
  const need = dims.reduce((a, b) => a * b, 1);
  const have = bytes.length - header;
  if (have !== need) {
    throw new FormatError(
      `${file}: ${have < need ? 'truncated' : 'trailing bytes'}: data at offset ${header} should be ${need} bytes ` +
        `(dims ${dims.join('x')}; file length ${header + need}) but the file${gz} has ${have} (file length ${bytes.length})`,
    );
  }
  return { dims, data: bytes.subarray(header) };
}

/** Options of {@link IdxDataset} and {@link loadMnist}. */
export interface IdxOptions {
  /** Per-channel mean after scaling to [0, 1]; default 0. */
  mean?: ChannelStat;
  /** Per-channel std after scaling to [0, 1]; default 1. */
  std?: ChannelStat;
  /** Output [height, width] (bilinear resampling); default the files' size (28 x 28). */
  size?: [number, number];
  /** 1 (default) or 3 (grey replicated). */
  channels?: 1 | 3;
  /** Class names; default Fashion-MNIST's when the folder name contains 'fashion', else '0'..'9'. */
  classes?: string[];
}

/** An IDX image file plus its label file, held in memory (uint8). */
export class IdxDataset implements Dataset {
  readonly length: number;
  readonly classes: string[];
  readonly sampleShape: [number, number, number];
  readonly #images: Uint8Array;
  readonly #labels: Uint8Array;
  readonly #imagesPath: string;
  readonly #labelsPath: string;
  readonly #h: number;
  readonly #w: number;
  readonly #mean: number[];
  readonly #std: number[];

  /**
   * Loads `imagesPath` and `labelsPath` (gzipped or not).
   * @throws FormatError for a corrupt/truncated file or mismatched counts; ArgumentError for bad options.
   */
  constructor(imagesPath: string, labelsPath: string, options: IdxOptions = {}) {
    const images = parseIdx(readMaybeGzip(imagesPath), imagesPath, 3);
    const labels = parseIdx(readMaybeGzip(labelsPath), labelsPath, 1);
    const [n, h, w] = images.dims as [number, number, number];
    if (labels.dims[0] !== n) {
      throw new FormatError(`${labelsPath}: ${labels.dims[0]} labels but ${imagesPath} holds ${n} images`);
    }
    this.classes = options.classes ?? (/fashion/i.test(imagesPath) ? [...FASHION_MNIST_CLASSES] : [...DIGITS]);
    if (!Array.isArray(this.classes) || this.classes.length === 0) {
      throw new ArgumentError(`Expected classes to be a non-empty array of names but received ${JSON.stringify(options.classes)}`);
    }
    for (let i = 0; i < n; i++) {
      if (labels.data[i]! >= this.classes.length) {
        throw new FormatError(
          `${labelsPath}: label ${labels.data[i]} at offset ${8 + i} is out of range for ${this.classes.length} classes`,
        );
      }
    }
    const channels = options.channels ?? 1;
    if (channels !== 1 && channels !== 3) throw new ArgumentError(`Expected channels 1 or 3 but received ${String(channels)}`);
    const size = options.size ?? [h, w];
    if (!Array.isArray(size) || size.length !== 2 || !size.every((v) => Number.isInteger(v) && v >= 1)) {
      throw new ArgumentError(`Expected size to be [height, width] of positive integers but received ${JSON.stringify(size)}`);
    }
    this.#mean = channelStat(options.mean, channels, 0, 'mean');
    this.#std = channelStat(options.std, channels, 1, 'std');
    this.length = n;
    this.sampleShape = [channels, size[0], size[1]];
    this.#images = images.data;
    this.#labels = labels.data;
    this.#imagesPath = imagesPath;
    this.#labelsPath = labelsPath;
    this.#h = h;
    this.#w = w;
  }

  /** Rebuilds a dataset from {@link spec}'s output. */
  static fromSpec(spec: IdxSpec): IdxDataset {
    return new IdxDataset(spec.images, spec.labels, {
      classes: spec.classes, mean: spec.mean, std: spec.std, size: spec.size, channels: spec.channels,
    });
  }

  /** The raw label of every sample, in order (a copy). */
  labels(): Uint8Array {
    return this.#labels.slice();
  }

  /** Sample `index`: [C, H, W] float32 and its label. */
  get(index: number): Sample {
    checkIndex(index, this.length);
    const [c, oh, ow] = this.sampleShape;
    const h = this.#h;
    const w = this.#w;
    const plane = h * w;
    let grey: Float32Array = new Float32Array(plane);
    const src = this.#images.subarray(index * plane, (index + 1) * plane);
    for (let i = 0; i < plane; i++) grey[i] = src[i]! / 255;
    if (oh !== h || ow !== w) grey = resizeBilinear(grey, [1, h, w], { top: 0, left: 0, height: h, width: w }, oh, ow);
    let input = grey;
    if (c === 3) {
      input = new Float32Array(3 * oh * ow);
      for (let k = 0; k < 3; k++) input.set(grey, k * oh * ow);
    }
    normalizeInPlace(input, c, this.#mean, this.#std);
    return { input, label: this.#labels[index]! };
  }

  /** `images-file#index`. */
  source(index: number): string {
    return `${this.#imagesPath}#${index}`;
  }

  /** A plain-JSON description; {@link datasetFromSpec} rebuilds it (rereading the files). */
  spec(): IdxSpec {
    return {
      kind: 'idx', images: this.#imagesPath, labels: this.#labelsPath, classes: [...this.classes],
      mean: [...this.#mean], std: [...this.#std], size: [this.sampleShape[1], this.sampleShape[2]],
      channels: this.sampleShape[0] as 1 | 3,
    };
  }
}

/** @throws ArgumentError unless `index` is an integer in [0, length). */
export function checkIndex(index: number, length: number): void {
  if (!Number.isInteger(index) || index < 0 || index >= length) {
    throw new ArgumentError(`Expected a sample index in [0, ${length}) but received ${String(index)}`);
  }
}

/** The IDX file of `kind` for `prefix` ('train' or 't10k') in `dir`, or null. */
export function findIdxFile(dir: string, prefix: string, kind: 'images' | 'labels'): string | null {
  const n = kind === 'images' ? 3 : 1;
  for (const name of [`${prefix}-${kind}-idx${n}-ubyte`, `${prefix}-${kind}.idx${n}-ubyte`]) {
    for (const ext of ['', '.gz']) {
      const p = join(dir, name + ext);
      if (existsSync(p)) return p;
    }
  }
  return null;
}

/** Options of {@link loadMnist}. */
export interface MnistOptions extends IdxOptions {
  /** 'train' (default; the `train-*` files) or 'test' (`t10k-*`). */
  split?: 'train' | 'test';
}

/**
 * MNIST or Fashion-MNIST (or any IDX pair named like them) from `dir`.
 * @throws ArgumentError naming the files looked for when they are missing; FormatError when corrupt.
 */
export function loadMnist(dir: string, options: MnistOptions = {}): IdxDataset {
  const split = options.split ?? 'train';
  if (split !== 'train' && split !== 'test') throw new ArgumentError(`Expected split 'train' or 'test' but received ${JSON.stringify(split)}`);
  const root = resolve(dir);
  const prefix = split === 'train' ? 'train' : 't10k';
  const images = findIdxFile(root, prefix, 'images');
  const labels = findIdxFile(root, prefix, 'labels');
  if (images === null || labels === null) {
    throw new ArgumentError(
      `${root}: no MNIST ${split} split: expected ${prefix}-images-idx3-ubyte[.gz] and ${prefix}-labels-idx1-ubyte[.gz]`,
    );
  }
  const { split: _split, ...rest } = options;
  const classes = rest.classes ?? (/fashion/i.test(basename(root)) ? [...FASHION_MNIST_CLASSES] : [...DIGITS]);
  return new IdxDataset(images, labels, { ...rest, classes });
}
