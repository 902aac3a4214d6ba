// The point of the Predictor: a 200-image batch (real decodes, a ResNet-18 forward) leaves the main
// thread's event loop responsive. The same forward run inline is the control: the monitor sees it.
import { mkdtempSync, rmSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeImage } from '../../lib/data/image.js';
import type { Preprocess } from '../../lib/data/types.js';
import { Tensor, manualSeed, models, noGrad } from '../../lib/index.js';
import { Predictor } from '../../lib/inference/index.js';
import { ensureDist, noiseImage } from './helpers.js';

const N = 200;
const pre: Preprocess = { channels: 3, size: [32, 32], resize: 36, mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25] };
let dir = '';

beforeAll(async () => {
  ensureDist();
  dir = mkdtempSync(join(tmpdir(), 'convkit-evloop-'));
  for (let i = 0; i < N; i++) {
    const png = i % 2 === 0;
    await writeFile(join(dir, `img${String(i).padStart(3, '0')}.${png ? 'png' : 'jpg'}`), await noiseImage(i + 1, 48 + (i % 5) * 8, 40, png ? 'png' : 'jpeg'));
  }
}, 120_000);

afterAll(() => {
  if (dir !== '') rmSync(dir, { recursive: true, force: true });
});

/** Decodes every image, 4 in flight, into one [N, 3, 32, 32] batch. */
async function decodeAll(): Promise<Tensor> {
  const size = 3 * 32 * 32;
  const data = new Float32Array(N * size);
  let next = 0;
  await Promise.all(
    [0, 1, 2, 3].map(async () => {
      for (let i = next++; i < N; i = next++) {
        const ext = i % 2 === 0 ? 'png' : 'jpg';
        data.set(await decodeImage(join(dir, `img${String(i).padStart(3, '0')}.${ext}`), pre), i * size);
      }
    }),
  );
  return new Tensor(data, [N, 3, 32, 32]);
}

const ms = (ns: number): number => Math.round(ns / 1e4) / 100;

describe('event loop while predicting', () => {
  it(`decoding and predicting ${N} images keeps the event-loop delay p99 under 50 ms`, async () => {
    manualSeed(3);
    const model = models.resnet18({ numClasses: 10 });
    // One kernel thread: on this 2-core machine the worker's team must leave a core to the main
    // thread (a 2-thread OpenMP team spinning at its barriers starves it under load).
    const p = await Predictor.create(model, { threads: 1 });
    try {
      await p.predict(new Tensor(new Float32Array(3 * 32 * 32), [1, 3, 32, 32])); // warm the worker
      const h = monitorEventLoopDelay({ resolution: 10 });
      h.enable();
      const t0 = performance.now();
      const x = await decodeAll();
      const t1 = performance.now();
      const logits = await p.predict(x);
      const t2 = performance.now();
      h.disable();
      expect(logits.shape).toEqual([N, 10]);
      const stats = { p50: ms(h.percentile(50)), p99: ms(h.percentile(99)), max: ms(h.max), decodeMs: Math.round(t1 - t0), predictMs: Math.round(t2 - t1) };

      // Control: the same forward on the main thread blocks the loop for its whole duration.
      const c = monitorEventLoopDelay({ resolution: 10 });
      c.enable();
      await new Promise((r) => setTimeout(r, 30));
      model.eval();
      noGrad(() => model.forward(x));
      await new Promise((r) => setTimeout(r, 30));
      c.disable();
      console.info(`[event loop] worker: ${JSON.stringify(stats)}; inline control max ${ms(c.max)} ms`);
      expect(ms(c.max)).toBeGreaterThan(50);
      expect(stats.p99).toBeLessThan(50);
    } finally {
      await p.close();
    }
  });
});
