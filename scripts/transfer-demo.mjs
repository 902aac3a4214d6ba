#!/usr/bin/env node
// The README's transfer-learning demo (runs from dist/: `npm run build:ts` first).
//
//   node scripts/transfer-demo.mjs [--per-class 100] [--test 1000] [--size 96] [--head-epochs 30]
//                                  [--epochs 4] [--cache-dir DIR] [--json]
//   experiments: [--lr 0.01] [--backbone-lr-scale 1] [--bn train|frozen] [--from-probe yes|no]
//                [--augment none|mirror|crop] [--range 01|11] [--only a,b,c,d]
//
// 100 Fashion-MNIST training images per class (from /usr/share/datasets/fashion-mnist, else the
// bundled data/fashion-mnist-demo subset), upsampled to 3 x size x size, and a test set of the
// first --test t10k images; prints four accuracies with the MobileNetV2 architecture: (a) nsfwjs's
// pretrained backbone frozen + a new head on cached features, (b) random weights frozen + head,
// (c) pretrained fine-tuned end to end, (d) trained from scratch (same epochs, data, augmentation
// and learning rate as (c)); and the per-epoch time of head training on cached features vs through
// the frozen backbone. `--only` runs (a) plus the listed others; `--augment crop` is mirror plus a
// random crop padded by size/8; `--range 11` scales pixels to [-1, 1] (Keras's preprocess_input).
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadMnist } from '../dist/data/idx.js';
import { balancedIndices, runTransferComparison, SubsetDataset } from '../dist/transfer/demo.js';
import { nsfwjsArtifacts } from './nsfwjs-artifacts.mjs';

const { values } = parseArgs({
  options: {
    'per-class': { type: 'string', default: '100' },
    test: { type: 'string', default: '1000' },
    size: { type: 'string', default: '96' },
    'head-epochs': { type: 'string', default: '30' },
    epochs: { type: 'string', default: '4' },
    'cache-dir': { type: 'string', default: join(tmpdir(), 'convkit-transfer-demo-cache') },
    json: { type: 'boolean', default: false },
    // Experiments (defaults: the README recipe).
    range: { type: 'string', default: '01' },
    augment: { type: 'string', default: 'none' },
    bn: { type: 'string' },
    'from-probe': { type: 'string' },
    'backbone-lr-scale': { type: 'string' },
    lr: { type: 'string' },
    only: { type: 'string' },
  },
});

const full = '/usr/share/datasets/fashion-mnist';
const dir = existsSync(join(full, 'train-images-idx3-ubyte.gz')) ? full : new URL('../data/fashion-mnist-demo', import.meta.url).pathname;
const size = Number(values.size);
// nsfwjs feeds pixels scaled to [0, 1]; Keras's MobileNetV2 preprocess_input scales to [-1, 1].
const opts = values.range === '11' ? { size: [size, size], channels: 3, mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] } : { size: [size, size], channels: 3, mean: [0, 0, 0], std: [1, 1, 1] };
const pad = Math.round(size / 8);
const augment = values.augment === 'none' ? [] : values.augment === 'mirror' ? [{ name: 'mirror' }] : [{ name: 'mirror' }, { name: 'crop', padding: pad }];
const only = values.only === undefined ? null : new Set(values.only.split(','));
const trainAll = loadMnist(dir, { ...opts, split: 'train' });
const testAll = loadMnist(dir, { ...opts, split: 'test' });
const train = new SubsetDataset(trainAll, await balancedIndices(trainAll, Number(values['per-class']), trainAll.labels()));
const test = new SubsetDataset(testAll, Array.from({ length: Math.min(Number(values.test), testAll.length) }, (_, i) => i));
const log = (line) => process.stderr.write(`${line}\n`);
log(`data: ${dir}; ${train.length} training images, ${test.length} test images, 3x${size}x${size}`);
const r = await runTransferComparison({
  artifacts: { ...(await nsfwjsArtifacts()), name: 'nsfwjs MobileNetV2' },
  train,
  test,
  cacheDir: values['cache-dir'],
  preprocess: opts,
  headEpochs: Number(values['head-epochs']),
  endToEndEpochs: Number(values.epochs),
  augment,
  ...(values.bn !== undefined ? { finetuneBatchNorm: values.bn } : {}),
  ...(values['from-probe'] !== undefined ? { startFromProbe: values['from-probe'] === 'yes' } : {}),
  ...(values['backbone-lr-scale'] !== undefined ? { backboneLrScale: Number(values['backbone-lr-scale']) } : {}),
  ...(values.lr !== undefined ? { finetuneLr: Number(values.lr) } : {}),
  ...(only !== null ? { skipRandom: !only.has('b'), skipFinetune: !only.has('c'), skipScratch: !only.has('d') } : {}),
  log,
});
const pct = (x) => (x === null || Number.isNaN(x) ? 'skipped' : `${(x * 100).toFixed(1)}%`);
if (values.json) console.log(JSON.stringify(r, null, 2));
else {
  console.log(`(a) pretrained MobileNetV2, frozen, head on cached features: ${pct(r.pretrainedFrozen)}`);
  console.log(`(b) random MobileNetV2, frozen, head on cached features:     ${pct(r.randomFrozen)}`);
  console.log(`(c) pretrained MobileNetV2, fine-tuned end to end:          ${pct(r.pretrainedFinetuned)}`);
  console.log(`(d) MobileNetV2 trained from scratch:                       ${pct(r.scratch)}`);
  if (!Number.isNaN(r.backboneEpochSeconds)) console.log(
    `head training per epoch: ${r.cachedEpochSeconds.toFixed(3)} s on cached features vs ${r.backboneEpochSeconds.toFixed(2)} s through the frozen backbone ` +
      `(${(r.backboneEpochSeconds / r.cachedEpochSeconds).toFixed(0)}x faster; building the cache, one backbone pass, took ${r.cacheBuildSeconds.toFixed(1)} s${r.cacheHit ? ' in the run that wrote it: reused here' : ''})`,
  );
}
