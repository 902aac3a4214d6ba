/**
 * CIFAR-10 and CIFAR-100 in their binary versions ("CIFAR-10 binary version (suitable for C
 * programs)"). CIFAR-10: `data_batch_1..5.bin`, `test_batch.bin`, names in `batches.meta.txt`;
 * each record is 1 label byte + 3072 pixel bytes. CIFAR-100: `train.bin`, `test.bin`, names in
 * `fine_label_names.txt`; each record is a coarse and a fine label byte + 3072 pixel bytes (the
 * fine label is used). Pixels are stored as the R, G and B 32 x 32 planes: already CHW.
 *
 * Samples are pixels / 255 then `(x - mean[c]) / std[c]` (default mean 0, std 1;
 * {@link CIFAR10_MEAN}/{@link CIFAR10_STD} are the usual statistics).
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ArgumentError, FormatError } from '../errors.js';
import { checkIndex } from './idx.js';
import { channelStat, normalizeInPlace, type ChannelStat } from './normalize.js';
import type { CifarSpec } from './spec.js';
import type { Dataset, Sample } from './types.js';

/** CIFAR-10's training-set per-channel mean and std (after scaling to [0, 1]). */
export const CIFAR10_MEAN = [0.4914, 0.4822, 0.4465];
export const CIFAR10_STD = [0.247, 0.2435, 0.2616];
/** CIFAR-10's class names (as in batches.meta.txt). */
export const CIFAR10_CLASSES = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'];

const PIXELS = 3 * 32 * 32;

/** Options of {@link CifarDataset}. */
export interface CifarOptions {
  mean?: ChannelStat;
  std?: ChannelStat;
  /** Class names; default from the meta file next to the data, else the standard names / '0'..'99'. */
  classes?: string[];
}

/** CIFAR binary files held in memory. */
export class CifarDataset implements Dataset {
  readonly length: number;
  readonly classes: string[];
  readonly sampleShape: [number, number, number] = [3, 32, 32];
  readonly variant: 'cifar10' | 'cifar100';
  readonly #files: string[];
  readonly #buffers: Buffer[];
  /** Index of the first record of each file, plus the total. */
  readonly #starts: number[];
  readonly #mean: number[];
  readonly #std: number[];

  /**
   * Loads `files` (all of one variant).
   * @throws FormatError when a file is not a whole number of records or a label is out of range.
   */
  constructor(variant: 'cifar10' | 'cifar100', files: string[], options: CifarOptions = {}) {
    if (variant !== 'cifar10' && variant !== 'cifar100') {
      throw new ArgumentError(`Expected variant 'cifar10' or 'cifar100' but received ${JSON.stringify(variant)}`);
    }
    if (!Array.isArray(files) || files.length === 0) throw new ArgumentError('CifarDataset: expected at least one file');
    const record = variant === 'cifar10' ? 1 + PIXELS : 2 + PIXELS;
    const nClasses = variant === 'cifar10' ? 10 : 100;
    this.variant = variant;
    this.classes = options.classes ?? readCifarNames(files[0]!, variant);
    if (this.classes.length < nClasses) {
      throw new ArgumentError(`CifarDataset: ${variant} needs ${nClasses} class names; received ${this.classes.length}`);
    }
    this.#files = [...files];
    this.#buffers = [];
    this.#starts = [0];
    for (const file of files) {
      let buf: Buffer;
      try {
        buf = readFileSync(file);
      } catch (err) {
        throw new FormatError(`${file}: cannot read file: ${(err as Error).message}`);
      }
      if (buf.length === 0 || buf.length % record !== 0) {
        const whole = Math.floor(buf.length / record);
        throw new FormatError(
          `${file}: ${buf.length} bytes is not a whole number of ${variant} records of ${record} bytes ` +
            `(record ${whole} at offset ${whole * record} has ${buf.length - whole * record} of ${record} bytes)`,
        );
      }
      const n = buf.length / record;
      const labelAt = variant === 'cifar10' ? 0 : 1;
      for (let i = 0; i < n; i++) {
        const label = buf[i * record + labelAt]!;
        if (label >= nClasses) {
          throw new FormatError(`${file}: label ${label} at offset ${i * record + labelAt} (record ${i}) is out of range for ${nClasses} classes`);
        }
      }
      this.#buffers.push(buf);
      this.#starts.push(this.#starts[this.#starts.length - 1]! + n);
    }
    this.length = this.#starts[this.#starts.length - 1]!;
    this.#mean = channelStat(options.mean, 3, 0, 'mean');
    this.#std = channelStat(options.std, 3, 1, 'std');
  }

  /** Rebuilds a dataset from {@link spec}'s output. */
  static fromSpec(spec: CifarSpec): CifarDataset {
    return new CifarDataset(spec.variant, spec.files, { classes: spec.classes, mean: spec.mean, std: spec.std });
  }

  #locate(index: number): [number, number] {
    checkIndex(index, this.length);
    let f = 0;
    while (index >= this.#starts[f + 1]!) f++;
    return [f, index - this.#starts[f]!];
  }

  /** Sample `index`: [3, 32, 32] float32 and its (fine) label. */
  get(index: number): Sample {
    const [f, r] = this.#locate(index);
    const record = this.variant === 'cifar10' ? 1 + PIXELS : 2 + PIXELS;
    const buf = this.#buffers[f]!;
    const at = r * record;
    const label = buf[at + record - PIXELS - 1]!;
    const px = buf.subarray(at + record - PIXELS, at + record);
    const input = new Float32Array(PIXELS);
    for (let i = 0; i < PIXELS; i++) input[i] = px[i]! / 255;
    normalizeInPlace(input, 3, this.#mean, this.#std);
    return { input, label };
  }

  /** `file#record`. */
  source(index: number): string {
    const [f, r] = this.#locate(index);
    return `${this.#files[f]}#${r}`;
  }

  /** A plain-JSON description; {@link datasetFromSpec} rebuilds it (rereading the files). */
  spec(): CifarSpec {
    return { kind: 'cifar', variant: this.variant, files: [...this.#files], classes: [...this.classes], mean: [...this.#mean], std: [...this.#std] };
  }
}

/** Class names from the meta file next to `file`, else the defaults. */
function readCifarNames(file: string, variant: 'cifar10' | 'cifar100'): string[] {
  const dir = resolve(file, '..');
  const meta = join(dir, variant === 'cifar10' ? 'batches.meta.txt' : 'fine_label_names.txt');
  if (existsSync(meta)) {
    const names = readFileSync(meta, 'utf8').split(/\r?\n/).map((s) => s.trim()).filter((s) => s.length > 0);
    if (names.length >= (variant === 'cifar10' ? 10 : 100)) return names;
  }
  return variant === 'cifar10' ? [...CIFAR10_CLASSES] : Array.from({ length: 100 }, (_, i) => String(i));
}

/** The folder holding CIFAR binaries: `dir` itself or a standard subfolder of it. */
export function findCifar(dir: string): { variant: 'cifar10' | 'cifar100'; dir: string } | null {
  for (const d of [dir, join(dir, 'cifar-10-batches-bin'), join(dir, 'cifar-100-binary')]) {
    if (existsSync(join(d, 'data_batch_1.bin')) || existsSync(join(d, 'test_batch.bin'))) return { variant: 'cifar10', dir: d };
    if (existsSync(join(d, 'train.bin')) || existsSync(join(d, 'test.bin'))) {
      // CIFAR-100's train.bin; make sure it is not some other format's train.bin: record size 3074.
      const f = existsSync(join(d, 'train.bin')) ? join(d, 'train.bin') : join(d, 'test.bin');
      if (statSync(f).size % (2 + PIXELS) === 0) return { variant: 'cifar100', dir: d };
    }
  }
  return null;
}

/** Options of {@link loadCifar}. */
export interface LoadCifarOptions extends CifarOptions {
  /** 'train' (default) or 'test'. */
  split?: 'train' | 'test';
}

/**
 * CIFAR-10 or CIFAR-100 (detected from the file names) from `dir` or its standard subfolder.
 * @throws ArgumentError naming the files looked for when none are there.
 */
export function loadCifar(dir: string, options: LoadCifarOptions = {}): CifarDataset {
  const split = options.split ?? 'train';
  if (split !== 'train' && split !== 'test') throw new ArgumentError(`Expected split 'train' or 'test' but received ${JSON.stringify(split)}`);
  const found = findCifar(resolve(dir));
  if (found === null) {
    throw new ArgumentError(
      `${resolve(dir)}: no CIFAR binaries: expected data_batch_1..5.bin/test_batch.bin (CIFAR-10) or train.bin/test.bin (CIFAR-100)`,
    );
  }
  let files: string[];
  if (found.variant === 'cifar10') {
    files = split === 'train'
      ? [1, 2, 3, 4, 5].map((i) => join(found.dir, `data_batch_${i}.bin`)).filter((f) => existsSync(f))
      : [join(found.dir, 'test_batch.bin')].filter((f) => existsSync(f));
  } else {
    files = [join(found.dir, split === 'train' ? 'train.bin' : 'test.bin')].filter((f) => existsSync(f));
  }
  if (files.length === 0) {
    throw new ArgumentError(`${found.dir}: no ${found.variant} ${split} split (${split === 'train' ? 'data_batch_*.bin / train.bin' : 'test_batch.bin / test.bin'})`);
  }
  const { split: _s, ...rest } = options;
  return new CifarDataset(found.variant, files, rest);
}
