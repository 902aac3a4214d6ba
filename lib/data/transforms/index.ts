/** Seeded, composable augmentations on CHW float32 images, each described by a plain-JSON spec. */
export * from './types.js';
export { hflip, mirror } from './mirror.js';
export { crop, cropPadded, resizedCrop, resizedCropBox } from './crop.js';
export { affineImage, inverseAffine, rotate, shear } from './affine.js';
export { displace, warp } from './warp.js';
export { addChannelOffsets, color, IMAGENET_EIGVAL, IMAGENET_EIGVEC, pcaOffsets } from './color.js';
export { jitter } from './jitter.js';
export { buildPipeline, buildTransform, compose, parseAugmentList, TRANSFORM_NAMES } from './build.js';
