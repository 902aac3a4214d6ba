/**
 * Transforms from plain-JSON specs: {@link buildTransform}, {@link compose} and the `--augment`
 * flag's {@link parseAugmentList}.
 */
import { ArgumentError } from '../../errors.js';
import type { Generator } from '../../tensor/random.js';
import { rotate, shear } from './affine.js';
import { color } from './color.js';
import { crop, resizedCrop } from './crop.js';
import { jitter } from './jitter.js';
import { mirror } from './mirror.js';
import type { Image, ImageShape, Transform, TransformSpec } from './types.js';
import { warp } from './warp.js';

const BUILDERS: { [K in TransformSpec['name']]: (spec: Extract<TransformSpec, { name: K }>) => Transform } = {
  mirror: (s) => mirror(s),
  crop: (s) => crop(s),
  'resized-crop': (s) => resizedCrop(s),
  rotate: (s) => rotate(s),
  shear: (s) => shear(s),
  warp: (s) => warp(s),
  color: (s) => color(s),
  jitter: (s) => jitter(s),
};

/** The transform names {@link buildTransform} and {@link parseAugmentList} know. */
export const TRANSFORM_NAMES = Object.keys(BUILDERS) as TransformSpec['name'][];

/** Builds one transform from its spec. @throws ArgumentError for an unknown name or bad parameter. */
export function buildTransform(spec: TransformSpec): Transform {
  const name = (spec as { name?: unknown } | null)?.name;
  if (typeof name !== 'string' || !Object.hasOwn(BUILDERS, name)) {
    throw new ArgumentError(`Expected a transform name (one of ${TRANSFORM_NAMES.join(', ')}) but received ${JSON.stringify(name)}`);
  }
  return (BUILDERS[name as TransformSpec['name']] as (s: TransformSpec) => Transform)(spec);
}

/** Applies `transforms` in order, all drawing from the one generator. */
export function compose(transforms: (Transform | TransformSpec)[]): Transform {
  const built = transforms.map((t) => ('apply' in t ? t : buildTransform(t)));
  return {
    spec: null,
    outputShape: (s: ImageShape) => built.reduce((acc, t) => t.outputShape(acc), s),
    apply: (img: Image, rng: Generator) => built.reduce((acc, t) => t.apply(acc, rng), img),
  };
}

/** Builds the list of specs into one transform (identity for an empty list). */
export function buildPipeline(specs: TransformSpec[]): Transform {
  return compose(specs.map(buildTransform));
}

/**
 * The specs of a comma-separated `--augment` list with default parameters, in the given order,
 * e.g. `'mirror,crop,rotate,shear,warp,color'`. Names: see {@link TRANSFORM_NAMES}.
 * @throws ArgumentError for an unknown name, listing the known ones.
 */
export function parseAugmentList(list: string): TransformSpec[] {
  if (typeof list !== 'string') throw new ArgumentError(`Expected a comma-separated list of augmentations but received ${typeof list}`);
  return list
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map((name) => {
      if (!Object.hasOwn(BUILDERS, name)) {
        throw new ArgumentError(`Unknown augmentation ${JSON.stringify(name)}; expected one of ${TRANSFORM_NAMES.join(', ')}`);
      }
      return buildTransform({ name } as TransformSpec).spec as TransformSpec;
    });
}
