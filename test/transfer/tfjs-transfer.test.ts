// Transfer learning on a real pretrained model: nsfwjs's Keras MobileNetV2 (a devDependency).
import { createRequire } from 'node:module';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadMnist } from '../../lib/data/idx.js';
import { crossEntropy } from '../../lib/functional/loss.js';
import { tfjsLayersFromMemory } from '../../lib/io/tfjs/index.js';
import { Linear } from '../../lib/nn/layers/index.js';
import { randn } from '../../lib/tensor/random.js';
import { balancedIndices, runTransferComparison, sizeAgnosticMobileNetJson, SubsetDataset } from '../../lib/transfer/demo.js';
import { featureExtractor, findHead, freezeBackbone, replaceHead } from '../../lib/transfer/index.js';
import { nsfwMobileNetV2 } from '../io/tfjs-helpers.js';

const require = createRequire(import.meta.url);
let haveNsfwjs = true;
try {
  require.resolve('nsfwjs/models/mobilenet_v2');
} catch {
  haveNsfwjs = false;
}
const FASHION = '/usr/share/datasets/fashion-mnist';
const DEMO = new URL('../../data/fashion-mnist-demo', import.meta.url).pathname;
const root = mkdtempSync(join(tmpdir(), 'convkit-tfjs-transfer-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe.skipIf(!haveNsfwjs)('transfer learning on nsfwjs MobileNetV2 (skipped without nsfwjs)', () => {
  it('finds the last Dense layer, replaces it with a logits head, and trains it', async () => {
    const f = await nsfwMobileNetV2();
    const model = tfjsLayersFromMemory({ modelJson: sizeAgnosticMobileNetJson(f.modelJson) as object, weightData: f.weightData });
    const head = findHead(model);
    expect(head).toMatchObject({ path: 'dense_3', inFeatures: 128, outFeatures: 5, kind: 'tfjs' });
    const linear = replaceHead(model, 3);
    expect(findHead(model).module).toBe(linear);
    expect(model.stateDict().get('dense_3.weight')!.shape).toEqual([3, 128]);
    freezeBackbone(model);
    expect(model.parameters().filter((p) => p.requiresGrad)).toEqual(linear.parameters());
    const x = randn([2, 3, 64, 64]).mul(0.2).add(0.5);
    model.eval();
    const y = model.forward(x);
    expect(y.shape).toEqual([2, 3]);
    // Logits, not the old softmax: rows do not sum to 1.
    expect(Math.abs(y.data[0]! + y.data[1]! + y.data[2]! - 1)).toBeGreaterThan(1e-3);
    crossEntropy(y, new Int32Array([0, 2])).backward();
    expect(linear.weight.grad).not.toBeNull();
    // The head input: dense_2's 128 features; a named cut gives the global-pool features.
    expect(featureExtractor(model)(x).shape).toEqual([2, 128]);
    expect(featureExtractor(model, 'flatten_1')(x).shape).toEqual([2, 1280]);
    expect(linear).toBeInstanceOf(Linear);
  });

  it('pretrained frozen features beat random frozen features by at least 5 points (reduced demo)', async () => {
    const f = await nsfwMobileNetV2();
    const dir = loadMnistDir();
    const opts = { size: [64, 64] as [number, number], channels: 3 as const, mean: [0, 0, 0], std: [1, 1, 1] };
    const trainAll = loadMnist(dir, { ...opts, split: 'train' });
    const testAll = loadMnist(dir, { ...opts, split: 'test' });
    const train = new SubsetDataset(trainAll, await balancedIndices(trainAll, 20, trainAll.labels()));
    const test = new SubsetDataset(testAll, Array.from({ length: 200 }, (_, i) => i));
    const r = await runTransferComparison({ artifacts: { modelJson: f.modelJson, weightData: f.weightData }, train, test, cacheDir: join(root, 'cache'), preprocess: opts, headEpochs: 20, endToEndEpochs: 0 });
    console.log(`reduced demo: pretrained frozen ${(r.pretrainedFrozen * 100).toFixed(1)}%, random frozen ${(r.randomFrozen * 100).toFixed(1)}%, head epoch ${r.cachedEpochSeconds.toFixed(3)} s cached vs ${r.backboneEpochSeconds.toFixed(2)} s through the backbone`);
    expect(r.pretrainedFrozen - r.randomFrozen).toBeGreaterThanOrEqual(0.05);
    expect(r.backboneEpochSeconds).toBeGreaterThan(r.cachedEpochSeconds);
  }, 240_000);
});

function loadMnistDir(): string {
  try {
    loadMnist(FASHION, { split: 'test' });
    return FASHION;
  } catch {
    return DEMO;
  }
}
