// Predictor: worker results equal a main-thread forward, typed errors cross the thread boundary,
// the inline fallback, the cached predict(), and 3 user worker threads running the addon at once.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ArgumentError, F, ShapeError, manualSeed, models, nn, noGrad, randn, type Tensor } from '../../lib/index.js';
import { Predictor, predict, predictor, releasePredictor } from '../../lib/inference/index.js';
import { topIndices } from '../../lib/inference/predictor.js';
import { packageRoot } from '../../lib/native.js';
import { ensureDist, maxAbsDiff } from './helpers.js';

const { Module, Linear, registerModuleType } = nn;

function forward(model: nn.Module, x: Tensor): Tensor {
  model.eval();
  return noGrad(() => model.forward(x) as Tensor);
}

beforeAll(() => {
  ensureDist();
  manualSeed(7);
}, 120_000);

describe('Predictor in a worker', () => {
  const cases: [string, () => nn.Module, number[]][] = [
    ['lenet5', () => models.lenet5(), [8, 1, 28, 28]],
    ['resnet18 at 32x32', () => models.resnet18({ numClasses: 10 }), [4, 3, 32, 32]],
    ['mobilenetV2 at 32x32', () => models.mobilenetV2({ numClasses: 10 }), [4, 3, 32, 32]],
  ];
  it.each(cases)('%s: logits equal the main-thread forward to 1e-5', async (_name, build, shape) => {
    const model = build();
    const x = randn(shape);
    const expected = forward(model, x);
    model.train(); // the worker calls eval() itself
    const p = await Predictor.create(model);
    try {
      expect(p.mode).toBe('worker');
      const got = await p.predict(x);
      expect(got.shape).toEqual(expected.shape);
      // The worker fuses batch norms and runs convolution chains in the blocked layout: float32 sums
      // in another order.
      expect(maxAbsDiff(got.data, expected.data)).toBeLessThanOrEqual(1e-5);
      expect(model.training).toBe(true); // the caller's model is untouched
      // Queued requests come back in order, each with its own answer.
      const xs = [0, 1, 2].map(() => randn(shape));
      const outs = await Promise.all(xs.map((xi) => p.predict(xi)));
      outs.forEach((o, i) => expect(maxAbsDiff(o.data, forward(model, xs[i]!).data)).toBeLessThanOrEqual(1e-5));
    } finally {
      await p.close();
    }
  });

  it('classify ranks softmax probabilities with labels, topK clipped to the class count', async () => {
    const model = models.lenet5({ numClasses: 4 });
    const classes = ['ant', 'bee', 'cat', 'dog'];
    const p = await Predictor.create(model, { classes });
    try {
      const x = randn([3, 1, 28, 28]);
      const probs = noGrad(() => F.softmax(forward(model, x), { dim: 1 }));
      const rows = await p.classify(x, { topK: 9 });
      expect(rows).toHaveLength(3);
      rows.forEach((row, r) => {
        expect(row.topK).toHaveLength(4);
        const ps = row.topK.map((t) => t.probability);
        expect([...ps].sort((a, b) => b - a)).toEqual(ps);
        for (const t of row.topK) {
          expect(t.label).toBe(classes[t.index]);
          expect(Math.abs(t.probability - probs.get(r, t.index))).toBeLessThanOrEqual(1e-6);
        }
      });
      const two = await p.classify(x, { topK: 2, classes: ['a', 'b', 'c', 'd'] });
      expect(two[0]!.topK.map((t) => t.label)).toEqual(rows[0]!.topK.slice(0, 2).map((t) => 'abcd'[t.index]));
    } finally {
      await p.close();
    }
  });

  it('reused activation buffers: batches of 4, 2, 4 and 1 each get their own logits', async () => {
    const model = models.mobilenetV2({ numClasses: 10, widthMult: 0.5 });
    const p = await Predictor.create(model);
    try {
      for (const n of [4, 2, 4, 1]) {
        const x = randn([n, 3, 32, 32]);
        expect(maxAbsDiff((await p.predict(x)).data, forward(model, x).data)).toBeLessThanOrEqual(1e-6);
      }
    } finally {
      await p.close();
    }
    await expect(Predictor.create(model, { reuseBuffers: 'yes' as unknown as boolean })).rejects.toThrow(ArgumentError);
  });

  it('classifyRecycling moves the batch buffer to the worker and back; results equal classify', async () => {
    const model = models.mobilenetV2({ numClasses: 10, widthMult: 0.5 });
    const p = await Predictor.create(model);
    try {
      const size = 3 * 32 * 32;
      let buffer: Float32Array = new Float32Array(4 * size);
      for (const n of [4, 3, 4, 1]) {
        const x = randn([n, 3, 32, 32]);
        const expected = await p.classify(x, { topK: 3 });
        const data = n === 4 ? buffer : buffer.subarray(0, n * size);
        data.set(x.data);
        const r = await p.classifyRecycling(data, [n, 3, 32, 32], { topK: 3 });
        expect(data.length).toBe(0); // transferred
        expect(r.buffer).not.toBeNull();
        expect(r.buffer!.buffer.byteLength).toBe(4 * size * 4);
        expect(r.results.map((c) => c.topK.map((t) => t.index))).toEqual(expected.map((c) => c.topK.map((t) => t.index)));
        r.results.forEach((c, i) => c.topK.forEach((t, j) => expect(Math.abs(t.probability - expected[i]!.topK[j]!.probability)).toBeLessThanOrEqual(1e-6)));
        buffer = new Float32Array(r.buffer!.buffer);
      }
    } finally {
      await p.close();
    }
    // Without buffer reuse the worker keeps the input: nothing comes back.
    const q = await Predictor.create(models.lenet5(), { reuseBuffers: false });
    try {
      expect((await q.classifyRecycling(randn([2, 1, 28, 28]).data, [2, 1, 28, 28])).buffer).toBeNull();
    } finally {
      await q.close();
    }
  });

  it('topIndices equals a full sort (value descending, ties by index, NaN last)', () => {
    let seed = 3;
    const next = (): number => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
    for (let trial = 0; trial < 200; trial++) {
      const n = 1 + Math.floor(next() * 40);
      // Few distinct values, so ties are common; some NaN.
      const row = Float32Array.from({ length: n }, () => (next() < 0.1 ? NaN : Math.floor(next() * 6) - 3));
      const rank = (v: number): number => (Number.isNaN(v) ? -Infinity : v);
      const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => rank(row[b]!) - rank(row[a]!) || a - b);
      const sortedNaNLast = [...order.filter((i) => !Number.isNaN(row[i]!)), ...order.filter((i) => Number.isNaN(row[i]!))];
      for (const keep of [1, 2, 5, n]) expect(topIndices(row, Math.min(keep, n))).toEqual(sortedNaNLast.slice(0, Math.min(keep, n)));
    }
  });

  it('a worker error comes back as the same typed error, and the worker keeps serving', async () => {
    const p = await Predictor.create(models.lenet5());
    try {
      const err = await p.predict(randn([2, 5])).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ShapeError);
      expect((err as ShapeError).code).toBe('ERR_SHAPE');
      expect((err as Error).message).toMatch(/Conv2d: expected a 3-d or 4-d input/);
      expect((err as Error).stack).toMatch(/queued from/);
      expect((await p.predict(randn([1, 1, 28, 28]))).shape).toEqual([1, 10]);
    } finally {
      await p.close();
    }
    await expect(p.predict(randn([1, 1, 28, 28]))).rejects.toBeInstanceOf(ArgumentError);
  });
});

// Not registered anywhere: toJSON() throws, so the predictor runs inline.
class Unregistered extends Module {
  readonly fc = this.registerModule('fc', new Linear(6, 3));
  forward(x: Tensor): Tensor {
    return this.fc.forward(x).mul(2);
  }
}

// Registered on this thread only: the worker cannot rebuild it unless told to import its module.
class Doubler extends Module {
  readonly fc = this.registerModule('fc', new Linear(6, 3));
  forward(x: Tensor): Tensor {
    return this.fc.forward(x).mul(2);
  }
}
registerModuleType('test.inference.Doubler', Doubler, () => new Doubler());

describe('inline fallback', () => {
  it('an unregistered model runs inline, one image at a time, with the same results', async () => {
    const model = new Unregistered();
    const x = randn([5, 6]);
    const expected = forward(model, x);
    model.train();
    const p = await Predictor.create(model);
    expect(p.mode).toBe('inline');
    expect(p.fallbackReason).toMatch(/not registered/);
    // The event loop turns between images: an immediate re-armed forever gets to run in between.
    let turns = 0;
    let on = true;
    const spin = (): void => {
      turns++;
      if (on) setImmediate(spin);
    };
    setImmediate(spin);
    const got = await p.predict(x);
    on = false;
    expect(turns).toBeGreaterThanOrEqual(4);
    expect(maxAbsDiff(got.data, expected.data)).toBeLessThanOrEqual(1e-6);
    expect(model.training).toBe(true);
    await p.close();
  });

  it('a type the worker does not know falls back inline; `imports` registers it in the worker', async () => {
    const model = new Doubler();
    const x = randn([2, 6]);
    const expected = forward(model, x);
    const inline = await Predictor.create(model);
    expect(inline.mode).toBe('inline');
    expect(inline.fallbackReason).toMatch(/unknown module type 'test.inference.Doubler'/);
    await inline.close();

    const dir = mkdtempSync(join(tmpdir(), 'convkit-imports-'));
    try {
      const file = join(dir, 'doubler.mjs');
      const nnUrl = pathToFileURL(join(packageRoot, 'dist', 'nn', 'index.js')).href;
      writeFileSync(
        file,
        `import { Module, Linear, registerModuleType } from '${nnUrl}';\n` +
          `class Doubler extends Module { fc = this.registerModule('fc', new Linear(6, 3)); forward(x) { return this.fc.forward(x).mul(2); } }\n` +
          `registerModuleType('test.inference.Doubler', Doubler, () => new Doubler());\n`,
      );
      const p = await Predictor.create(model, { imports: [file] });
      expect(p.mode).toBe('worker');
      expect(maxAbsDiff((await p.predict(x)).data, expected.data)).toBeLessThanOrEqual(1e-6);
      await p.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('predict(model, input)', () => {
  it('caches one predictor per model holding a snapshot; releasePredictor takes a new one', async () => {
    const model = models.lenet5({ numClasses: 3 });
    const x = randn([2, 1, 28, 28]);
    const before = forward(model, x);
    expect(maxAbsDiff((await predict(model, x)).data, before.data)).toBeLessThanOrEqual(1e-6);
    const p = await predictor(model);
    expect(await predictor(model)).toBe(p);
    // Change the weights: the cached worker still holds the snapshot.
    for (const t of model.parameters()) t.data.fill(0.01);
    const after = forward(model, x);
    expect(maxAbsDiff((await predict(model, x)).data, before.data)).toBeLessThanOrEqual(1e-6);
    await releasePredictor(model);
    expect(maxAbsDiff((await predict(model, x)).data, after.data)).toBeLessThanOrEqual(1e-6);
    expect(await predictor(model)).not.toBe(p);
    await releasePredictor(model);
  });
});

describe('worker_threads safety', () => {
  it('3 user worker threads load dist/index.js and run inference at once; each equals the main thread', async () => {
    const model = models.resnet18({ numClasses: 10 });
    const x = randn([2, 3, 32, 32]);
    const expected = forward(model, x);
    const state = [...model.stateDict()].map(([name, t]) => ({ name, data: t.data.slice(), shape: [...t.shape] }));
    const code = `
      const { parentPort, workerData } = require('node:worker_threads');
      import(workerData.dist).then((ck) => {
        const model = ck.nn.moduleFromJSON(workerData.json);
        model.loadStateDict(new Map(workerData.state.map((e) => [e.name, new ck.Tensor(e.data, e.shape)])));
        model.eval();
        const x = new ck.Tensor(workerData.input, workerData.shape);
        const outs = [];
        for (let i = 0; i < 2; i++) outs.push(ck.noGrad(() => model.forward(x)).data);
        parentPort.postMessage({ outs, threads: ck.getNumThreads() });
      });
    `;
    const dist = pathToFileURL(join(packageRoot, 'dist', 'index.js')).href;
    const run = (): Promise<{ outs: Float32Array[] }> =>
      new Promise((resolve, reject) => {
        const w = new Worker(code, { eval: true, workerData: { dist, json: model.toJSON(), state, input: x.data, shape: [...x.shape] } });
        w.once('message', (m: { outs: Float32Array[] }) => {
          resolve(m);
          void w.terminate();
        });
        w.once('error', reject);
      });
    const results = await Promise.all([run(), run(), run()]);
    // Meanwhile the main thread's own result is unchanged.
    expect(maxAbsDiff(forward(model, x).data, expected.data)).toBe(0);
    for (const r of results) {
      expect(r.outs).toHaveLength(2);
      for (const out of r.outs) expect(maxAbsDiff(out, expected.data)).toBeLessThanOrEqual(1e-6);
    }
  });
});

afterAll(() => {
  manualSeed(0);
});
