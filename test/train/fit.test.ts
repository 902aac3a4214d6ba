// The training loop: in-process interrupt + resume reproduces an uninterrupted run's per-step
// losses; checkpoints round-trip model/optimiser/scheduler/RNG; a failed checkpoint write leaves the
// previous one loadable; early stopping stops at the right epoch; non-TTY progress is plain lines.
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { manualSeed } from '../../lib/index.js';
import { _setWriteFault } from '../../lib/io/atomic-write.js';
import { loadSafetensors } from '../../lib/io/index.js';
import * as optim from '../../lib/optim/index.js';
import { checkpoint, earlyStopping, fit, loadCheckpoint, restoreTraining, saveCheckpoint, type EpochRecord, type FitOptions } from '../../lib/train/index.js';
import { smallNet, syntheticSource } from './helpers.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'convkit-fit-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});
afterEach(() => _setWriteFault(null));

function setup(): { model: ReturnType<typeof smallNet>; optimizer: optim.SGD; scheduler: optim.StepLR } {
  manualSeed(1);
  const model = smallNet();
  const optimizer = new optim.SGD(model.parameters(), { lr: 0.05, momentum: 0.9, weightDecay: 1e-4 });
  const scheduler = new optim.StepLR(optimizer, { stepSize: 1, gamma: 0.5 });
  return { model, optimizer, scheduler };
}

const quiet = { progress: 'none' as const, handleSignals: false };

describe('fit: interrupt and resume', () => {
  it('resumed mid-epoch, per-step losses and final weights match an uninterrupted run', async () => {
    const train = syntheticSource();
    const val = syntheticSource({ count: 12, seed: 9 });
    // Reference run.
    const ref = setup();
    const refLosses: number[] = [];
    const refResult = await fit(ref.model, {
      ...quiet, train, val, epochs: 3, optimizer: ref.optimizer, scheduler: ref.scheduler, seed: 5, metrics: ['loss', 'accuracy', 'top5'],
      callbacks: [{ onBatchEnd: (_ctx, info) => void refLosses.push(info.loss) }],
    });
    expect(refLosses).toHaveLength(18);
    expect(refResult.history).toHaveLength(3);
    // Interrupted after 8 steps (epoch 1, batch 2), then resumed with fresh objects.
    const outDir = join(dir, 'resume');
    const a = setup();
    const losses: number[] = [];
    const first = await fit(a.model, {
      ...quiet, train, val, epochs: 3, optimizer: a.optimizer, scheduler: a.scheduler, seed: 5, outDir, metrics: ['loss', 'accuracy', 'top5'],
      callbacks: [{ onBatchEnd: (ctx, info) => { losses.push(info.loss); if (info.step === 8) ctx.interrupt(); } }],
    });
    expect(first.interrupted).toBe(true);
    expect(first.position).toEqual({ epoch: 1, batch: 2 });
    expect(first.checkpoint).toBe(join(outDir, 'last.safetensors'));
    const b = setup();
    manualSeed(999); // the resumed run must restore the generator itself
    const second = await fit(b.model, {
      ...quiet, train, val, epochs: 3, optimizer: b.optimizer, scheduler: b.scheduler, seed: 5, outDir, resume: true, metrics: ['loss', 'accuracy', 'top5'],
      callbacks: [{ onBatchEnd: (_ctx, info) => void losses.push(info.loss) }],
    });
    expect(second.interrupted).toBe(false);
    expect(losses).toHaveLength(18);
    for (let i = 0; i < 18; i++) expect(Math.abs(losses[i]! - refLosses[i]!), `step ${i + 1}`).toBeLessThanOrEqual(1e-6);
    for (const [name, t] of ref.model.stateDict()) {
      const got = b.model.stateDict().get(name)!;
      for (let i = 0; i < t.size; i++) expect(Math.abs(got.data[i]! - t.data[i]!), name).toBeLessThanOrEqual(1e-5);
    }
    // History: same epochs and metrics (times differ).
    const strip = (h: EpochRecord[]): unknown[] => h.map(({ seconds: _s, imagesPerSecond: _i, ...rest }) => rest);
    const got = strip(second.history) as Array<Record<string, number>>;
    const want = strip(refResult.history) as Array<Record<string, number>>;
    expect(got.map((r) => r['epoch'])).toEqual([0, 1, 2]);
    for (let e = 0; e < 3; e++) for (const k of Object.keys(want[e]!)) expect(got[e]![k]).toBeCloseTo(want[e]![k]!, 5);
    expect(b.optimizer.paramGroups[0]!.lr).toBeCloseTo(0.05 / 8, 12);
    // log.jsonl: one row per epoch, no duplicates across the resume.
    const rows = (await readFile(join(outDir, 'log.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as Record<string, number>);
    expect(rows.map((r) => r['epoch'])).toEqual([0, 1, 2]);
    expect(Object.keys(rows[0]!)).toEqual(expect.arrayContaining(['trainLoss', 'trainAccuracy', 'valLoss', 'valAccuracy', 'valTop5', 'lr', 'imagesPerSecond', 'seconds']));
  });
});

describe('checkpoints', () => {
  it('hold the model under PyTorch names, optimiser buffers, and all metadata; reload strictly', async () => {
    const { model, optimizer, scheduler } = setup();
    const train = syntheticSource();
    await fit(model, { ...quiet, train, epochs: 1, optimizer, scheduler, classes: ['a', 'b', 'c'], preprocess: { channels: 1, size: [8, 8], mean: [0.5], std: [0.25] }, settings: { model: 'smallNet' } });
    const path = join(dir, 'ck', 'model.safetensors');
    await (await import('node:fs/promises')).mkdir(join(dir, 'ck'), { recursive: true });
    await saveCheckpoint(path, { model, optimizer, scheduler, position: { epoch: 1, batch: 0 }, step: 6, classes: ['a', 'b', 'c'] });
    const { tensors, metadata } = await loadSafetensors(path);
    expect([...tensors.keys()].slice(0, 7)).toEqual(['0.weight', '0.bias', '1.weight', '1.bias', '1.running_mean', '1.running_var', '1.num_batches_tracked']);
    expect(tensors.has('optimizer.state.0.momentumBuffer')).toBe(true);
    expect(tensors.get('optimizer.state.0.momentumBuffer')!.shape).toEqual([4, 1, 3, 3]);
    expect(metadata['format']).toBe('pt');
    const meta = JSON.parse(metadata['convkit']!) as Record<string, unknown>;
    expect(meta).toMatchObject({ format: 'convkit-checkpoint', version: 1, position: { epoch: 1, batch: 0 }, step: 6, classes: ['a', 'b', 'c'] });
    expect((meta['optimizer'] as { type: string }).type).toBe('SGD');
    expect((meta['scheduler'] as { type: string }).type).toBe('StepLR');
    expect(JSON.parse(await readFile(join(dir, 'ck', 'model.json'), 'utf8'))).toEqual(meta);

    const loaded = await loadCheckpoint(path);
    expect(loaded.model.toJSON()).toEqual(model.toJSON());
    for (const [k, t] of model.stateDict()) expect(Array.from(loaded.model.stateDict().get(k)!.data)).toEqual(Array.from(t.data));
    const opt2 = new optim.SGD(loaded.model.parameters(), { lr: 1, momentum: 0.9 });
    const sch2 = new optim.StepLR(opt2, { stepSize: 1, gamma: 0.5 });
    const restored = restoreTraining(loaded, opt2, sch2);
    expect(restored.position).toEqual({ epoch: 1, batch: 0 });
    expect(opt2.paramGroups[0]!.lr).toBe(optimizer.paramGroups[0]!.lr);
    expect(sch2.stateDict()).toEqual(scheduler.stateDict());
    expect(() => restoreTraining(loaded, new optim.Adam(loaded.model.parameters(), { lr: 1 }))).toThrow(/holds SGD state but the optimiser is Adam/);
    // A directory means <dir>/last.safetensors.
    await saveCheckpoint(join(dir, 'ck'), { model });
    expect((await readdir(join(dir, 'ck'))).sort()).toEqual(['last.json', 'last.safetensors', 'model.json', 'model.safetensors']);
    expect((await loadCheckpoint(join(dir, 'ck'))).path).toBe(join(dir, 'ck', 'last.safetensors'));
  });

  it('a write that fails midway leaves the previous checkpoint loadable', async () => {
    const { model, optimizer } = setup();
    const ckDir = join(dir, 'fail');
    const train = syntheticSource();
    await fit(model, { ...quiet, train, epochs: 1, optimizer, callbacks: [checkpoint({ dir: ckDir })] });
    const before = await readFile(join(ckDir, 'last.safetensors'));
    _setWriteFault((stage, info) => {
      if (stage === 'write' && info.target.endsWith('last.safetensors')) throw new Error('injected: disk full');
    });
    await expect(fit(model, { ...quiet, train, epochs: 2, optimizer, resume: true, callbacks: [checkpoint({ dir: ckDir })] })).rejects.toThrow(/disk full/);
    _setWriteFault(null);
    expect(Buffer.compare(await readFile(join(ckDir, 'last.safetensors')), before)).toBe(0);
    expect((await readdir(ckDir)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    const loaded = await loadCheckpoint(ckDir);
    expect(loaded.meta.position).toEqual({ epoch: 1, batch: 0 });
  });
});

describe('callbacks and output', () => {
  it('early stopping stops at the epoch where patience runs out', async () => {
    const { model, optimizer } = setup();
    const values = [1.0, 0.9, 0.95, 0.91, 0.5, 0.4];
    const seen: number[] = [];
    // Feed a scripted monitored value through a hook that runs before early stopping.
    const script = { onEpochEnd: (_ctx: unknown, r: EpochRecord) => { r.valLoss = values[r.epoch]!; seen.push(r.epoch); } };
    const stopper = earlyStopping({ monitor: 'val_loss', patience: 2, minDelta: 0.01 });
    const result = await fit(model, { ...quiet, train: syntheticSource({ count: 8 }), epochs: 6, optimizer, callbacks: [script, stopper] });
    // epoch 0 best 1.0; 1 best 0.9; 2 wait 1; 3: 0.91 not < 0.89 -> wait 2 -> stop.
    expect(seen).toEqual([0, 1, 2, 3]);
    expect(result.stoppedEarly).toBe(true);
    expect(result.history).toHaveLength(4);
    expect(stopper.stoppedEpoch).toBe(3);
    expect(result.stopReason).toMatch(/valLoss did not improve for 2 epochs/);
  });

  it('non-TTY progress is plain lines: one per N batches and one per epoch', async () => {
    const { model, optimizer } = setup();
    const lines: string[] = [];
    const opts: FitOptions = { train: syntheticSource(), val: syntheticSource({ count: 6 }), epochs: 2, optimizer, progress: 'lines', logEvery: 3, log: (l) => lines.push(l), handleSignals: false };
    await fit(model, opts);
    expect(lines).toHaveLength(6);
    expect(lines[0]).toMatch(/^epoch 1\/2 batch 3\/6 loss \d+\.\d{4} acc \d\.\d{4} [\d.]+ img\/s$/);
    expect(lines[2]).toMatch(/^epoch 1\/2 train loss \d+\.\d{4} acc \d\.\d{4} \| val loss \d+\.\d{4} acc \d\.\d{4} \| lr 0\.05000 \| [\d.]+ img\/s \| [\d.]+ s$/);
    for (const l of lines) expect(l).not.toMatch(/\x1b|\r/);
  });
});
