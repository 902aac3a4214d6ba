/**
 * Picks the dataset format of a path:
 *
 * 1. a `.csv` file → {@link CsvManifest} (no test split);
 * 2. a folder with `train-images-idx3-ubyte[.gz]` or `t10k-images-idx3-ubyte[.gz]` → MNIST format
 *    (train = `train-*`, test = `t10k-*` when present);
 * 3. a folder (or its `cifar-10-batches-bin` / `cifar-100-binary` subfolder) with CIFAR binaries
 *    → CIFAR-10/100 (train = data_batch_* / train.bin, test = test_batch.bin / test.bin);
 * 4. a folder with `train/` and `val/` or `test/` subfolders that hold class folders → two
 *    {@link ImageFolder}s;
 * 5. a folder of class subfolders → {@link ImageFolder} (no test split).
 */
import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ArgumentError } from '../errors.js';
import { findCifar, loadCifar } from './cifar.js';
import { CsvManifest } from './csv-manifest.js';
import { findIdxFile, loadMnist } from './idx.js';
import { classFolders, ImageFolder } from './image-folder.js';
import type { ChannelStat } from './normalize.js';
import type { Dataset, Preprocess } from './types.js';

/** What {@link detectDataset} found. */
export type DatasetKind = 'idx' | 'cifar10' | 'cifar100' | 'csv' | 'image-folder';

/** Options of {@link detectDataset}. */
export interface DetectOptions {
  /** For image files (ImageFolder, CSV): default ImageNet's 224 preprocessing. */
  preprocess?: Preprocess;
  /** For IDX/CIFAR: per-channel mean/std after scaling to [0, 1] (default none: 0 and 1). */
  mean?: ChannelStat;
  std?: ChannelStat;
  /** For IDX: output size and channels (bilinear resampling, grey replicated). */
  size?: [number, number];
  channels?: 1 | 3;
  /** Class names, overriding what the format gives. */
  classes?: string[];
}

/** A detected dataset: the training split, the standard test split when there is one, and the format. */
export interface DetectedDataset {
  train: Dataset;
  test?: Dataset;
  kind: DatasetKind;
}

function isDir(p: string): boolean {
  return statSync(p, { throwIfNoEntry: false })?.isDirectory() === true;
}

/**
 * Opens the dataset at `path`, whatever its format (see the module comment).
 * @throws ArgumentError listing what was looked for when nothing matches.
 */
export function detectDataset(path: string, options: DetectOptions = {}): DetectedDataset {
  const abs = resolve(path);
  const st = statSync(abs, { throwIfNoEntry: false });
  if (st === undefined) throw new ArgumentError(`detectDataset: ${abs} does not exist`);
  const fileOpts = { ...(options.preprocess ? { preprocess: options.preprocess } : {}), ...(options.classes ? { classes: options.classes } : {}) };
  const arrayOpts = {
    ...(options.mean !== undefined ? { mean: options.mean } : {}),
    ...(options.std !== undefined ? { std: options.std } : {}),
    ...(options.classes ? { classes: options.classes } : {}),
  };
  if (st.isFile()) {
    if (abs.toLowerCase().endsWith('.csv')) return { train: new CsvManifest(abs, fileOpts), kind: 'csv' };
    throw new ArgumentError(`detectDataset: ${abs} is a file but not a .csv manifest; expected a .csv file or a dataset folder`);
  }
  if (findIdxFile(abs, 'train', 'images') !== null || findIdxFile(abs, 't10k', 'images') !== null) {
    const idxOpts = { ...arrayOpts, ...(options.size ? { size: options.size } : {}), ...(options.channels ? { channels: options.channels } : {}) };
    const hasTrain = findIdxFile(abs, 'train', 'images') !== null;
    const hasTest = findIdxFile(abs, 't10k', 'images') !== null;
    const train = loadMnist(abs, { ...idxOpts, split: hasTrain ? 'train' : 'test' });
    return { train, ...(hasTrain && hasTest ? { test: loadMnist(abs, { ...idxOpts, split: 'test' }) } : {}), kind: 'idx' };
  }
  const cifar = findCifar(abs);
  if (cifar !== null) {
    const hasTrain = existsSync(join(cifar.dir, cifar.variant === 'cifar10' ? 'data_batch_1.bin' : 'train.bin'));
    const hasTest = existsSync(join(cifar.dir, cifar.variant === 'cifar10' ? 'test_batch.bin' : 'test.bin'));
    const train = loadCifar(abs, { ...arrayOpts, split: hasTrain ? 'train' : 'test' });
    return { train, ...(hasTrain && hasTest ? { test: loadCifar(abs, { ...arrayOpts, split: 'test' }) } : {}), kind: cifar.variant };
  }
  const trainDir = join(abs, 'train');
  const testDir = ['val', 'test', 'valid', 'validation'].map((d) => join(abs, d)).find(isDir);
  if (isDir(trainDir) && testDir !== undefined && classFolders(trainDir).length > 0) {
    const train = new ImageFolder(trainDir, fileOpts);
    const test = new ImageFolder(testDir, fileOpts);
    if (test.classes.join('\n') !== train.classes.join('\n')) {
      throw new ArgumentError(`detectDataset: ${testDir} has classes [${test.classes.join(', ')}] but ${trainDir} has [${train.classes.join(', ')}]`);
    }
    return { train, test, kind: 'image-folder' };
  }
  if (classFolders(abs).length > 0) return { train: new ImageFolder(abs, fileOpts), kind: 'image-folder' };
  throw new ArgumentError(
    `detectDataset: cannot tell the format of ${abs}; looked for a .csv manifest, IDX files ` +
      '(train-images-idx3-ubyte[.gz], t10k-images-idx3-ubyte[.gz]), CIFAR binaries (data_batch_1.bin, test_batch.bin, ' +
      'train.bin, test.bin, also under cifar-10-batches-bin/ or cifar-100-binary/), train/ + val/ or test/ class folders, ' +
      'and class subfolders of images',
  );
}
