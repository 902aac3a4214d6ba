// predictFolder: rows for every image (errors for broken ones, .txt ignored), JSONL and CSV,
// abort-and-resume and the repair of a torn last line.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { appendFile, copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Preprocess } from '../../lib/data/types.js';
import { decodeImage } from '../../lib/data/image.js';
import { ArgumentError, manualSeed, models, Tensor, zeros, type nn } from '../../lib/index.js';
import { Predictor, predictFolder, type PredictFolderOptions } from '../../lib/inference/index.js';
import { parseCsvRecord } from '../../lib/inference/results-file.js';
import { packageRoot } from '../../lib/native.js';
import { ensureDist, noiseImage, writePhotos } from './helpers.js';

const pre: Preprocess = { channels: 3, size: [28, 28], mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25] };
const classes = ['ant', 'bee', 'cat', 'dog'];
let root = '';
let images = ''; // the folder
let expectedImages: string[] = []; // relative paths of every image-extension file, in walk order
let broken: string[] = [];
let model: nn.Module;

beforeAll(async () => {
  ensureDist();
  manualSeed(11);
  model = models.lenet5({ inChannels: 3, numClasses: 4 });
  root = mkdtempSync(join(tmpdir(), 'convkit-folder-'));
  images = join(root, 'images');
  const photos = await writePhotos(images);
  await mkdir(join(images, 'sub', 'deeper'), { recursive: true });
  await writeFile(join(images, 'sub', 'b.png'), await noiseImage(1, 40, 30, 'png'));
  await writeFile(join(images, 'sub', 'a, "quoted".JPG'), await noiseImage(2, 30, 40, 'jpeg'));
  await writeFile(join(images, 'sub', 'deeper', 'c.webp'), await noiseImage(3, 32, 32, 'png')); // PNG bytes, .webp name: sharp sniffs
  const full = await readFile(join(images, photos[0]!));
  await writeFile(join(images, 'truncated.jpg'), full.subarray(0, Math.floor(full.length / 3)));
  await writeFile(join(images, 'fake.png'), 'this is not an image\n');
  await writeFile(join(images, 'notes.txt'), 'ignored\n');
  await writeFile(join(images, 'sub', 'README'), 'ignored\n');
  broken = ['fake.png', 'truncated.jpg'];
  expectedImages = [...photos, 'fake.png', 'sub/a, "quoted".JPG', 'sub/b.png', 'sub/deeper/c.webp', 'truncated.jpg'].sort((a, b) =>
    a < b ? -1 : 1,
  );
}, 120_000);

afterAll(() => {
  if (root !== '') rmSync(root, { recursive: true, force: true });
});

interface JsonRow {
  path: string;
  top?: { label: string; probability: number }[];
  error?: string;
}

function jsonlRows(file: string): JsonRow[] {
  const text = readFileSync(file, 'utf8');
  expect(text.endsWith('\n')).toBe(true);
  return text.trimEnd().split('\n').map((l) => JSON.parse(l) as JsonRow);
}

function csvRecords(file: string): string[][] {
  const text = readFileSync(file, 'utf8');
  expect(text.endsWith('\n')).toBe(true);
  const records: string[][] = [];
  let pending = '';
  for (const line of text.slice(0, -1).split('\n')) {
    pending = pending === '' ? line : `${pending}\n${line}`;
    if ((pending.match(/"/g)?.length ?? 0) % 2 === 1) continue;
    records.push(parseCsvRecord(pending)!);
    pending = '';
  }
  return records;
}

/** The text with the detail after 'cannot decode image:' cut (JSONL and CSV). */
const noErrorText = (text: string): string => text.replace(/cannot decode image:[^"\n]*/g, 'cannot decode image:');

const base = (output: string, extra: Partial<PredictFolderOptions> = {}): PredictFolderOptions => ({
  output,
  preprocess: pre,
  classes,
  topK: 3,
  batchSize: 4,
  ...extra,
});

describe('predictFolder', () => {
  it('JSONL: a row per image in walk order, error rows for broken ones, other files ignored', async () => {
    const out = join(root, 'all.jsonl');
    const progress: number[] = [];
    const r = await predictFolder(model, images, base(out, { onProgress: (p) => progress.push(p.processed + p.skipped) }));
    const rows = jsonlRows(out);
    expect(rows.map((x) => x.path)).toEqual(expectedImages);
    for (const row of rows) {
      if (broken.includes(row.path)) {
        expect(row.error).toMatch(new RegExp(`^${row.path.replace('.', '\\.')}: cannot decode image`));
        expect(row.top).toBeUndefined();
      } else {
        expect(row.error).toBeUndefined();
        expect(row.top).toHaveLength(3);
        for (const t of row.top!) expect(classes).toContain(t.label);
        expect(row.top![0]!.probability).toBeGreaterThanOrEqual(row.top![2]!.probability);
      }
    }
    expect(r.processed).toBe(expectedImages.length - broken.length);
    expect(r.skipped).toBe(broken.length);
    expect(r.resumed).toBe(0);
    expect(r.imagesPerSecond).toBeGreaterThan(0);
    expect(progress.at(-1)).toBe(expectedImages.length);
    expect(progress).toHaveLength(Math.ceil(expectedImages.length / 4));

    // A second run finds everything done.
    const again = await predictFolder(model, images, base(out));
    expect([again.processed, again.skipped, again.resumed]).toEqual([0, 0, expectedImages.length]);
    expect(jsonlRows(out)).toEqual(rows);
  });

  it('CSV: header, quoted paths, empty cells and an error cell for broken images; a Predictor works too', async () => {
    const out = join(root, 'all.csv');
    const p = await Predictor.create(model, { classes, preprocess: pre });
    try {
      await predictFolder(p, images, { output: out, topK: 2, batchSize: 3 });
      expect(p.mode).toBe('worker');
      expect((await p.predict(zeros([1, 3, 28, 28]))).shape).toEqual([1, 4]); // still open
    } finally {
      await p.close();
    }
    const records = csvRecords(out);
    expect(records[0]).toEqual(['path', 'label1', 'prob1', 'label2', 'prob2', 'error']);
    expect(records.slice(1).map((c) => c[0])).toEqual(expectedImages);
    for (const cells of records.slice(1)) {
      expect(cells).toHaveLength(6);
      if (broken.includes(cells[0]!)) {
        expect(cells.slice(1, 5)).toEqual(['', '', '', '']);
        expect(cells[5]).toMatch(/cannot decode image/);
      } else {
        expect(classes).toContain(cells[1]);
        expect(Number(cells[2])).toBeGreaterThan(0);
        expect(cells[5]).toBe('');
      }
    }
    expect(readFileSync(out, 'utf8')).toContain('"sub/a, ""quoted"".JPG"');
  });

  it('every row equals classify() of its image decoded alone (batches of 3: refilled buffers, a short last batch)', async () => {
    const out = join(root, 'check.jsonl');
    const p = await Predictor.create(model, { classes, preprocess: pre });
    try {
      await predictFolder(p, images, { output: out, topK: 4, batchSize: 3 });
      const rows = jsonlRows(out);
      expect(rows.map((x) => x.path)).toEqual(expectedImages);
      for (const row of rows) {
        if (broken.includes(row.path)) continue;
        const x = await decodeImage(join(images, row.path), pre);
        const [alone] = await p.classify(new Tensor(x, [1, 3, 28, 28]), { topK: 4 });
        expect(row.top!.map((t) => t.label)).toEqual(alone!.topK.map((t) => t.label));
        row.top!.forEach((t, j) => expect(Math.abs(t.probability - alone!.topK[j]!.probability)).toBeLessThanOrEqual(1e-5));
      }
    } finally {
      await p.close();
    }
  });

  it('recursive: false lists the top folder only', async () => {
    const out = join(root, 'top.jsonl');
    await predictFolder(model, images, base(out, { recursive: false }));
    expect(jsonlRows(out).map((x) => x.path)).toEqual(expectedImages.filter((x) => !x.includes('/')));
  });

  it.each(['jsonl', 'csv'] as const)('%s: aborted after some rows, a rerun completes with every image exactly once', async (fmt) => {
    const out = join(root, `abort.${fmt}`);
    const ac = new AbortController();
    const stopped = await predictFolder(
      model,
      images,
      base(out, { batchSize: 2, signal: ac.signal, onProgress: (p) => p.processed + p.skipped >= 4 && ac.abort() }),
    ).catch((e: unknown) => e);
    expect((stopped as Error).name).toBe('AbortError');
    const firstPaths = fmt === 'jsonl' ? jsonlRows(out).map((x) => x.path) : csvRecords(out).slice(1).map((c) => c[0]);
    expect(firstPaths).toEqual(expectedImages.slice(0, 4));
    const r = await predictFolder(model, images, base(out, { batchSize: 2 }));
    expect(r.resumed).toBe(4);
    expect(r.processed + r.skipped).toBe(expectedImages.length - 4);
    const paths = fmt === 'jsonl' ? jsonlRows(out).map((x) => x.path) : csvRecords(out).slice(1).map((c) => c[0]);
    expect(paths).toEqual(expectedImages);
  });

  it.each(['jsonl', 'csv'] as const)('%s: a torn last line is truncated away and its image redone', async (fmt) => {
    const out = join(root, `torn.${fmt}`);
    await predictFolder(model, images, base(out));
    const whole = await readFile(out, 'utf8');
    // Keep the first 3 rows, then half of the 4th without its newline: a crash mid-write.
    const lines = whole.split('\n');
    const keep = fmt === 'csv' ? 4 : 3;
    await writeFile(out, `${lines.slice(0, keep).join('\n')}\n${lines[keep]!.slice(0, 12)}`);
    const r = await predictFolder(model, images, base(out));
    expect(r.resumed).toBe(3);
    const text = await readFile(out, 'utf8');
    expect(text.endsWith('\n')).toBe(true);
    if (fmt === 'jsonl') {
      expect(jsonlRows(out).map((x) => x.path)).toEqual(expectedImages);
    } else {
      expect(csvRecords(out).slice(1).map((c) => c[0])).toEqual(expectedImages);
    }
    // Same rows as the uninterrupted run (same model, same images). libvips' message for a
    // truncated JPEG varies between runs when decodes overlap ('Unknown error' or 'premature end').
    expect(noErrorText(text)).toBe(noErrorText(whole));

    // An unparsable (but newline-terminated) last line is torn too.
    await writeFile(out, `${lines.slice(0, keep).join('\n')}\n${fmt === 'csv' ? '"broken,' : '{"path":'}\n`);
    await appendFile(out, '');
    const r2 = await predictFolder(model, images, base(out));
    expect(r2.resumed).toBe(3);
    expect(noErrorText(await readFile(out, 'utf8'))).toBe(noErrorText(whole));
  });

  it('killed (SIGKILL) mid-run in a child process, a rerun completes with every image exactly once', async () => {
    const out = join(root, 'killed.jsonl');
    const dist = (f: string): string => pathToFileURL(join(packageRoot, 'dist', f)).href;
    // One image per batch, and a slow progress callback, so the kill lands mid-run.
    const script = `
      import { models, manualSeed } from '${dist('index.js')}';
      import { predictFolder } from '${dist('inference/index.js')}';
      manualSeed(11);
      const model = models.lenet5({ inChannels: 3, numClasses: 4 });
      await predictFolder(model, process.argv[1], { output: process.argv[2], preprocess: ${JSON.stringify(pre)}, batchSize: 1,
        onProgress: () => { const t = Date.now(); while (Date.now() - t < 150); } });
    `;
    // `node --input-type=module -e`: the Predictor's worker must not inherit --input-type.
    const child = spawn(process.execPath, ['--input-type=module', '-e', script, images, out], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<NodeJS.Signals | null>((res) => child.once('exit', (_code, signal) => res(signal)));
    for (let t = 0; t < 600; t++) {
      const text = await readFile(out, 'utf8').catch(() => '');
      if (text.split('\n').length > 3) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    child.kill('SIGKILL');
    expect(await exited, stderr).toBe('SIGKILL');
    const before = jsonlRows(out).length;
    expect(before).toBeGreaterThanOrEqual(3);
    expect(before).toBeLessThan(expectedImages.length);
    const r = await predictFolder(model, images, base(out));
    expect(r.resumed).toBe(before);
    expect(jsonlRows(out).map((x) => x.path)).toEqual(expectedImages);
  });

  it('a corrupt row followed by valid rows is a FormatError, not a silent truncation; a CSV header for another topK is an ArgumentError', async () => {
    const out = join(root, 'corrupt.jsonl');
    await writeFile(out, '{"path":"x.jpg","top":[]}\nnot json\n{"path":"y.jpg","top":[]}\n');
    await expect(predictFolder(model, images, base(out))).rejects.toMatchObject({ code: 'ERR_FORMAT' });
    expect(await readFile(out, 'utf8')).toBe('{"path":"x.jpg","top":[]}\nnot json\n{"path":"y.jpg","top":[]}\n');
    const csv = join(root, 'other-k.csv');
    await writeFile(csv, 'path,label1,prob1,error\n');
    await expect(predictFolder(model, images, base(csv))).rejects.toBeInstanceOf(ArgumentError);
  });

  it('checks its arguments', async () => {
    await expect(predictFolder(model, images, base(join(root, 'x.txt')))).rejects.toThrow(/Expected a path ending in '.jsonl' or '.csv'/);
    await expect(predictFolder(model, join(root, 'missing'), base(join(root, 'y.jsonl')))).rejects.toThrow(/is not a directory/);
    await expect(predictFolder(model, images, { output: join(root, 'z.jsonl') })).rejects.toThrow(/preprocess is required/);
    await expect(predictFolder(model, images, base(join(root, 'z.jsonl'), { batchSize: 0 }))).rejects.toBeInstanceOf(ArgumentError);
  });

  it('a symlinked file counts once; symlinked directories are not followed', async () => {
    const dir = join(root, 'links');
    await mkdir(join(dir, 'real'), { recursive: true });
    await copyFile(join(images, 'sub', 'b.png'), join(dir, 'real', 'one.png'));
    const { symlink } = await import('node:fs/promises');
    await symlink(join(dir, 'real', 'one.png'), join(dir, 'alias.png'));
    await symlink(join(dir, 'real'), join(dir, 'loop'));
    const out = join(root, 'links.jsonl');
    await predictFolder(model, dir, base(out));
    expect(jsonlRows(out).map((x) => x.path)).toEqual(['alias.png', 'real/one.png']);
  });
});
