// decodeImage: sharp decode + the Preprocess steps. Sizes that need no resampling are checked
// exactly against the pixels written; resampled ones by shape and channel count; bad files by the
// exact start of their FormatError.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkPreprocess, decodeImage, decodePixels, hwcToChwInto } from '../../lib/data/image.js';
import { ArgumentError, FormatError } from '../../lib/errors.js';

let dir: string;
const W = 30;
const H = 20;
// A grey ramp and an RGB pattern whose pixel values are known exactly.
const grey = Uint8Array.from({ length: W * H }, (_, i) => (i * 7) % 256);
const rgb = Uint8Array.from({ length: W * H * 3 }, (_, i) => (i * 13 + (i % 3) * 50) % 256);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'convkit-image-'));
  await sharp(Buffer.from(grey), { raw: { width: W, height: H, channels: 1 } }).png().toFile(join(dir, 'grey.png'));
  await sharp(Buffer.from(rgb), { raw: { width: W, height: H, channels: 3 } }).png().toFile(join(dir, 'rgb.png'));
  const jpeg = await sharp(Buffer.from(rgb), { raw: { width: W, height: H, channels: 3 } }).jpeg().toBuffer();
  writeFileSync(join(dir, 'truncated.jpg'), jpeg.subarray(0, jpeg.length >> 1));
  writeFileSync(join(dir, 'text.png'), 'not an image\n');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('decodeImage', () => {
  it('grey PNG at its own size: (x/255 - mean)/std exactly, CHW', async () => {
    const out = await decodeImage(join(dir, 'grey.png'), { channels: 1, size: [H, W], mean: [0.5], std: [0.25] });
    expect(out).toHaveLength(W * H);
    for (let i = 0; i < W * H; i++) expect(out[i]).toBeCloseTo((grey[i]! / 255 - 0.5) / 0.25, 5);
  });

  it('RGB PNG at its own size: HWC bytes to CHW planes exactly', async () => {
    const out = await decodeImage(join(dir, 'rgb.png'), { channels: 3, size: [H, W], mean: [0, 0, 0], std: [1, 1, 1] });
    for (let c = 0; c < 3; c++) {
      for (let i = 0; i < W * H; i++) expect(out[c * W * H + i]).toBeCloseTo(rgb[i * 3 + c]! / 255, 6);
    }
  });

  it('resize-then-centre-crop keeps the requested channels (grey stays 1 channel, grey to RGB replicates)', async () => {
    // Shorter side 20 → resize 20 (no change), centre crop 20x20 from 30x20: columns 5..24.
    const g = await decodeImage(join(dir, 'grey.png'), { channels: 1, size: [20, 20], resize: 20, mean: [0], std: [1] });
    expect(g).toHaveLength(400);
    for (let y = 0; y < 20; y++) for (let x = 0; x < 20; x++) expect(g[y * 20 + x]).toBeCloseTo(grey[y * W + x + 5]! / 255, 6);
    const g3 = await decodeImage(join(dir, 'grey.png'), { channels: 3, size: [16, 16], resize: 18, mean: [0, 0, 0], std: [1, 1, 1] });
    expect(g3).toHaveLength(3 * 256);
    expect(Array.from(g3.subarray(0, 256))).toEqual(Array.from(g3.subarray(256, 512)));
    const r1 = await decodeImage(join(dir, 'rgb.png'), { channels: 1, size: [8, 8], resize: 10, mean: [0], std: [1] });
    expect(r1).toHaveLength(64);
  });

  it('EXIF orientation is applied before resizing, with and without resize (6 = rotate 90 clockwise)', async () => {
    // A PNG stored sideways (20 wide, 30 high) with orientation 6 displays as the 30x20 original.
    const sideways = await sharp(Buffer.from(grey), { raw: { width: W, height: H, channels: 1 } }).rotate(-90).png().toBuffer();
    const tagged = await sharp(sideways).withMetadata({ orientation: 6 }).png().toBuffer();
    const fill = await decodeImage(tagged, { channels: 1, size: [H, W], mean: [0], std: [1] });
    for (let i = 0; i < W * H; i++) expect(fill[i]).toBeCloseTo(grey[i]! / 255, 6);
    const crop = await decodeImage(tagged, { channels: 1, size: [20, 20], resize: 20, mean: [0], std: [1] });
    for (let y = 0; y < 20; y++) for (let x = 0; x < 20; x++) expect(crop[y * 20 + x]).toBeCloseTo(grey[y * W + x + 5]! / 255, 6);
  });

  it('unreadable input is a FormatError naming the file', async () => {
    const pre = { channels: 3 as const, size: [8, 8] as [number, number], mean: [0, 0, 0], std: [1, 1, 1] };
    for (const [file, reason] of [
      ['truncated.jpg', 'cannot decode image: '],
      ['text.png', 'cannot decode image: '],
      ['missing.png', 'cannot read file: ENOENT'],
    ] as const) {
      const p = join(dir, file);
      const err = await decodeImage(p, pre).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(FormatError);
      expect((err as Error).message.startsWith(`${p}: ${reason}`)).toBe(true);
    }
  });

  it('checkPreprocess rejects bad specs with the reason', () => {
    expect(() => checkPreprocess({ channels: 2 as never, size: [8, 8], mean: [0], std: [1] })).toThrow(ArgumentError);
    expect(() => checkPreprocess({ channels: 1, size: [8, 8], mean: [0], std: [0] })).toThrow('preprocess: std must be positive; received [0]');
    expect(() => checkPreprocess({ channels: 3, size: [8, 8], mean: [0], std: [1, 1, 1] })).toThrow('preprocess: mean must hold 3 finite numbers; received [0]');
  });

  it('decodePixels returns the HWC bytes; hwcToChwInto writes one slot of a batch and nothing else', async () => {
    const pixels = await decodePixels(join(dir, 'rgb.png'), { channels: 3, size: [H, W], mean: [0, 0, 0], std: [1, 1, 1] });
    expect(Array.from(pixels)).toEqual(Array.from(rgb));
    const mean = [0.485, 0.456, 0.406];
    const std = [0.229, 0.224, 0.225];
    const size = 3 * W * H;
    const batch = new Float32Array(3 * size).fill(-7);
    hwcToChwInto(pixels, 3, H, W, mean, std, batch, size);
    expect(batch.subarray(0, size).every((v) => v === -7)).toBe(true);
    expect(batch.subarray(2 * size).every((v) => v === -7)).toBe(true);
    for (let c = 0; c < 3; c++) {
      for (let i = 0; i < W * H; i++) expect(batch[size + c * W * H + i]).toBeCloseTo((rgb[i * 3 + c]! / 255 - mean[c]!) / std[c]!, 5);
    }
    const one = new Float32Array(W * H + 5);
    hwcToChwInto(grey, 1, H, W, [0.5], [0.25], one, 5);
    for (let i = 0; i < W * H; i++) expect(one[5 + i]).toBeCloseTo((grey[i]! / 255 - 0.5) / 0.25, 5);
    expect(() => hwcToChwInto(pixels, 3, H, W, mean, std, batch, 2 * size + 1)).toThrow(ArgumentError);
    expect(() => hwcToChwInto(pixels.subarray(1), 3, H, W, mean, std, batch, 0)).toThrow(ArgumentError);
  });
});
