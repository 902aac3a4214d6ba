import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadMnist } from '../../lib/data/idx.js';
import type { Dataset, Sample } from '../../lib/data/types.js';
import { ArgumentError } from '../../lib/errors.js';
import { buildModel } from '../../lib/models/index.js';
import { Linear } from '../../lib/nn/layers/index.js';
import { manualSeed } from '../../lib/tensor/random.js';
import { Tensor } from '../../lib/tensor/tensor.js';
import { cacheFeatures, FeatureCache, featureExtractor, findHead, type BackboneFn } from '../../lib/transfer/index.js';
import { writeIdx } from './idx-helpers.js';

const root = mkdtempSync(join(tmpdir(), 'convkit-fcache-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A backbone: mean of each channel times a weight, counting its calls. */
function counting(weight: Tensor): { fn: BackboneFn; calls: () => number } {
  let calls = 0;
  const fn: BackboneFn = (x) => {
    calls++;
    const [n, c, h, w] = x.shape as [number, number, number, number];
    const out = new Float32Array(n * c);
    for (let i = 0; i < n * c; i++) {
      let s = 0;
      for (let k = 0; k < h * w; k++) s += x.data[i * h * w + k]!;
      out[i] = (s / (h * w)) * weight.data[i % c]!;
    }
    return new Tensor(out, [n, c]);
  };
  return { fn, calls: () => calls };
}

describe('cacheFeatures', () => {
  const data = join(root, 'fashion-data');
  writeIdx(data, 'train', 24, 3, 1);
  const dataset = (): Dataset => loadMnist(data, { channels: 3 });
  const weight = new Tensor(new Float32Array([1, 2, 3]), [3]);
  const weights = [['w', weight]] as const;

  it('writes features.f32 + index.json, reads rows by positioned reads, and reuses the cache (no backbone calls)', async () => {
    const dir = join(root, 'reuse');
    const b = counting(weight);
    const first = await cacheFeatures(b.fn, dataset(), { dir, preprocessKey: { size: 28 }, weights, batchSize: 5 });
    expect(first.hit).toBe(false);
    expect(b.calls()).toBe(5);
    expect(first.length).toBe(24);
    expect(first.index.shape).toEqual([3]);
    expect(statSync(join(first.path, 'features.f32')).size).toBe(24 * 3 * 4);
    const index = JSON.parse(readFileSync(join(first.path, 'index.json'), 'utf8')) as { samples: Array<{ source: string; hash: string }>; labels: number[] };
    expect(index.samples[3]!.source).toMatch(/train-images-idx3-ubyte#3$/);
    expect(index.samples[3]!.hash).toMatch(/^[0-9a-f]{64}$/);
    const ds = dataset();
    const direct = b.fn(new Tensor((ds.get(7) as Sample).input, [1, 3, 28, 28]));
    expect(Array.from(first.get(7).input)).toEqual(Array.from(direct.data));
    expect(first.get(7).label).toBe((ds.get(7) as Sample).label);
    const again = counting(weight);
    const second = await cacheFeatures(again.fn, dataset(), { dir, preprocessKey: { size: 28 }, weights, batchSize: 5 });
    expect(second.hit).toBe(true);
    expect(again.calls()).toBe(0);
    expect(second.path).toBe(first.path);
    expect(Array.from(second.all().data)).toEqual(Array.from(first.all().data));
    // Only the finished cache is left (no temporary directories).
    expect(readdirSync(dir)).toEqual([first.index.key]);
    first.close();
    second.close();
  });

  it('invalidates itself when the weights, the cut, the preprocessing or a file changes', async () => {
    const dir = join(root, 'invalidate');
    const base = { dir, preprocessKey: { size: 28 }, weights, cut: 'pool' };
    const ref = await cacheFeatures(counting(weight).fn, dataset(), base);
    const variants: Array<[string, () => Promise<FeatureCache>]> = [
      ['weights', async () => cacheFeatures(counting(weight).fn, dataset(), { ...base, weights: [['w', new Tensor(new Float32Array([1, 2, 4]), [3])]] })],
      ['cut', async () => cacheFeatures(counting(weight).fn, dataset(), { ...base, cut: 'layer4' })],
      ['preprocess', async () => cacheFeatures(counting(weight).fn, dataset(), { ...base, preprocessKey: { size: 32 } })],
      ['file content', async () => {
        writeIdx(data, 'train', 24, 3, 2); // same names, other pixels
        return cacheFeatures(counting(weight).fn, dataset(), base);
      }],
      ['label file', async () => {
        const labels = join(data, 'train-labels-idx1-ubyte');
        const bytes = readFileSync(labels);
        bytes[8] = (bytes[8]! + 1) % 3;
        writeFileSync(labels, bytes);
        return cacheFeatures(counting(weight).fn, dataset(), base);
      }],
    ];
    const keys = new Set([ref.index.key]);
    for (const [what, make] of variants) {
      const b = counting(weight);
      const c = await make();
      expect(c.hit, what).toBe(false);
      expect(keys.has(c.index.key), what).toBe(false);
      keys.add(c.index.key);
      void b;
    }
    writeIdx(data, 'train', 24, 3, 1); // restore for the other tests
  });

  it('rebuilds a truncated cache, and checks its arguments', async () => {
    const dir = join(root, 'damaged');
    const first = await cacheFeatures(counting(weight).fn, dataset(), { dir, preprocessKey: null, weights });
    writeFileSync(join(first.path, 'features.f32'), Buffer.alloc(10));
    expect(() => FeatureCache.open(first.path)).toThrow(/expected 24 rows/);
    const b = counting(weight);
    const again = await cacheFeatures(b.fn, dataset(), { dir, preprocessKey: null, weights });
    expect(again.hit).toBe(false);
    expect(b.calls()).toBeGreaterThan(0);
    await expect(cacheFeatures(counting(weight).fn, dataset(), { dir, preprocessKey: null })).rejects.toThrow(ArgumentError);
    await expect(cacheFeatures(counting(weight).fn, dataset(), { dir: '', preprocessKey: null, weights })).rejects.toThrow(ArgumentError);
  });

  it('extracts the head input of a zoo model, keyed by its backbone weights (not its head)', async () => {
    manualSeed(1);
    const model = buildModel('cifarNet', { numClasses: 3 });
    const dir = join(root, 'zoo');
    const ds = loadMnist(data, { channels: 3, size: [32, 32] });
    expect(findHead(model).path).toBe('classifier.3');
    const first = await cacheFeatures({ model }, ds, { dir, preprocessKey: 'p', batchSize: 8 });
    expect(first.index.shape).toEqual([512]);
    const x = new Tensor((ds.get(0) as Sample).input, [1, 3, 32, 32]);
    const direct = featureExtractor(model)(x);
    expect(Array.from(first.get(0).input).map((v) => v.toFixed(4))).toEqual(Array.from(direct.data).map((v) => v.toFixed(4)));
    // A new head does not invalidate the cache; a backbone change does.
    model.replaceModule('classifier.3', new Linear(512, 5));
    expect((await cacheFeatures({ model }, ds, { dir, preprocessKey: 'p' })).hit).toBe(true);
    model.parameters()[0]!.data[0]! += 1;
    expect((await cacheFeatures({ model }, ds, { dir, preprocessKey: 'p' })).hit).toBe(false);
  });
});
