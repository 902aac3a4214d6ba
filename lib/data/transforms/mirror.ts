/** Horizontal mirroring. */
import type { Generator } from '../../tensor/random.js';
import { checkProbability } from './check.js';
import type { Image, ImageShape, MirrorSpec, Transform } from './types.js';

/** Flips a CHW image left-right (torchvision's `hflip`); returns a new array. */
export function hflip(data: Float32Array, shape: ImageShape): Float32Array {
  const [c, h, w] = shape;
  const out = new Float32Array(data.length);
  for (let r = 0; r < c * h; r++) {
    const o = r * w;
    for (let j = 0; j < w; j++) out[o + j] = data[o + w - 1 - j]!;
  }
  return out;
}

/** Mirrors with probability `p` (one float64 draw per sample, flip when it is below p). */
export function mirror(spec: Omit<MirrorSpec, 'name'> = {}): Transform {
  const p = checkProbability(spec.p ?? 0.5, 'mirror.p');
  return {
    spec: { name: 'mirror', p },
    outputShape: (s) => s,
    apply(img: Image, rng: Generator): Image {
      return rng.nextDouble() < p ? { data: hflip(img.data, img.shape), shape: img.shape } : img;
    },
  };
}
