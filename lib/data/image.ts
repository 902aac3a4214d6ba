/**
 * Image files to CHW float32 arrays, with sharp (libvips): every format sharp reads (JPEG, PNG,
 * WebP, GIF, TIFF, AVIF, SVG), EXIF orientation applied, then the steps of a {@link Preprocess}.
 * A file sharp cannot decode (truncated, corrupt, not an image) is a FormatError naming the file.
 */
import { readFile } from 'node:fs/promises';
import sharp from 'sharp';
import { ArgumentError, FormatError } from '../errors.js';
import type { Preprocess } from './types.js';

// Decoding runs on libuv's pool; leave one thread of it to the rest of the process.
sharp.concurrency(1);
sharp.cache(false);

/**
 * File extensions treated as images (lower case, with the dot), by `ImageFolder` and
 * `predictFolder` alike. A file with one of them that sharp cannot decode (HEIC and BMP in sharp's
 * prebuilt libvips, a corrupt file) is reported, never silently dropped; other files are ignored.
 */
export const IMAGE_EXTENSIONS: readonly string[] = [
  '.jpg', '.jpeg', '.jpe', '.jfif', '.png', '.webp', '.gif', '.tif', '.tiff', '.avif', '.heic', '.heif', '.svg', '.bmp',
];

/** ImageNet's per-channel statistics, as torchvision's pretrained models expect. */
export const IMAGENET_MEAN = [0.485, 0.456, 0.406];
export const IMAGENET_STD = [0.229, 0.224, 0.225];

/** Checks a preprocessing spec (from the user or a checkpoint); returns it. */
export function checkPreprocess(p: Preprocess, what = 'preprocess'): Preprocess {
  const bad = (msg: string): never => {
    throw new ArgumentError(`${what}: ${msg}`);
  };
  if (p === null || typeof p !== 'object') bad('expected an object');
  if (p.channels !== 1 && p.channels !== 3) bad(`channels must be 1 or 3; received ${String(p.channels)}`);
  if (!Array.isArray(p.size) || p.size.length !== 2 || !p.size.every((v) => Number.isInteger(v) && v >= 1 && v <= 16384)) {
    bad(`size must be [height, width] of positive integers; received ${JSON.stringify(p.size)}`);
  }
  if (p.resize !== undefined && !(Number.isInteger(p.resize) && p.resize >= Math.min(...p.size) && p.resize <= 16384)) {
    bad(`resize must be an integer at least min(size); received ${String(p.resize)}`);
  }
  for (const key of ['mean', 'std'] as const) {
    const v = p[key];
    if (!Array.isArray(v) || v.length !== p.channels || !v.every((x) => typeof x === 'number' && Number.isFinite(x))) {
      bad(`${key} must hold ${p.channels} finite numbers; received ${JSON.stringify(v)}`);
    }
  }
  if (!p.std.every((x) => x > 0)) bad(`std must be positive; received ${JSON.stringify(p.std)}`);
  return p;
}

/** The shorter side scaled to `resize`, the other side in proportion (torchvision's rounding). */
function resizedDims(width: number, height: number, resize: number): [number, number] {
  if (width <= height) return [resize, Math.max(1, Math.floor((resize * height) / width))];
  return [Math.max(1, Math.floor((resize * width) / height)), resize];
}

/**
 * libvips keeps its last error message in one process-wide buffer: when several threads decode at
 * once, a failed pipeline can report "Unknown error" because another thread cleared the buffer
 * first. A plain decode of the same bytes is tried (twice at most) for the real reason ("premature
 * end of JPEG image"); the first message is kept when that gives nothing better.
 */
async function decodeFailureReason(bytes: Buffer, err: Error): Promise<string> {
  let reason = err.message;
  for (let attempt = 0; attempt < 2 && /^(Unknown error)?$/.test(reason.trim()); attempt++) {
    try {
      await sharp(bytes, { failOn: 'error', pages: 1 }).raw().toBuffer();
      return reason;  // decodes now: keep the pipeline's own message
    } catch (again) {
      reason = (again as Error).message || reason;
    }
  }
  return reason;
}

/**
 * Decodes an image (a path or the file's bytes) and applies `pre`'s geometry and colour steps;
 * returns its uint8 pixels, HWC, `pre.channels` per pixel and `pre.size` in extent. Normalising
 * them ({@link hwcToChwInto}) is left to the caller, which can write straight into a batch.
 * @throws FormatError when the data is not a decodable image (the message names `source`).
 */
export async function decodePixels(input: string | Buffer, pre: Preprocess, source?: string): Promise<Uint8Array> {
  const name = source ?? (typeof input === 'string' ? input : '<buffer>');
  let bytes: Buffer;
  try {
    bytes = typeof input === 'string' ? await readFile(input) : input;
  } catch (err) {
    throw new FormatError(`${name}: cannot read file: ${(err as Error).message}`);
  }
  const [outH, outW] = pre.size;
  let raw: Buffer;
  let channels: number;
  try {
    // The header pass gives a corrupt header its libvips reason in every thread; a failure inside
    // the decode pipeline (a truncated JPEG) can still come back as "Unknown error" when several
    // threads decode at once: see decodeFailureReason.
    const meta = await sharp(bytes, { failOn: 'error' }).metadata();
    if (meta.width === undefined || meta.height === undefined) throw new Error('no image dimensions');
    const swap = (meta.orientation ?? 1) >= 5;
    const w0 = swap ? meta.height : meta.width;
    const h0 = swap ? meta.width : meta.height;
    let img = sharp(bytes, { failOn: 'error', pages: 1 }).rotate();
    img = pre.channels === 1 ? img.toColourspace('b-w') : img.removeAlpha().toColourspace('srgb');
    if (pre.resize === undefined) {
      img = img.resize(outW, outH, { fit: 'fill' });
    } else {
      const [w1, h1] = resizedDims(w0, h0, pre.resize);
      // Centre crop: torchvision rounds the offset to the nearest integer.
      const left = Math.round((w1 - outW) / 2);
      const top = Math.round((h1 - outH) / 2);
      // One pipeline: resize (JPEG shrink-on-load applies), then the crop after the resize.
      img = img.resize(w1, h1, { fit: 'fill' }).extract({ left, top, width: outW, height: outH });
    }
    const out = await img.raw().toBuffer({ resolveWithObject: true });
    raw = out.data;
    channels = out.info.channels;
  } catch (err) {
    throw new FormatError(`${name}: cannot decode image: ${await decodeFailureReason(bytes, err as Error)}`);
  }
  if (channels !== pre.channels || raw.length !== outH * outW * channels) {
    throw new FormatError(`${name}: decoded ${channels} channel(s), ${raw.length} bytes; expected ${pre.channels} x ${outH} x ${outW}`);
  }
  return raw;
}

/**
 * Decodes an image (a path or the file's bytes) and applies `pre`; returns [C, H, W] float32.
 * @throws FormatError when the data is not a decodable image (the message names `source`).
 */
export async function decodeImage(input: string | Buffer, pre: Preprocess, source?: string): Promise<Float32Array> {
  const raw = await decodePixels(input, pre, source);
  return hwcToChw(raw, pre.channels, pre.size[0], pre.size[1], pre.mean, pre.std);
}

/** uint8 HWC to normalised float32 CHW: (x / 255 - mean[c]) / std[c]. */
export function hwcToChw(
  raw: Uint8Array,
  channels: number,
  height: number,
  width: number,
  mean: readonly number[],
  std: readonly number[],
): Float32Array {
  const out = new Float32Array(channels * height * width);
  hwcToChwInto(raw, channels, height, width, mean, std, out, 0);
  return out;
}

/**
 * {@link hwcToChw} written into `out` from element `offset` on (one image's slot of a batch).
 * One pass over the pixels: each is read once and its channels go to their planes.
 * @throws ArgumentError when `raw` or `out` is too short.
 */
export function hwcToChwInto(
  raw: Uint8Array,
  channels: number,
  height: number,
  width: number,
  mean: readonly number[],
  std: readonly number[],
  out: Float32Array,
  offset: number,
): void {
  const plane = height * width;
  if (raw.length < channels * plane || offset < 0 || out.length < offset + channels * plane) {
    throw new ArgumentError(`hwcToChwInto: ${raw.length} bytes into ${out.length} floats at ${offset}; a ${channels} x ${height} x ${width} image does not fit`);
  }
  const a = (c: number): number => 1 / (255 * std[c]!);
  const b = (c: number): number => -mean[c]! / std[c]!;
  if (channels === 3) {
    const [a0, a1, a2, b0, b1, b2] = [a(0), a(1), a(2), b(0), b(1), b(2)];
    const o1 = offset + plane;
    const o2 = offset + 2 * plane;
    for (let i = 0, j = 0; i < plane; i++, j += 3) {
      out[offset + i] = raw[j]! * a0 + b0;
      out[o1 + i] = raw[j + 1]! * a1 + b1;
      out[o2 + i] = raw[j + 2]! * a2 + b2;
    }
    return;
  }
  for (let c = 0; c < channels; c++) {
    const ac = a(c);
    const bc = b(c);
    const o = offset + c * plane;
    for (let i = 0, j = c; i < plane; i++, j += channels) out[o + i] = raw[j]! * ac + bc;
  }
}
