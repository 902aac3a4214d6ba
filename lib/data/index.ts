/**
 * The data pipeline: datasets (IDX/MNIST, CIFAR, image folders, CSV manifests, format detection),
 * seeded augmentations and the DataLoader.
 */
export type * from './types.js';
export { checkPreprocess, decodeImage, decodePixels, hwcToChw, hwcToChwInto, IMAGENET_MEAN, IMAGENET_STD } from './image.js';
export {
  FASHION_MNIST_CLASSES, FASHION_MNIST_MEAN, FASHION_MNIST_STD, IdxDataset, loadMnist, MNIST_MEAN, MNIST_STD, parseIdx,
  type IdxArray, type IdxOptions, type MnistOptions,
} from './idx.js';
export {
  CIFAR10_CLASSES, CIFAR10_MEAN, CIFAR10_STD, CifarDataset, loadCifar, type CifarOptions, type LoadCifarOptions,
} from './cifar.js';
export { DEFAULT_PREPROCESS, FileDataset } from './files.js';
export { IMAGE_EXTENSIONS, ImageFolder, type ImageFolderOptions } from './image-folder.js';
export { CsvManifest, parseCsv, type CsvManifestOptions, type CsvRow } from './csv-manifest.js';
export { detectDataset, type DatasetKind, type DetectedDataset, type DetectOptions } from './detect.js';
export { datasetFromSpec, type CifarSpec, type DatasetSpec, type FilesSpec, type IdxSpec, type SpecDataset } from './spec.js';
export type { ChannelStat } from './normalize.js';
export { affineBilinear, resizeBilinear, type Box, type ImageShape } from './resample.js';
export { epochPermutation, sampleGenerator, sampleSeed, shuffleSeed } from './seed.js';
export { DataLoader, type DataLoaderOptions } from './loader.js';
export * as transforms from './transforms/index.js';
export {
  buildTransform, compose, parseAugmentList, type Transform, type TransformSpec,
} from './transforms/index.js';
