// Shared by the inference tests: a compiled dist/ for the worker script, temp image folders, max |a - b|.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { packageRoot } from '../../lib/native.js';

export const DARKNET = '/usr/share/darknet/data';

/**
 * The Predictor's worker runs compiled JS (dist/inference/predict-worker.js). Compiles dist/ when
 * that file is missing or older than a source in lib/inference (`npm test` compiles it anyway).
 */
export function ensureDist(): void {
  const worker = join(packageRoot, 'dist', 'inference', 'predict-worker.js');
  const srcDir = join(packageRoot, 'lib', 'inference');
  const newest = Math.max(...readdirSync(srcDir).map((f) => statSync(join(srcDir, f)).mtimeMs));
  if (existsSync(worker) && statSync(worker).mtimeMs >= newest) return;
  const tsc = join(packageRoot, 'node_modules', 'typescript', 'bin', 'tsc');
  // Type errors elsewhere in the tree do not stop tsc from emitting; only the worker file matters here.
  spawnSync(process.execPath, [tsc, '-p', join(packageRoot, 'tsconfig.build.json')], { cwd: packageRoot, stdio: 'ignore' });
  if (!existsSync(worker) || statSync(worker).mtimeMs < newest) throw new Error(`could not compile ${worker} (npm run build:ts)`);
}

/** The largest |a[i] - b[i]| (Infinity when the lengths differ). */
export function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return Infinity;
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i]! - b[i]!));
  return d;
}

/** A deterministic noise image of `w` x `h` RGB pixels, encoded as PNG or JPEG. */
export async function noiseImage(seed: number, w: number, h: number, format: 'png' | 'jpeg'): Promise<Buffer> {
  const raw = Buffer.alloc(w * h * 3);
  let s = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < raw.length; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    raw[i] = (s >>> 0) & 255;
  }
  const img = sharp(raw, { raw: { width: w, height: h, channels: 3 } });
  return format === 'png' ? img.png().toBuffer() : img.jpeg({ quality: 85 }).toBuffer();
}

/** The JPEG photos shipped with darknet when installed, else `n` generated JPEGs; written to `dir`. */
export async function writePhotos(dir: string, n = 6): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const names: string[] = [];
  if (existsSync(DARKNET)) {
    for (const f of readdirSync(DARKNET).filter((x) => x.endsWith('.jpg')).sort()) {
      await copyFile(join(DARKNET, f), join(dir, f));
      names.push(f);
    }
  }
  if (names.length === 0) {
    for (let i = 0; i < n; i++) {
      const f = `photo${i}.jpg`;
      await writeFile(join(dir, f), await noiseImage(i + 1, 96 + 8 * i, 80, 'jpeg'));
      names.push(f);
    }
  }
  return names;
}
