// TF.js layers import against TF.js itself on real pretrained models: nsfwjs's MobileNetV2
// (uint8-quantised, Keras 2.2.4 topology) on real photos, and UpscalerJS's default RDN model.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeImage } from '../../lib/data/image.js';
import * as F from '../../lib/functional/index.js';
import { loadTfjsLayers, tfjsLayersFromMemory, type TfjsModel } from '../../lib/io/tfjs/index.js';
import { Tensor } from '../../lib/tensor/tensor.js';
import { maxAbsDiff, nsfwMobileNetV2, seededTensor, tfLoad, tfPredict, tfPredictLayers, upscalerFixture, upscalerModelPath, type Fixture } from './tfjs-helpers.js';

const PHOTOS = '/usr/share/darknet/data';
const photos = existsSync(PHOTOS) ? ['dog.jpg', 'eagle.jpg', 'giraffe.jpg'].filter((f) => readdirSync(PHOTOS).includes(f)) : [];

const CLASSES = ['Drawing', 'Hentai', 'Neutral', 'Porn', 'Sexy'];

function argmax(t: Tensor, row: number): number {
  const c = t.shape[1]!;
  let best = 0;
  for (let j = 1; j < c; j++) if (t.data[row * c + j]! > t.data[row * c + best]!) best = j;
  return best;
}

describe('nsfwjs MobileNetV2 (uint8-quantised, Keras 2.2.4) vs TF.js', () => {
  let fixture: Fixture;
  let model: TfjsModel;
  beforeAll(async () => {
    fixture = await nsfwMobileNetV2();
    model = (await loadTfjsLayers({ modelJson: fixture.modelJson, weightData: [fixture.weightData] })).eval();
  });

  it('imports every layer with the manifest matched by name', () => {
    expect(model.inputNames).toEqual(['input_1']);
    expect(model.outputNames).toEqual(['dense_3']);
    expect(model.inputs[0]!.shape).toEqual([null, 3, 224, 224]);
    // Conv1..block_10 are frozen in the Keras file: their parameters come in frozen.
    expect(model.layer('Conv1')!.parameters().every((p) => !p.requiresGrad)).toBe(true);
    expect(model.layer('dense_3')!.parameters().every((p) => p.requiresGrad)).toBe(true);
  });

  it('fine-tunes end to end: after unfreeze() a backward pass reaches Conv1', () => {
    const m = tfjsLayersFromMemory({ modelJson: fixture.modelJson, weightData: fixture.weightData }).unfreeze().train();
    const probs = m.forward(seededTensor([2, 3, 224, 224], 9));
    F.mseLoss(probs, new Tensor(new Float32Array([1, 0, 0, 0, 0, 0, 0, 1, 0, 0]), [2, 5])).backward();
    const params = new Map(m.namedParameters());
    for (const name of ['Conv1.weight', 'bn_Conv1.weight', 'block_10_depthwise.weight', 'dense_3.bias']) {
      const grad = params.get(name)?.grad ?? null;
      expect(grad, name).not.toBeNull();
      expect(grad!.data.some((v) => v !== 0), name).toBe(true);
    }
  });

  it.skipIf(photos.length === 0)(`matches TF.js to 1e-4 on real photos (${PHOTOS}: ${photos.join(', ') || 'absent, skipped'})`, async () => {
    // nsfwjs feeds pixels / 255 at 224 x 224 (it resizes with TF.js's bilinear; both models here get
    // the same sharp-resized input).
    const pre = { channels: 3 as const, size: [224, 224] as [number, number], mean: [0, 0, 0], std: [1, 1, 1] };
    const images = await Promise.all(photos.map((f) => decodeImage(join(PHOTOS, f), pre)));
    const batch = new Float32Array(images.length * 3 * 224 * 224);
    images.forEach((img, i) => batch.set(img, i * img.length));
    const x = new Tensor(batch, [images.length, 3, 224, 224]);
    const names = ['block_10_project_BN', 'flatten_1', 'dense_3'];
    const ours = model.run({ input_1: x }, { outputs: names });
    const theirs = await tfPredictLayers(await tfLoad(fixture), x, names);
    const diffs = names.map((n, i) => maxAbsDiff(ours[n]!, theirs[i]!));
    const scale = theirs.map((t) => t.data.reduce((m, v) => Math.max(m, Math.abs(v)), 0));
    const probs = ours['dense_3']!;
    const tops = photos.map((_, i) => [CLASSES[argmax(probs, i)], CLASSES[argmax(theirs[2]!, i)], probs.data[i * 5 + argmax(probs, i)]!.toFixed(3)]);
    console.log(
      `nsfwjs MobileNetV2 max |convkit - TF.js|: ${names.map((n, i) => `${n} ${diffs[i]!.toExponential(2)} (max |x| ${scale[i]!.toFixed(2)})`).join(', ')}; ` +
        `top classes (${photos.join(', ')}) as (ours, TF.js, p): ${JSON.stringify(tops)}`,
    );
    // The frozen ImageNet trunk (block_10, NCHW vs NHWC), the pooled features and the probabilities.
    for (const d of diffs) expect(d).toBeLessThan(1e-4);
    for (const [a, b] of tops) expect(a).toBe(b);
    expect(model.forward(x).data).toEqual(probs.data);
  });
});

describe('@upscalerjs/default-model (RDN: Concatenate, Add, UpSampling2D) vs TF.js', () => {
  it('loads from model.json on disk and matches TF.js to 1e-4 on a small input', async () => {
    const model = (await loadTfjsLayers(upscalerModelPath())).eval();
    expect(model.inputs[0]!.shape).toEqual([null, 3, null, null]);
    const x = seededTensor([2, 3, 12, 9], 7);
    const ours = model.forward(x);
    expect(ours.shape).toEqual([2, 3, 24, 18]);
    const theirs = await tfPredict(await tfLoad(upscalerFixture()), x);
    const diff = maxAbsDiff(ours, theirs);
    console.log(`upscaler RDN: max |convkit - TF.js| = ${diff.toExponential(2)}`);
    expect(diff).toBeLessThan(1e-4);
  });
});
