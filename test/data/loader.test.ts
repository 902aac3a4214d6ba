/**
 * DataLoader: order from (seed, epoch) only, resume by startBatch, skipped samples, and identical
 * batches on the main thread and in worker threads. Worker tests run dist/data/loader-worker.js
 * (`npm run build:ts` first) because worker threads cannot load the TypeScript sources; they are
 * skipped, with that reason, when it is missing.
 */
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  DataLoader, ImageFolder, loadMnist, parseAugmentList, type Batch, type BatchSource, type Dataset, type Sample,
  type SkippedSample,
} from '../../lib/data/index.js';
import { FASHION, FASHION_SKIP, hasFashion, hasPhotos, PHOTOS_SKIP, tempDir, titled, writePhotoFolder, writeTinyIdx } from './helpers.js';

const hasDist = existsSync(new URL('../../dist/data/loader-worker.js', import.meta.url));
const DIST_SKIP = 'dist/data/loader-worker.js missing: run `npm run build:ts`';

async function collect(source: BatchSource, epoch: number, start = 0, limit = Infinity): Promise<Batch[]> {
  const out: Batch[] = [];
  for await (const b of source.batches(epoch, start)) {
    out.push(b);
    if (out.length >= limit) break;
  }
  return out;
}

function summary(batches: Batch[]): { indices: number[]; target: number[]; shape: readonly number[]; data: number[] }[] {
  return batches.map((b) => ({ indices: b.indices, target: Array.from(b.target), shape: b.input.shape, data: Array.from(b.input.data) }));
}

/** A dataset whose samples 3 and 4 throw. */
class Flaky implements Dataset {
  readonly length = 10;
  readonly classes = ['a', 'b'];
  readonly sampleShape: [number, number, number] = [1, 2, 2];
  get(i: number): Sample {
    if (i === 3 || i === 4) throw new Error(`sample ${i} is broken`);
    return { input: new Float32Array(4).fill(i), label: i % 2 };
  }
  source(i: number): string {
    return `flaky#${i}`;
  }
}

describe('DataLoader on the main thread', () => {
  it('the order depends on (seed, epoch) only; startBatch resumes on the same batches; dropLast', async () => {
    const dir = tempDir('loader');
    writeTinyIdx(dir, 23, false);
    const ds = loadMnist(dir);
    const a = new DataLoader(ds, { batchSize: 5, shuffle: true, seed: 42, transform: parseAugmentList('crop,rotate') });
    const b = new DataLoader(ds, { batchSize: 5, shuffle: true, seed: 42, transform: parseAugmentList('crop,rotate'), prefetch: 1 });
    expect(a.batchesPerEpoch).toBe(5);
    const e0 = await collect(a, 0);
    expect(summary(e0)).toEqual(summary(await collect(b, 0)));
    expect(e0.map((x) => x.indices.length)).toEqual([5, 5, 5, 5, 3]);
    expect(e0.flatMap((x) => x.indices).sort((p, q) => p - q)).toEqual(Array.from({ length: 23 }, (_, i) => i));
    expect(e0[0]!.input.shape).toEqual([5, 1, 4, 5]);
    expect(summary(await collect(a, 0, 2))).toEqual(summary(e0.slice(2)));
    const e1 = await collect(a, 1);
    expect(e1.flatMap((x) => x.indices)).not.toEqual(e0.flatMap((x) => x.indices));
    const other = new DataLoader(ds, { batchSize: 5, shuffle: true, seed: 43 });
    expect(Array.from(other.order(0))).not.toEqual(Array.from(a.order(0)));
    const dl = new DataLoader(ds, { batchSize: 5, dropLast: true });
    expect(dl.batchesPerEpoch).toBe(4);
    expect((await collect(dl, 0)).map((x) => x.indices[0])).toEqual([0, 5, 10, 15]);
    expect(Array.from((await collect(dl, 0))[0]!.target)).toEqual([0, 1, 2, 3, 4]);
  });

  it('samples that throw go to onSkip and batch.skipped; a batch left empty is not yielded', async () => {
    const skipped: SkippedSample[] = [];
    const dl = new DataLoader(new Flaky(), { batchSize: 2, onSkip: (s) => skipped.push(s) });
    const batches = await collect(dl, 0);
    expect(batches.map((b) => b.indices)).toEqual([[0, 1], [2], [5], [6, 7], [8, 9]]);
    expect(batches[1]!.skipped).toEqual([{ index: 3, source: 'flaky#3', reason: 'sample 3 is broken' }]);
    expect(skipped.map((s) => s.index)).toEqual([3, 4]);
    expect(Array.from(batches[1]!.input.data)).toEqual([2, 2, 2, 2]);
  });

  it('rejects bad options with what it expected', () => {
    expect(() => new DataLoader(new Flaky(), { batchSize: 0 })).toThrow(/integer >= 1 for batchSize but received 0/);
    expect(() => new DataLoader(new Flaky(), { transform: [{ name: 'blur' } as never] })).toThrow(/one of mirror/);
  });
});

describe('DataLoader with worker threads', () => {
  it.skipIf(!hasPhotos)(titled('an ImageFolder with a truncated JPEG and a text file: both skipped, the rest yielded', hasPhotos, PHOTOS_SKIP), async () => {
    const root = tempDir('loader-photos');
    writePhotoFolder(root);
    const ds = new ImageFolder(root, { preprocess: { channels: 3, size: [32, 32], mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] } });
    const run = async (workers: number): Promise<[Batch[], SkippedSample[]]> => {
      const skipped: SkippedSample[] = [];
      const dl = new DataLoader(ds, { batchSize: 2, shuffle: true, seed: 3, workers, transform: parseAugmentList('mirror,crop,color'), onSkip: (s) => skipped.push(s) });
      try {
        return [await collect(dl, 0), skipped];
      } finally {
        await dl.close();
      }
    };
    const [main, mainSkipped] = await run(0);
    expect(main.flatMap((b) => b.indices).sort()).toEqual([0, 1, 3, 5]);
    expect(mainSkipped.map((s) => s.source.slice(root.length + 1)).sort()).toEqual(['cat/c-truncated.jpg', 'dog/fake.png']);
    expect(mainSkipped.every((s) => /cannot decode image/.test(s.reason))).toBe(true);
    if (!hasDist) return;
    const [worker, workerSkipped] = await run(2);
    expect(summary(worker)).toEqual(summary(main));
    expect(workerSkipped).toEqual(mainSkipped);
  });

  it.skipIf(!hasFashion || !hasDist)(titled('Fashion-MNIST: 2 workers give the batches of the main thread; an early break frees the workers', hasFashion && hasDist, hasFashion ? DIST_SKIP : FASHION_SKIP), async () => {
    const ds = loadMnist(FASHION, { split: 'test' });
    const opts = { batchSize: 32, shuffle: true, seed: 9, transform: parseAugmentList('mirror,crop,rotate,shear,warp') };
    const main = new DataLoader(ds, opts);
    const pooled = new DataLoader(ds, { ...opts, workers: 2, prefetch: 3 });
    try {
      expect(pooled.usesWorkers).toBe(true);
      const m = await collect(main, 1, 7, 4);
      const w = await collect(pooled, 1, 7, 4); // breaks early: the pool is terminated
      expect(summary(w)).toEqual(summary(m));
      expect(w[0]!.input.shape).toEqual([32, 1, 28, 28]);
      const again = await collect(pooled, 1, 7, 1); // a fresh pool
      expect(summary(again)).toEqual(summary(m.slice(0, 1)));
    } finally {
      await pooled.close();
      await pooled.close();
    }
  });
});

