// Tiny IDX datasets (MNIST file format) for the transfer-learning tests.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Writes `<prefix>-images-idx3-ubyte` and `<prefix>-labels-idx1-ubyte` (28 x 28, `n` images,
 * labels cycling over `classes`) into `dir`. Each class has its own pattern (a bright band at a
 * class-dependent row) plus seeded noise, so a small model can tell them apart.
 */
export function writeIdx(dir: string, prefix: 'train' | 't10k', n: number, classes: number, seed: number): void {
  mkdirSync(dir, { recursive: true });
  const images = Buffer.alloc(16 + n * 784);
  images.writeUInt32BE(0x803, 0);
  images.writeUInt32BE(n, 4);
  images.writeUInt32BE(28, 8);
  images.writeUInt32BE(28, 12);
  const labels = Buffer.alloc(8 + n);
  labels.writeUInt32BE(0x801, 0);
  labels.writeUInt32BE(n, 4);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    const label = i % classes;
    labels[8 + i] = label;
    for (let p = 0; p < 784; p++) {
      s ^= s << 13;
      s ^= s >>> 17;
      s ^= s << 5;
      const row = Math.floor(p / 28);
      const band = Math.abs(row - (4 + label * 8)) < 3 ? 200 : 0;
      images[16 + i * 784 + p] = Math.min(255, band + ((s >>> 0) % 40));
    }
  }
  writeFileSync(join(dir, `${prefix}-images-idx3-ubyte`), images);
  writeFileSync(join(dir, `${prefix}-labels-idx1-ubyte`), labels);
}
