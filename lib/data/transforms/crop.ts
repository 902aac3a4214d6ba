/** Random crops: CIFAR's zero-padded crop, and torchvision's RandomResizedCrop. */
import { ArgumentError } from '../../errors.js';
import type { Generator } from '../../tensor/random.js';
import { resizeBilinear, type Box } from '../resample.js';
import { checkNumber, checkRange, checkSize } from './check.js';
import type { CropSpec, Image, ImageShape, ResizedCropSpec, Transform } from './types.js';

/** A uniform integer in [0, n) (one float64 draw). */
function randint(rng: Generator, n: number): number {
  return Math.min(n - 1, Math.floor(rng.nextDouble() * n));
}

/**
 * The `oh` x `ow` window at (top, left) of the image zero-padded by `padding` on every side
 * (torchvision's `F.crop(F.pad(img, padding), top, left, oh, ow)`).
 */
export function cropPadded(
  data: Float32Array, shape: ImageShape, top: number, left: number, oh: number, ow: number, padding = 0,
): Float32Array {
  const [c, h, w] = shape;
  const out = new Float32Array(c * oh * ow);
  for (let k = 0; k < c; k++) {
    for (let i = 0; i < oh; i++) {
      const y = top + i - padding;
      if (y < 0 || y >= h) continue;
      const src = k * h * w + y * w;
      const dst = k * oh * ow + i * ow;
      for (let j = 0; j < ow; j++) {
        const x = left + j - padding;
        if (x >= 0 && x < w) out[dst + j] = data[src + x]!;
      }
    }
  }
  return out;
}

/** Pads by `padding` (default 4) with zeros, then crops `size` (default the input's) at a uniform place: top first, then left. */
export function crop(spec: Omit<CropSpec, 'name'> = {}): Transform {
  const padding = checkNumber(spec.padding ?? 4, 'crop.padding', 0, 4096);
  if (!Number.isInteger(padding)) throw new ArgumentError(`Expected an integer for crop.padding but received ${padding}`);
  const size = checkSize(spec.size, 'crop.size');
  const outShape = (s: ImageShape): ImageShape => {
    const [oh, ow] = size ?? [s[1], s[2]];
    if (oh > s[1] + 2 * padding || ow > s[2] + 2 * padding) {
      throw new ArgumentError(`crop: size ${oh}x${ow} is larger than the padded input ${s[1] + 2 * padding}x${s[2] + 2 * padding}`);
    }
    return [s[0], oh, ow];
  };
  return {
    spec: size === undefined ? { name: 'crop', padding } : { name: 'crop', padding, size },
    outputShape: outShape,
    apply(img: Image, rng: Generator): Image {
      const shape = outShape(img.shape);
      const top = randint(rng, img.shape[1] + 2 * padding - shape[1] + 1);
      const left = randint(rng, img.shape[2] + 2 * padding - shape[2] + 1);
      return { data: cropPadded(img.data, img.shape, top, left, shape[1], shape[2], padding), shape };
    },
  };
}

/**
 * torchvision's `RandomResizedCrop.get_params`: up to 10 tries of an area fraction uniform in
 * `scale` and a log-uniform aspect in `ratio`, sides rounded; then a centre crop clamped to `ratio`.
 */
export function resizedCropBox(h: number, w: number, scale: [number, number], ratio: [number, number], rng: Generator): Box {
  const area = h * w;
  const logLo = Math.log(ratio[0]);
  const logHi = Math.log(ratio[1]);
  for (let t = 0; t < 10; t++) {
    const target = area * (scale[0] + (scale[1] - scale[0]) * rng.nextDouble());
    const aspect = Math.exp(logLo + (logHi - logLo) * rng.nextDouble());
    const cw = Math.round(Math.sqrt(target * aspect));
    const ch = Math.round(Math.sqrt(target / aspect));
    if (cw > 0 && cw <= w && ch > 0 && ch <= h) {
      const top = randint(rng, h - ch + 1);
      const left = randint(rng, w - cw + 1);
      return { top, left, height: ch, width: cw };
    }
  }
  const inRatio = w / h;
  let cw = w;
  let ch = h;
  if (inRatio < ratio[0]) ch = Math.round(w / ratio[0]);
  else if (inRatio > ratio[1]) cw = Math.round(h * ratio[1]);
  return { top: Math.floor((h - ch) / 2), left: Math.floor((w - cw) / 2), height: ch, width: cw };
}

/** RandomResizedCrop: a random box (see {@link resizedCropBox}) resized to `size` (default the input's), bilinear. */
export function resizedCrop(spec: Omit<ResizedCropSpec, 'name'> = {}): Transform {
  const size = checkSize(spec.size, 'resized-crop.size');
  const scale = checkRange(spec.scale ?? [0.08, 1], 'resized-crop.scale');
  if (scale[1] > 1) throw new ArgumentError(`Expected resized-crop.scale within (0, 1] but received ${JSON.stringify(scale)}`);
  const ratio = checkRange(spec.ratio ?? [3 / 4, 4 / 3], 'resized-crop.ratio');
  const outShape = (s: ImageShape): ImageShape => [s[0], ...(size ?? [s[1], s[2]])];
  return {
    spec: { name: 'resized-crop', ...(size ? { size } : {}), scale, ratio },
    outputShape: outShape,
    apply(img: Image, rng: Generator): Image {
      const shape = outShape(img.shape);
      const box = resizedCropBox(img.shape[1], img.shape[2], scale, ratio, rng);
      return { data: resizeBilinear(img.data, img.shape, box, shape[1], shape[2]), shape };
    },
  };
}
