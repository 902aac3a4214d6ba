#!/usr/bin/env node
// Makes data/fashion-mnist-demo/: a class-balanced subset of Fashion-MNIST (the first N training
// and M test images of each class, in their original order), in the dataset's own IDX format,
// gzipped. Source: Debian's dataset-fashion-mnist (/usr/share/datasets/fashion-mnist), MIT-licensed
// by Zalando SE (see data/fashion-mnist-demo/NOTICE). `convkit demo` trains on it.
//
//   node scripts/make-demo-data.mjs [sourceDir] [perClassTrain=500] [perClassTest=100]
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { gunzipSync, gzipSync } from 'node:zlib';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const src = process.argv[2] ?? '/usr/share/datasets/fashion-mnist';
const perTrain = Number(process.argv[3] ?? 500);
const perTest = Number(process.argv[4] ?? 100);
const out = join(root, 'data', 'fashion-mnist-demo');
mkdirSync(out, { recursive: true });

function subset(prefix, perClass) {
  const images = gunzipSync(readFileSync(join(src, `${prefix}-images-idx3-ubyte.gz`)));
  const labels = gunzipSync(readFileSync(join(src, `${prefix}-labels-idx1-ubyte.gz`)));
  if (images.readUInt32BE(0) !== 2051 || labels.readUInt32BE(0) !== 2049) throw new Error(`${prefix}: not IDX`);
  const n = labels.readUInt32BE(4);
  const rows = images.readUInt32BE(8);
  const cols = images.readUInt32BE(12);
  const size = rows * cols;
  const taken = new Array(10).fill(0);
  const keep = [];
  for (let i = 0; i < n && keep.length < perClass * 10; i++) {
    const y = labels[8 + i];
    if (taken[y] < perClass) {
      taken[y]++;
      keep.push(i);
    }
  }
  const img = Buffer.alloc(16 + keep.length * size);
  img.writeUInt32BE(2051, 0);
  img.writeUInt32BE(keep.length, 4);
  img.writeUInt32BE(rows, 8);
  img.writeUInt32BE(cols, 12);
  const lab = Buffer.alloc(8 + keep.length);
  lab.writeUInt32BE(2049, 0);
  lab.writeUInt32BE(keep.length, 4);
  keep.forEach((i, k) => {
    images.copy(img, 16 + k * size, 16 + i * size, 16 + (i + 1) * size);
    lab[8 + k] = labels[8 + i];
  });
  writeFileSync(join(out, `${prefix}-images-idx3-ubyte.gz`), gzipSync(img, { level: 9 }));
  writeFileSync(join(out, `${prefix}-labels-idx1-ubyte.gz`), gzipSync(lab, { level: 9 }));
  console.log(`${prefix}: ${keep.length} images (${perClass} per class) of ${n}`);
}

subset('train', perTrain);
subset('t10k', perTest);
