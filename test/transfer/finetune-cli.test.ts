import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { noGrad } from '../../lib/autograd/grad-mode.js';
import { runEvaluate } from '../../lib/cli/evaluate.js';
import { parseUnfreeze, runFinetune } from '../../lib/cli/finetune.js';
import { runPredict } from '../../lib/cli/predict.js';
import { ArgumentError } from '../../lib/errors.js';
import { exportOnnx } from '../../lib/io/onnx/export.js';
import { OnnxModel } from '../../lib/io/onnx/model.js';
import { saveSafetensors } from '../../lib/io/safetensors.js';
import { buildModel } from '../../lib/models/index.js';
import type { Module } from '../../lib/nn/module.js';
import { manualSeed, randn } from '../../lib/tensor/random.js';
import type { Tensor } from '../../lib/tensor/tensor.js';
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

  describe('an imported ONNX model', () => {
    const onnx = join(root, 'cifarnet.onnx');
    const logits = (m: Module, x: Tensor): number[] => Array.from(noGrad(() => m.eval().forward(x) as Tensor).data);

    it('writes a convkit checkpoint (not plain weights) that rebuilds the fine-tuned graph, and predict/evaluate accept it', async () => {
      manualSeed(7);
      const pretrained = buildModel('cifarNet', { numClasses: 10, inChannels: 3 }).eval();
      writeFileSync(onnx, exportOnnx(pretrained, { inputShape: [3, 32, 32], verify: false }).bytes);
      const out = join(root, 'onnx-cached');
      const r = await runFinetune({ from: onnx, data, out, epochs: 2, lr: 0.05, batchSize: 16, cacheDir, ...quiet });
      expect(r.cache.used).toBe(true);
      expect(r.model).toBeInstanceOf(OnnxModel);
      expect(r.checkpoint).toBe(join(out, 'model.safetensors'));
      // fit checkpointed the head each epoch; model.safetensors is a convkit checkpoint of the whole graph.
      expect(readdirSync(out)).toEqual(expect.arrayContaining(['model.safetensors', 'model.json', 'last.safetensors', 'report.html', 'log.jsonl']));
      const ckpt = await loadCheckpoint(r.checkpoint);
      expect(ckpt.meta.architecture.type).toBe('OnnxModel');
      expect(ckpt.meta.classes).toEqual(r.classes);
      expect(ckpt.meta.preprocess).toEqual(r.preprocess);
      expect(ckpt.model).toBeInstanceOf(OnnxModel);
      expect(ckpt.model.stateDict().get('classifier.3.weight')!.shape).toEqual([10, 512]);
      const x = randn([2, 3, 32, 32]);
      expect(logits(ckpt.model, x)).toEqual(logits(r.model, x));
      // The stored architecture carries no weight bytes.
      const archBytes = JSON.stringify(ckpt.meta.architecture).length;
      const weightBytes = [...ckpt.model.stateDict().values()].reduce((n, t) => n + 4 * t.size, 0);
      expect(archBytes).toBeLessThan(weightBytes / 20);

      const evaluated = await runEvaluate({ model: r.checkpoint, data });
      expect(evaluated.evaluation.accuracy).toBeCloseTo(r.evaluation!.accuracy, 6);
      const images = join(root, 'images');
      mkdirSync(images, { recursive: true });
      for (let i = 0; i < 3; i++) {
        const pixels = Buffer.alloc(28 * 28, 0);
        for (let p = 4 + i * 8 - 2; p <= 4 + i * 8 + 2; p++) pixels.fill(200, p * 28, p * 28 + 28);
        await sharp(pixels, { raw: { width: 28, height: 28, channels: 1 } }).png().toFile(join(images, `${i}.png`));
      }
      const output = join(root, 'predictions.jsonl');
      const predicted = await runPredict({ model: r.checkpoint, input: images, output, log: () => {} });
      expect(predicted.processed).toBe(3);
      expect(readFileSync(output, 'utf8').trim().split('\n')).toHaveLength(3);
    });

    it('checkpoints every epoch through the backbone and resumes from last.safetensors', async () => {
      manualSeed(8);
      const out = join(root, 'onnx-resume');
      const options = { from: onnx, data, out, lr: 0.02, batchSize: 16, freeze: 'none', scheduler: 'none' as const, ...quiet };
      const first = await runFinetune({ ...options, epochs: 1 });
      expect(first.cache.used).toBe(false);
      const last = await loadCheckpoint(join(out, 'last.safetensors'));
      expect(last.model).toBeInstanceOf(OnnxModel);
      expect(last.meta.position.epoch).toBe(1);
      const x = randn([2, 3, 32, 32]);
      expect(logits(last.model, x)).toEqual(logits(first.model, x));
      const resumed = await runFinetune({ ...options, epochs: 2, resume: true });
      // Epoch 1 comes from the checkpoint (its record, timings included), only epoch 2 ran.
      expect(resumed.fit.history).toHaveLength(2);
      expect(resumed.fit.history[0]).toEqual(first.fit.history[0]);
      expect(logits((await loadCheckpoint(resumed.checkpoint)).model, x)).toEqual(logits(resumed.model, x));
    });
  });
});
