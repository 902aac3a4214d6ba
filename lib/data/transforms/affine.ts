/**
 * Rotation and shear: affine resampling with torchvision's conventions (see resample.ts):
 * `affineImage(data, shape, angle)` equals `torchvision.transforms.functional.rotate(img, angle,
 * BILINEAR)` on a float tensor (zeros outside): positive angles rotate counter-clockwise on screen.
 * Note that `F.affine` counts its angle clockwise, so `F.affine(img, a, [0, 0], 1.0, shear,
 * BILINEAR)` equals `affineImage(data, shape, -a, shear)`; the shear angles are F.affine's.
 */
import type { Generator } from '../../tensor/random.js';
import { affineBilinear, type ImageShape } from '../resample.js';
import { checkNumber } from './check.js';
import type { Image, RotateSpec, ShearSpec, Transform } from './types.js';
import { uniform } from './types.js';

/**
 * torchvision's `_get_inverse_affine_matrix([0, 0], -angle, [0, 0], 1, shear)`: the map from an
 * output pixel to the input pixel it reads, both relative to the image centre. Angles in degrees.
 */
export function inverseAffine(angle: number, shear: [number, number] = [0, 0]): number[] {
  const rot = (-angle * Math.PI) / 180;
  const sx = (shear[0] * Math.PI) / 180;
  const sy = (shear[1] * Math.PI) / 180;
  const a = Math.cos(rot - sy) / Math.cos(sy);
  const b = (-Math.cos(rot - sy) * Math.tan(sx)) / Math.cos(sy) - Math.sin(rot);
  const c = Math.sin(rot - sy) / Math.cos(sy);
  const d = (-Math.sin(rot - sy) * Math.tan(sx)) / Math.cos(sy) + Math.cos(rot);
  return [d, -b, 0, -c, a, 0];
}

/** Rotates by `angle` degrees and shears by `shear` degrees (x, y), bilinear, zeros outside. */
export function affineImage(data: Float32Array, shape: ImageShape, angle: number, shear: [number, number] = [0, 0]): Float32Array {
  return affineBilinear(data, shape, inverseAffine(angle, shear));
}

/** Rotation by an angle uniform in [-degrees, degrees] (default 15). */
export function rotate(spec: Omit<RotateSpec, 'name'> = {}): Transform {
  const degrees = checkNumber(spec.degrees ?? 15, 'rotate.degrees', 0, 180);
  return {
    spec: { name: 'rotate', degrees },
    outputShape: (s) => s,
    apply(img: Image, rng: Generator): Image {
      const angle = uniform(rng, -degrees, degrees);
      return { data: affineImage(img.data, img.shape, angle), shape: img.shape };
    },
  };
}

/** Shear parallel to x by an angle uniform in [-degrees, degrees] (default 10). */
export function shear(spec: Omit<ShearSpec, 'name'> = {}): Transform {
  const degrees = checkNumber(spec.degrees ?? 10, 'shear.degrees', 0, 60);
  return {
    spec: { name: 'shear', degrees },
    outputShape: (s) => s,
    apply(img: Image, rng: Generator): Image {
      const sx = uniform(rng, -degrees, degrees);
      return { data: affineImage(img.data, img.shape, 0, [sx, 0]), shape: img.shape };
    },
  };
}
