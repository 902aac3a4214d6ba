/**
 * Brightness and contrast jitter, in the sample's units: a brightness offset uniform in
 * [-brightness, brightness] (one draw) and a contrast factor uniform in [1 - contrast,
 * 1 + contrast] (one draw) that scales each channel about its own mean:
 * `x' = (x - mean_c) * factor + mean_c + offset`.
 */
import type { Generator } from '../../tensor/random.js';
import { checkNumber } from './check.js';
import type { Image, JitterSpec, Transform } from './types.js';
import { uniform } from './types.js';

/** Brightness/contrast jitter (defaults 0.2 and 0.2). */
export function jitter(spec: Omit<JitterSpec, 'name'> = {}): Transform {
  const brightness = checkNumber(spec.brightness ?? 0.2, 'jitter.brightness', 0, 100);
  const contrast = checkNumber(spec.contrast ?? 0.2, 'jitter.contrast', 0, 1);
  return {
    spec: { name: 'jitter', brightness, contrast },
    outputShape: (s) => s,
    apply(img: Image, rng: Generator): Image {
      const offset = uniform(rng, -brightness, brightness);
      const factor = uniform(rng, 1 - contrast, 1 + contrast);
      const c = img.shape[0];
      const plane = img.data.length / c;
      const out = new Float32Array(img.data.length);
      for (let k = 0; k < c; k++) {
        let mean = 0;
        for (let i = k * plane, e = i + plane; i < e; i++) mean += img.data[i]!;
        mean /= plane;
        for (let i = k * plane, e = i + plane; i < e; i++) out[i] = (img.data[i]! - mean) * factor + mean + offset;
      }
      return { data: out, shape: img.shape };
    },
  };
}
