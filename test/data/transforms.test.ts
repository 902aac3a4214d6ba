/** Augmentation properties: seeding, identities, sub-arrays, per-channel offsets, spec parsing. */
import { describe, expect, it } from 'vitest';
import { ArgumentError } from '../../lib/errors.js';
import { Generator } from '../../lib/tensor/random.js';
import { sampleGenerator, sampleSeed } from '../../lib/data/seed.js';
import {
  buildTransform, compose, crop, hflip, parseAugmentList, pcaOffsets, TRANSFORM_NAMES, type Image, type TransformSpec,
} from '../../lib/data/transforms/index.js';

function image(c: number, h: number, w: number, seed = 7): Image {
  const data = new Float32Array(c * h * w);
  new Generator(seed).fillUniform(data);
  return { data, shape: [c, h, w] };
}

const ALL: TransformSpec[] = [
  { name: 'mirror', p: 1 }, { name: 'crop', padding: 4 }, { name: 'resized-crop', size: [12, 12] }, { name: 'rotate', degrees: 30 },
  { name: 'shear', degrees: 15 }, { name: 'warp', alpha: 8, sigma: 3 }, { name: 'color' }, { name: 'jitter' },
];

describe('seeded transforms', () => {
  for (const spec of ALL) {
    it(`${spec.name}: same generator seed → same output; different seed → different output`, () => {
      const t = buildTransform(spec);
      const img = image(3, 16, 20);
      const a = t.apply(img, new Generator(1));
      const b = t.apply(img, new Generator(1));
      expect(a.shape).toEqual(t.outputShape(img.shape));
      expect(Array.from(a.data)).toEqual(Array.from(b.data));
      if (spec.name !== 'mirror') {
        const outs = [2, 3, 4].map((s) => Array.from(t.apply(img, new Generator(s)).data));
        expect(outs.some((o) => o.some((v, i) => v !== a.data[i]))).toBe(true);
      }
    });
  }

  it('the per-sample seed depends on seed, epoch and index, and nothing else', () => {
    expect(sampleSeed(5, 2, 9)).toBe(sampleSeed(5, 2, 9));
    const seeds = new Set([sampleSeed(5, 2, 9), sampleSeed(6, 2, 9), sampleSeed(5, 3, 9), sampleSeed(5, 2, 10)]);
    expect(seeds.size).toBe(4);
    expect(sampleGenerator(5, 2, 9).nextUint32()).toBe(new Generator(sampleSeed(5, 2, 9)).nextUint32());
  });

  it('compose applies in order from one generator and chains output shapes', () => {
    const t = compose([{ name: 'crop', padding: 0, size: [10, 10] }, { name: 'resized-crop', size: [6, 8] }]);
    expect(t.outputShape([3, 16, 20])).toEqual([3, 6, 8]);
    const a = t.apply(image(3, 16, 20), new Generator(3));
    expect(a.shape).toEqual([3, 6, 8]);
    expect(a.data.length).toBe(3 * 6 * 8);
  });
});

describe('transform properties', () => {
  it('mirroring twice is the identity; p=0 never mirrors', () => {
    const img = image(3, 5, 7);
    expect(Array.from(hflip(hflip(img.data, img.shape), img.shape))).toEqual(Array.from(img.data));
    const m = buildTransform({ name: 'mirror', p: 1 });
    expect(Array.from(m.apply(m.apply(img, new Generator(1)), new Generator(2)).data)).toEqual(Array.from(img.data));
    expect(buildTransform({ name: 'mirror', p: 0 }).apply(img, new Generator(1))).toBe(img);
  });

  it('a crop without padding is a sub-array of the input', () => {
    const img = image(2, 12, 15);
    const t = crop({ padding: 0, size: [5, 6] });
    for (let s = 0; s < 20; s++) {
      const out = t.apply(img, new Generator(s)).data;
      let found = false;
      for (let top = 0; top <= 7 && !found; top++) {
        for (let left = 0; left <= 9 && !found; left++) {
          found = out.every((v, k) => {
            const c = Math.floor(k / 30);
            const i = Math.floor((k % 30) / 6);
            const j = k % 6;
            return v === img.data[c * 180 + (top + i) * 15 + left + j];
          });
        }
      }
      expect(found).toBe(true);
    }
  });

  it('a padded crop keeps the size and shows zero padding at some offset', () => {
    const t = crop({ padding: 4 });
    const img = { data: new Float32Array(3 * 8 * 8).fill(1), shape: [3, 8, 8] as [number, number, number] };
    const outs = Array.from({ length: 10 }, (_, s) => t.apply(img, new Generator(s)));
    expect(outs.every((o) => o.shape.join() === '3,8,8')).toBe(true);
    expect(outs.some((o) => o.data.some((v) => v === 0))).toBe(true);
  });

  it('colour shifting and PCA noise move every pixel of a channel by the same offset', () => {
    const img = image(3, 6, 6);
    for (const spec of [{ name: 'color', shift: 0, pca: 0.5 }, { name: 'color', shift: 0.2, pca: 0.1 }] as TransformSpec[]) {
      const out = buildTransform(spec).apply(img, new Generator(11)).data;
      for (let c = 0; c < 3; c++) {
        const d0 = out[c * 36]! - img.data[c * 36]!;
        expect(d0).not.toBe(0);
        for (let i = 0; i < 36; i++) expect(out[c * 36 + i]! - img.data[c * 36 + i]!).toBeCloseTo(d0, 5);
      }
    }
    // The PCA offsets: eigvec · (alpha ∘ eigval), e.g. alpha = e1 gives the first eigenvector × 0.2175.
    expect(pcaOffsets([1, 0, 0]).map((v) => Number(v.toFixed(6)))).toEqual([-0.123431, -0.126324, -0.126933]);
  });

  it('rotation by a zero range and warping with alpha 0 leave the image as is', () => {
    const img = image(1, 9, 9);
    expect(Array.from(buildTransform({ name: 'rotate', degrees: 0 }).apply(img, new Generator(1)).data)).toEqual(Array.from(img.data));
    const w = buildTransform({ name: 'warp', alpha: 0, sigma: 2 }).apply(img, new Generator(1)).data;
    for (let i = 0; i < w.length; i++) expect(w[i]).toBeCloseTo(img.data[i]!, 6);
  });
});

describe('specs', () => {
  it('parseAugmentList gives default specs in order, rebuildable from JSON', () => {
    const specs = parseAugmentList('mirror,crop, rotate,shear,warp,color');
    expect(specs.map((s) => s.name)).toEqual(['mirror', 'crop', 'rotate', 'shear', 'warp', 'color']);
    expect(specs[1]).toEqual({ name: 'crop', padding: 4 });
    const again = JSON.parse(JSON.stringify(specs)) as TransformSpec[];
    const img = image(3, 10, 10);
    const a = compose(specs).apply(img, new Generator(4));
    const b = compose(again).apply(img, new Generator(4));
    expect(Array.from(a.data)).toEqual(Array.from(b.data));
  });

  it('an unknown name is an ArgumentError listing the known ones', () => {
    expect(() => parseAugmentList('mirror,blur')).toThrow(ArgumentError);
    expect(() => parseAugmentList('mirror,blur')).toThrow(/"blur".*mirror, crop, resized-crop, rotate, shear, warp, color, jitter/);
    expect(TRANSFORM_NAMES).toContain('jitter');
    expect(() => buildTransform({ name: 'rotate', degrees: -3 })).toThrow(/rotate\.degrees.*-3/);
    expect(() => buildTransform({ name: 'crop', padding: 1.5 })).toThrow(ArgumentError);
  });
});
