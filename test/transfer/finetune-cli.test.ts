import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseUnfreeze, runFinetune } from '../../lib/cli/finetune.js';
import { ArgumentError } from '../../lib/errors.js';
import { saveSafetensors } from '../../lib/io/safetensors.js';
import { buildModel } from '../../lib/models/index.js';
import { manualSeed } from '../../lib/tensor/random.js';
import { loadCheckpoint } from '../../lib/train/checkpoint.js';
import { writeIdx } from './idx-helpers.js';

const root = mkdtempSync(join(tmpdir(), 'convkit-finetune-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('convkit finetune (runFinetune)', () => {
  const data = join(root, 'data');
  writeIdx(data, 'train', 48, 3, 1);
  writeIdx(data, 't10k', 24, 3, 2);
  const weights = join(root, 'cifarnet.safetensors');
  const cacheDir = join(root, 'cache');
  const quiet = { progress: 'none' as const, log: () => {} };

  it('fine-tunes a safetensors state dict on cached features, writes a checkpoint and report, and reuses the cache', async () => {
    manualSeed(0);
    const pretrained = buildModel('cifarNet', { numClasses: 10, inChannels: 3 });
    await saveSafetensors(weights, pretrained.stateDict());
    const out = join(root, 'run1');
    const r = await runFinetune({ from: weights, model: 'cifarNet', data, out, epochs: 3, lr: 0.05, batchSize: 16, cacheDir, ...quiet });
    expect(r.cache).toMatchObject({ used: true, hit: false });
    expect(r.classes).toHaveLength(10); // IDX files name the digits 0-9; the labels use 0-2
    expect(r.fit.history).toHaveLength(3);
    expect(r.evaluation!.accuracy).toBeGreaterThan(0.5);
    // The backbone is untouched; the new head has one output per class.
    const sd = r.model.stateDict();
    expect(sd.get('classifier.3.weight')!.shape).toEqual([10, 512]);
    expect(Array.from(sd.get('features.0.weight')!.data)).toEqual(Array.from(pretrained.stateDict().get('features.0.weight')!.data));
    const ckpt = await loadCheckpoint(r.checkpoint);
    expect(ckpt.meta.classes).toEqual(r.classes);
    expect(ckpt.model.stateDict().get('classifier.3.weight')!.shape).toEqual([10, 512]);
    expect(readdirSync(out)).toEqual(expect.arrayContaining(['model.safetensors', 'report.html', 'log.jsonl']));
    const again = await runFinetune({ from: weights, model: 'cifarNet', data, out: join(root, 'run2'), epochs: 1, lr: 0.05, batchSize: 16, cacheDir, ...quiet });
    expect(again.cache).toMatchObject({ used: true, hit: true });
  });

  it('trains part of the backbone end to end with --freeze <module>, and refuses --cache-features with it', async () => {
    const out = join(root, 'run3');
    const r = await runFinetune({ from: weights, model: 'cifarNet', data, out, epochs: 1, lr: 0.02, batchSize: 16, freeze: 'classifier', ...quiet });
    expect(r.cache.used).toBe(false);
    expect(r.model.getModule('features').parameters().every((p) => !p.requiresGrad)).toBe(true);
    expect(r.model.getModule('classifier').parameters().every((p) => p.requiresGrad)).toBe(true);
    expect(existsSync(join(out, 'model.safetensors'))).toBe(true);
    await expect(runFinetune({ from: weights, model: 'cifarNet', data, out, epochs: 1, lr: 0.02, freeze: 'none', cacheFeatures: true, ...quiet })).rejects.toThrow(ArgumentError);
    // Gradual unfreezing: the whole backbone frozen, then classifier.0 from epoch 2 (no cache).
    const g = await runFinetune({ from: weights, model: 'cifarNet', data, out: join(root, 'run4'), epochs: 2, lr: 0.02, batchSize: 16, unfreeze: '2:classifier.0', ...quiet });
    expect(g.cache.used).toBe(false);
    expect(g.model.getModule('classifier.0').parameters().every((p) => p.requiresGrad)).toBe(true);
    expect(g.model.getModule('features').parameters().every((p) => !p.requiresGrad)).toBe(true);
    expect(parseUnfreeze('3:layer4,5:layer3+layer2')).toEqual([{ epoch: 2, modules: ['layer4'] }, { epoch: 4, modules: ['layer3', 'layer2'] }]);
    expect(() => parseUnfreeze('layer4')).toThrow(ArgumentError);
    await expect(runFinetune({ from: weights, data, out, epochs: 1, lr: 0.02, ...quiet })).rejects.toThrow(/needs --model/);
    await expect(runFinetune({ from: join(root, 'x.bin'), data, out, epochs: 1, lr: 0.02, ...quiet })).rejects.toThrow(ArgumentError);
  });
});
