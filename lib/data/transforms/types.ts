/**
 * The augmentation contract. A transform maps a CHW float32 image to another, drawing its random
 * parameters from the generator it is handed (the loader gives each sample its own, seeded from
 * (seed, epoch, sample index)), so results never depend on scheduling. Every transform is rebuilt
 * from a plain-JSON {@link TransformSpec} (see build.ts), which is how worker threads get them.
 *
 * Values are in the sample's units (after the dataset's normalisation); geometric transforms fill
 * uncovered pixels with 0 (the mean colour when the data was normalised).
 */
import type { Generator } from '../../tensor/random.js';
import type { ImageShape } from '../resample.js';

export type { ImageShape } from '../resample.js';

/** A CHW image. */
export interface Image {
  data: Float32Array;
  shape: ImageShape;
}

/** Horizontal mirroring with probability `p` (default 0.5). */
export interface MirrorSpec {
  name: 'mirror';
  p?: number;
}
/** Zero-pad by `padding` (default 4) then crop `size` (default the input size) at a random place. */
export interface CropSpec {
  name: 'crop';
  padding?: number;
  size?: [number, number];
}
/** torchvision's RandomResizedCrop: area fraction in `scale`, aspect in `ratio`, resized to `size`. */
export interface ResizedCropSpec {
  name: 'resized-crop';
  size?: [number, number];
  /** Default [0.08, 1]. */
  scale?: [number, number];
  /** Default [3/4, 4/3]. */
  ratio?: [number, number];
}
/** Rotation by an angle uniform in [-degrees, degrees] (counter-clockwise positive), bilinear. */
export interface RotateSpec {
  name: 'rotate';
  degrees?: number;
}
/** Shear parallel to x by an angle uniform in [-degrees, degrees] (torchvision's convention), bilinear. */
export interface ShearSpec {
  name: 'shear';
  degrees?: number;
}
/** Elastic warping (Simard et al. 2003): uniform displacements in [-1, 1] smoothed by a Gaussian of `sigma` pixels, times `alpha`. */
export interface WarpSpec {
  name: 'warp';
  alpha?: number;
  sigma?: number;
}
/** Colour shifting: a per-channel offset uniform in [-shift, shift], plus AlexNet's PCA lighting noise of std `pca` (3 channels only). */
export interface ColorSpec {
  name: 'color';
  shift?: number;
  pca?: number;
}
/** Brightness (an offset uniform in [-brightness, brightness]) and contrast (scale about the channel mean, uniform in [1-contrast, 1+contrast]). */
export interface JitterSpec {
  name: 'jitter';
  brightness?: number;
  contrast?: number;
}

/** Any transform's plain-JSON description. */
export type TransformSpec =
  | MirrorSpec | CropSpec | ResizedCropSpec | RotateSpec | ShearSpec | WarpSpec | ColorSpec | JitterSpec;

/** A built transform. */
export interface Transform {
  /** The spec it was built from, with defaults filled in; null for a {@link compose}d chain. */
  readonly spec: TransformSpec | null;
  /** The shape of the output for an input of `shape`. */
  outputShape(shape: ImageShape): ImageShape;
  /** Applies the transform; may return `img` itself (or reuse its buffer) when nothing changes. */
  apply(img: Image, rng: Generator): Image;
}

/** A uniform draw in [lo, hi) (one float64 from `rng`). */
export function uniform(rng: Generator, lo: number, hi: number): number {
  return lo + (hi - lo) * rng.nextDouble();
}
