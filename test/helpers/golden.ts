// Reads PyTorch golden fixtures written by scripts/golden/common.py (see there for the format).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { packageRoot } from '../../lib/native.js';
import { Tensor } from '../../lib/index.js';

export interface GoldenCase {
  name: string;
  op: string;
  params: Record<string, unknown>;
  tensors: Record<string, Tensor>;
}

export interface GoldenFamily {
  torch: string;
  cases: GoldenCase[];
}

interface Manifest {
  torch: string;
  cases: Array<{ name: string; op: string; params: Record<string, unknown>; tensors: Record<string, { shape: number[]; offset: number; length: number }> }>;
}

/** Loads test/fixtures/<family>/. */
export function loadGolden(family: string): GoldenFamily {
  const dir = join(packageRoot, 'test', 'fixtures', family);
  const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as Manifest;
  const bytes = readFileSync(join(dir, 'data.bin'));
  const all = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  return {
    torch: manifest.torch,
    cases: manifest.cases.map((c) => ({
      name: c.name,
      op: c.op,
      params: c.params,
      tensors: Object.fromEntries(
        Object.entries(c.tensors).map(([k, t]) => [k, new Tensor(all.slice(t.offset, t.offset + t.length), t.shape)]),
      ),
    })),
  };
}

/**
 * Asserts |actual - expected| <= atol + rtol * |expected| elementwise (NaN must match NaN), with a
 * message naming the case, the tensor, the first bad index and the values.
 */
export function expectClose(actual: Tensor, expected: Tensor, tol: { atol: number; rtol: number }, what: string): void {
  expect(actual.shape, `${what}: shape`).toEqual(expected.shape);
  const a = actual.data;
  const e = expected.data;
  let worst = -1;
  let worstRatio = 0;
  for (let i = 0; i < e.length; i++) {
    const x = a[i] as number;
    const y = e[i] as number;
    if (x === y || (Number.isNaN(y) && Number.isNaN(x))) continue;
    if (Math.abs(x - y) <= tol.atol + tol.rtol * Math.abs(y)) continue;
    const ratio = Math.abs(x - y) / (tol.atol + tol.rtol * Math.abs(y));
    if (!(ratio <= 1) && (worst < 0 || !(ratio <= worstRatio))) {
      worst = i;
      worstRatio = ratio;
    }
  }
  if (worst >= 0) {
    throw new Error(
      `${what}: element ${worst} is ${a[worst]}, expected ${e[worst]} (atol ${tol.atol}, rtol ${tol.rtol}; worst of ${e.length})`,
    );
  }
}
