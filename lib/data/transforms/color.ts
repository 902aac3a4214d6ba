/**
 * Colour shifting: a per-channel offset uniform in [-shift, shift] (C float64 draws, channel
 * order), then AlexNet's PCA lighting noise (Krizhevsky et al. 2012, as fb.resnet.torch's
 * `Lighting`): alpha_i ~ N(0, pca^2) for the three eigenvectors of ImageNet's RGB covariance (three
 * `nextNormal` draws), and channel c moves by `sum_i eigvec[c][i] * alpha_i * eigval[i]`. PCA noise
 * applies to 3-channel images only (no draws otherwise). Offsets are in the sample's units.
 */
import type { Generator } from '../../tensor/random.js';
import { checkNumber } from './check.js';
import type { ColorSpec, Image, Transform } from './types.js';
import { uniform } from './types.js';

/** ImageNet's RGB eigenvalues (fb.resnet.torch, after scaling pixels to [0, 1]). */
export const IMAGENET_EIGVAL = [0.2175, 0.0188, 0.0045];
/** ImageNet's RGB eigenvectors, row c = channel c, column i = eigenvector i. */
export const IMAGENET_EIGVEC = [
  [-0.5675, 0.7192, 0.4009],
  [-0.5808, -0.0045, -0.814],
  [-0.5836, -0.6948, 0.4203],
];

/** The per-channel RGB offsets of PCA lighting noise for the eigen-coefficients `alpha`. */
export function pcaOffsets(alpha: readonly number[]): number[] {
  return IMAGENET_EIGVEC.map((row) => row.reduce((s, v, i) => s + v * alpha[i]! * IMAGENET_EIGVAL[i]!, 0));
}

/** Adds `offsets[c]` to every pixel of channel c; returns a new array. */
export function addChannelOffsets(data: Float32Array, channels: number, offsets: readonly number[]): Float32Array {
  const out = new Float32Array(data.length);
  const plane = data.length / channels;
  for (let c = 0; c < channels; c++) {
    const o = offsets[c]!;
    for (let i = c * plane, e = i + plane; i < e; i++) out[i] = data[i]! + o;
  }
  return out;
}

/** Colour shifting and PCA lighting noise (defaults shift 0.1, pca 0.1). */
export function color(spec: Omit<ColorSpec, 'name'> = {}): Transform {
  const shift = checkNumber(spec.shift ?? 0.1, 'color.shift', 0, 100);
  const pca = checkNumber(spec.pca ?? 0.1, 'color.pca', 0, 100);
  return {
    spec: { name: 'color', shift, pca },
    outputShape: (s) => s,
    apply(img: Image, rng: Generator): Image {
      const c = img.shape[0];
      const offsets = new Array<number>(c).fill(0);
      if (shift > 0) for (let k = 0; k < c; k++) offsets[k] = uniform(rng, -shift, shift);
      if (pca > 0 && c === 3) {
        const alpha = [rng.nextNormal() * pca, rng.nextNormal() * pca, rng.nextNormal() * pca];
        const rgb = pcaOffsets(alpha);
        for (let k = 0; k < 3; k++) offsets[k]! += rgb[k]!;
      }
      return { data: addChannelOffsets(img.data, c, offsets), shape: img.shape };
    },
  };
}
