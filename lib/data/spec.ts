/**
 * Serialisable dataset descriptions: every dataset's `spec()` returns plain JSON that
 * {@link datasetFromSpec} turns back into an equivalent dataset, so a worker thread can rebuild
 * the dataset it decodes from.
 */
import { ArgumentError } from '../errors.js';
import { CifarDataset } from './cifar.js';
import { FileDataset } from './files.js';
import { IdxDataset } from './idx.js';
import type { Preprocess } from './types.js';

/** An {@link IdxDataset}: the two IDX files and the conversions. */
export interface IdxSpec {
  kind: 'idx';
  images: string;
  labels: string;
  classes: string[];
  mean: number[];
  std: number[];
  size: [number, number];
  channels: 1 | 3;
}

/** A {@link CifarDataset}: its binary files, in order. */
export interface CifarSpec {
  kind: 'cifar';
  variant: 'cifar10' | 'cifar100';
  files: string[];
  classes: string[];
  mean: number[];
  std: number[];
}

/** A {@link FileDataset} (ImageFolder, CsvManifest): the resolved file list, not the scan. */
export interface FilesSpec {
  kind: 'files';
  /** What built it, for messages: 'image-folder' or 'csv'. */
  origin: string;
  classes: string[];
  preprocess: Preprocess;
  samples: [string, number][];
}

/** Any dataset description. */
export type DatasetSpec = IdxSpec | CifarSpec | FilesSpec;

/** A dataset that can describe itself as a {@link DatasetSpec}. */
export interface SpecDataset {
  spec(): DatasetSpec;
}

/** Rebuilds a dataset from its {@link DatasetSpec}. @throws ArgumentError for an unknown kind. */
export function datasetFromSpec(spec: DatasetSpec): IdxDataset | CifarDataset | FileDataset {
  switch (spec?.kind) {
    case 'idx':
      return IdxDataset.fromSpec(spec);
    case 'cifar':
      return CifarDataset.fromSpec(spec);
    case 'files':
      return FileDataset.fromSpec(spec);
    default:
      throw new ArgumentError(
        `datasetFromSpec: expected kind 'idx', 'cifar' or 'files' but received ${JSON.stringify((spec as { kind?: unknown } | null)?.kind)}`,
      );
  }
}

/** Whether `d` has a `spec()` method. */
export function hasSpec(d: object): d is SpecDataset {
  return typeof (d as Partial<SpecDataset>).spec === 'function';
}
