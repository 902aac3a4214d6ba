// The README's "same from TypeScript" training example, run as written on the bundled demo data
// (so the README stays true): detect, load with augmentation, fit, evaluate, predict off-thread,
// predictFolder.
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { expect, it } from 'vitest';
import { data, inference, models, optim, train } from '../../lib/index.js';
import { packageRoot } from '../../lib/native.js';
import { Tensor } from '../../lib/tensor/tensor.js';

it('README: detectDataset, DataLoader, fit, evaluate, model.predict and predictFolder', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'convkit-readme-train-'));
  try {
    const { train: trainSet, test } = data.detectDataset(join(packageRoot, 'data', 'fashion-mnist-demo'), { mean: 0.286, std: 0.353 });
    const loader = new data.DataLoader(trainSet, { batchSize: 64, shuffle: true, seed: 1, transform: data.parseAugmentList('mirror,crop') });
    const val = new data.DataLoader(test!, { batchSize: 256 });
    const model = models.lenet5({ numClasses: 10 });
    const opt = new optim.SGD(model.parameters(), { lr: 0.05, momentum: 0.9 });
    const pre = { channels: 1 as const, size: [28, 28] as [number, number], mean: [0.286], std: [0.353] };
    const result = await train.fit(model, { train: loader, val, optimizer: opt, epochs: 1, outDir: join(dir, 'run'), classes: trainSet.classes, preprocess: pre, progress: 'none' });
    const ev = await train.evaluate(model, val);
    expect(result.history).toHaveLength(1);
    expect(ev.count).toBe(1000);
    expect(ev.accuracy).toBeCloseTo(result.history[0]!.valAccuracy!, 6);
    expect(ev.accuracy, `accuracy ${ev.accuracy}`).toBeGreaterThan(0.3); // one augmented epoch; chance is 0.1

    const first = await test!.get(0);
    const someBatch = new Tensor(first.input, [1, 1, 28, 28]);
    const logits = await model.predict(someBatch);
    expect(logits.shape).toEqual([1, 10]);

    const images = join(dir, 'images');
    mkdirSync(images);
    const raw = Buffer.from(Uint8Array.from(first.input, (v) => Math.max(0, Math.min(255, Math.round((v * 0.353 + 0.286) * 255)))));
    await sharp(raw, { raw: { width: 28, height: 28, channels: 1 } }).png().toFile(join(images, 'a.png'));
    await inference.predictFolder(model, images, { output: join(dir, 'out.jsonl'), preprocess: pre, classes: trainSet.classes });
    const row = JSON.parse(readFileSync(join(dir, 'out.jsonl'), 'utf8').trim()) as { path: string; top: { label: string }[] };
    const best = logits.data.indexOf(Math.max(...logits.data));
    expect(row.path).toBe('a.png');
    expect(row.top[0]!.label).toBe(trainSet.classes[best]);
    await loader.close();
    await val.close();
    await inference.releasePredictor(model);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}, 120_000);
