/** Shared fixtures for the data tests: real-data locations and tiny generated files. */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

export const FASHION = '/usr/share/datasets/fashion-mnist';
export const PHOTOS = '/usr/share/darknet/data';
export const hasFashion = existsSync(join(FASHION, 't10k-images-idx3-ubyte.gz'));
export const hasPhotos = ['dog.jpg', 'horses.jpg', 'kite.jpg', 'eagle.jpg'].every((f) => existsSync(join(PHOTOS, f)));
export const FASHION_SKIP = `Fashion-MNIST not installed at ${FASHION} (.ci/run installs it)`;
export const PHOTOS_SKIP = `darknet sample photos not installed at ${PHOTOS}`;

export function tempDir(name: string): string {
  return mkdtempSync(join(tmpdir(), `convkit-data-${name}-`));
}

/** An IDX file: header for `dims` then `data` (uint8). */
export function idxBytes(dims: number[], data: Uint8Array): Buffer {
  const header = Buffer.alloc(4 + 4 * dims.length);
  header[2] = 0x08;
  header[3] = dims.length;
  dims.forEach((d, i) => header.writeUInt32BE(d, 4 + 4 * i));
  return Buffer.concat([header, Buffer.from(data)]);
}

/** A tiny MNIST-format folder: `n` 4x5 images (pixel = (i*20 + k) % 256), labels i % 10. */
export function writeTinyIdx(dir: string, n: number, gz: boolean, prefix = 'train'): void {
  mkdirSync(dir, { recursive: true });
  const px = Uint8Array.from({ length: n * 20 }, (_, k) => k % 256);
  const labels = Uint8Array.from({ length: n }, (_, i) => i % 10);
  const write = (name: string, b: Buffer): void => writeFileSync(join(dir, name + (gz ? '.gz' : '')), gz ? gzipSync(b) : b);
  write(`${prefix}-images-idx3-ubyte`, idxBytes([n, 4, 5], px));
  write(`${prefix}-labels-idx1-ubyte`, idxBytes([n], labels));
}

/** A CIFAR record: label byte(s) then 3072 pixels, pixel k of record r = (r + k) % 256. */
export function cifarRecords(n: number, variant: 'cifar10' | 'cifar100', start = 0): Buffer {
  const rec = variant === 'cifar10' ? 3073 : 3074;
  const b = Buffer.alloc(n * rec);
  for (let r = 0; r < n; r++) {
    const o = r * rec;
    if (variant === 'cifar10') b[o] = (start + r) % 10;
    else {
      b[o] = (start + r) % 20;
      b[o + 1] = (start + r) % 100;
    }
    for (let k = 0; k < 3072; k++) b[o + rec - 3072 + k] = (start + r + k) % 256;
  }
  return b;
}

/**
 * An ImageFolder with real photos: cat/ (dog.jpg, kite.jpg + a truncated copy of horses.jpg),
 * dog/ (eagle.jpg, sub/horses.jpg + fake.png holding text), and notes.txt (filtered out).
 */
export function writePhotoFolder(root: string): void {
  for (const d of ['cat', 'dog/sub']) mkdirSync(join(root, d), { recursive: true });
  copyFileSync(join(PHOTOS, 'dog.jpg'), join(root, 'cat', 'a.jpg'));
  copyFileSync(join(PHOTOS, 'kite.jpg'), join(root, 'cat', 'b.JPG'));
  const horses = readFileSync(join(PHOTOS, 'horses.jpg'));
  writeFileSync(join(root, 'cat', 'c-truncated.jpg'), horses.subarray(0, Math.floor(horses.length / 3)));
  copyFileSync(join(PHOTOS, 'eagle.jpg'), join(root, 'dog', 'a.jpg'));
  copyFileSync(join(PHOTOS, 'horses.jpg'), join(root, 'dog', 'sub', 'h.jpeg'));
  writeFileSync(join(root, 'dog', 'fake.png'), 'this is a text file, not a PNG\n');
  writeFileSync(join(root, 'dog', 'notes.txt'), 'not an image\n');
}

/** A test title that carries the skip reason when the test is skipped. */
export function titled(title: string, available: boolean, reason: string): string {
  return available ? title : `${title} [skipped: ${reason}]`;
}
