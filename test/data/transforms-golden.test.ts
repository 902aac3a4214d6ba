/**
 * Deterministic transform math against torchvision 0.14 (fixtures from
 * scripts/golden/transforms.py): hflip and pad+crop exact; rotate, affine (shear) and resized_crop
 * within 1e-5 absolute (float32 rounding: torchvision builds the grid in float32, we in float64).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { affineImage, cropPadded, hflip } from '../../lib/data/transforms/index.js';
import { resizeBilinear, type ImageShape } from '../../lib/data/resample.js';

interface Case {
  op: string;
  params: Record<string, unknown>;
  input: string;
  shape: number[];
  output: number[];
}
const golden = JSON.parse(readFileSync(new URL('../fixtures/transforms/golden.json', import.meta.url), 'utf8')) as {
  inputs: Record<string, { shape: ImageShape; data: number[] }>;
  cases: Case[];
};

function maxAbsDiff(a: Float32Array, b: number[]): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

function run(c: Case): { out: Float32Array; shape: number[] } {
  const inp = golden.inputs[c.input]!;
  const data = Float32Array.from(inp.data);
  const shape = inp.shape;
  const p = c.params as {
    angle: number;
    shear: [number, number];
    size: [number, number];
    top: number;
    left: number;
    height: number;
    width: number;
    padding: number;
  };
  switch (c.op) {
    case 'hflip':
      return { out: hflip(data, shape), shape };
    case 'rotate':
      return { out: affineImage(data, shape, p.angle), shape };
    case 'affine':
      // F.affine's angle is clockwise, F.rotate's (and affineImage's) counter-clockwise.
      return { out: affineImage(data, shape, -p.angle, p.shear), shape };
    case 'resized_crop':
      return {
        out: resizeBilinear(data, shape, { top: p.top, left: p.left, height: p.height, width: p.width }, p.size[0], p.size[1]),
        shape: [shape[0], ...p.size],
      };
    case 'pad_crop':
      return { out: cropPadded(data, shape, p.top, p.left, p.height, p.width, p.padding), shape: [shape[0], p.height, p.width] };
    default:
      throw new Error(`unknown op ${c.op}`);
  }
}

describe('transforms match torchvision.transforms.functional (BILINEAR, float tensors)', () => {
  for (const c of golden.cases) {
    const exact = c.op === 'hflip' || c.op === 'pad_crop';
    it(`${c.op} ${JSON.stringify(c.params)} on ${c.input} ${exact ? 'exactly' : 'within 1e-5'}`, () => {
      const { out, shape } = run(c);
      expect(shape).toEqual(c.shape);
      const d = maxAbsDiff(out, c.output);
      if (exact) expect(d).toBe(0);
      else expect(d).toBeLessThan(1e-5);
    });
  }
});
