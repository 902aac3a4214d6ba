/**
 * A dataset of image files with labels: the common part of {@link ImageFolder} and
 * {@link CsvManifest}. Files are decoded on demand by {@link decodeImage}; an unreadable file
 * makes `get` reject with a FormatError (the loader turns it into a skipped sample).
 */
import { ArgumentError } from '../errors.js';
import { checkPreprocess, decodeImage, IMAGENET_MEAN, IMAGENET_STD } from './image.js';
import { checkIndex } from './idx.js';
import type { FilesSpec } from './spec.js';
import type { Dataset, Preprocess, Sample } from './types.js';

/** Default preprocessing for file datasets: ImageNet's (resize 256, centre-crop 224, RGB). */
export const DEFAULT_PREPROCESS: Preprocess = {
  channels: 3, size: [224, 224], resize: 256, mean: [...IMAGENET_MEAN], std: [...IMAGENET_STD],
};

/** Image files with class labels, decoded on demand. */
export class FileDataset implements Dataset {
  readonly classes: string[];
  readonly preprocess: Preprocess;
  /** `[path, label]` per sample. */
  readonly samples: [string, number][];
  readonly sampleShape: [number, number, number];
  /** What built it ('image-folder', 'csv'), for messages and specs. */
  readonly origin: string;

  /** A dataset over `samples` (paths should be absolute). */
  constructor(samples: [string, number][], classes: string[], preprocess: Preprocess, origin = 'files') {
    checkPreprocess(preprocess);
    for (const [p, l] of samples) {
      if (typeof p !== 'string' || !Number.isInteger(l) || l < 0 || l >= classes.length) {
        throw new ArgumentError(`FileDataset: expected [path, label in 0..${classes.length - 1}] but received ${JSON.stringify([p, l])}`);
      }
    }
    this.samples = samples;
    this.classes = classes;
    this.preprocess = preprocess;
    this.origin = origin;
    this.sampleShape = [preprocess.channels, preprocess.size[0], preprocess.size[1]];
  }

  /** Rebuilds a dataset from {@link spec}'s output (no directory scan). */
  static fromSpec(spec: FilesSpec): FileDataset {
    return new FileDataset(spec.samples, spec.classes, spec.preprocess, spec.origin);
  }

  get length(): number {
    return this.samples.length;
  }

  /** Decodes sample `index`. @throws FormatError when the file cannot be read or decoded. */
  async get(index: number): Promise<Sample> {
    checkIndex(index, this.samples.length);
    const [path, label] = this.samples[index]!;
    return { input: await decodeImage(path, this.preprocess), label };
  }

  /** The file path of sample `index`. */
  source(index: number): string {
    checkIndex(index, this.samples.length);
    return this.samples[index]![0];
  }

  /** A plain-JSON description, with the resolved file list. */
  spec(): FilesSpec {
    return { kind: 'files', origin: this.origin, classes: [...this.classes], preprocess: this.preprocess, samples: this.samples };
  }
}
