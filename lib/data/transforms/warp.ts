/**
 * Local elastic warping (Simard, Steinkraus and Platt 2003): two fields of displacements uniform in
 * [-1, 1] (one float32 draw per pixel, x field then y field), each smoothed by a Gaussian of
 * standard deviation `sigma` pixels (separable, radius ceil(3 sigma), zeros beyond the border) and
 * scaled by `alpha`; output pixel (x, y) reads the input at (x + dx, y + dy), bilinearly, zeros
 * outside. Defaults alpha 34, sigma 4 (Simard's MNIST setting).
 */
import type { Generator } from '../../tensor/random.js';
import { sampleZeros, type ImageShape } from '../resample.js';
import { checkNumber } from './check.js';
import type { Image, Transform, WarpSpec } from './types.js';

/** A normalised 1-D Gaussian kernel of radius ceil(3 sigma). */
function gaussianKernel(sigma: number): Float32Array {
  const r = Math.max(1, Math.ceil(3 * sigma));
  const k = new Float32Array(2 * r + 1);
  let sum = 0;
  for (let i = -r; i <= r; i++) sum += k[i + r] = Math.exp(-(i * i) / (2 * sigma * sigma));
  for (let i = 0; i < k.length; i++) k[i]! /= sum;
  return k;
}

/** Separable Gaussian smoothing of an h x w field, zeros outside, in place. */
function smooth(field: Float32Array, h: number, w: number, kernel: Float32Array): void {
  const r = (kernel.length - 1) / 2;
  const tmp = new Float32Array(field.length);
  for (let i = 0; i < h; i++) {
    for (let j = 0; j < w; j++) {
      let s = 0;
      for (let t = Math.max(-r, -j); t <= Math.min(r, w - 1 - j); t++) s += kernel[t + r]! * field[i * w + j + t]!;
      tmp[i * w + j] = s;
    }
  }
  for (let i = 0; i < h; i++) {
    for (let j = 0; j < w; j++) {
      let s = 0;
      for (let t = Math.max(-r, -i); t <= Math.min(r, h - 1 - i); t++) s += kernel[t + r]! * tmp[(i + t) * w + j]!;
      field[i * w + j] = s;
    }
  }
}

/** Resamples `data` at (x + dx, y + dy) for every pixel (bilinear, zeros outside). */
export function displace(data: Float32Array, shape: ImageShape, dx: Float32Array, dy: Float32Array): Float32Array {
  const [c, h, w] = shape;
  const out = new Float32Array(data.length);
  for (let i = 0; i < h; i++) {
    for (let j = 0; j < w; j++) {
      const p = i * w + j;
      sampleZeros(data, c, h, w, j + dx[p]!, i + dy[p]!, out, p);
    }
  }
  return out;
}

/** Elastic warping (see the module comment). */
export function warp(spec: Omit<WarpSpec, 'name'> = {}): Transform {
  const alpha = checkNumber(spec.alpha ?? 34, 'warp.alpha', 0, 1e4);
  const sigma = checkNumber(spec.sigma ?? 4, 'warp.sigma', 0.1, 1e3);
  const kernel = gaussianKernel(sigma);
  return {
    spec: { name: 'warp', alpha, sigma },
    outputShape: (s) => s,
    apply(img: Image, rng: Generator): Image {
      const [, h, w] = img.shape;
      const fields = [new Float32Array(h * w), new Float32Array(h * w)] as const;
      for (const f of fields) {
        rng.fillUniform(f);
        for (let i = 0; i < f.length; i++) f[i] = 2 * f[i]! - 1;
        smooth(f, h, w, kernel);
        for (let i = 0; i < f.length; i++) f[i]! *= alpha;
      }
      return { data: displace(img.data, img.shape, fields[0], fields[1]), shape: img.shape };
    },
  };
}
