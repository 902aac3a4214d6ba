/** Datasets: IDX (Fashion-MNIST and generated), CIFAR-10/100 binaries, ImageFolder, CSV manifests, detection, specs. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { ArgumentError, FormatError } from '../../lib/errors.js';
import {
  CifarDataset, CsvManifest, datasetFromSpec, detectDataset, FASHION_MNIST_CLASSES, IdxDataset, ImageFolder, loadCifar,
  loadMnist, parseCsv, type Preprocess,
} from '../../lib/data/index.js';
import {
  cifarRecords, FASHION, FASHION_SKIP, hasFashion, hasPhotos, idxBytes, PHOTOS_SKIP, tempDir, titled, writePhotoFolder, writeTinyIdx,
} from './helpers.js';

const PRE: Preprocess = { channels: 3, size: [24, 32], mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25] };

describe('IDX / MNIST format', () => {
  it.skipIf(!hasFashion)(titled("reads Fashion-MNIST's test split with its class names", hasFashion, FASHION_SKIP), () => {
    const ds = loadMnist(FASHION, { split: 'test' });
    expect(ds.length).toBe(10000);
    expect(ds.sampleShape).toEqual([1, 28, 28]);
    expect(ds.classes).toEqual(FASHION_MNIST_CLASSES);
    const s = ds.get(0);
    expect(s.label).toBe(9); // the first t10k item is an ankle boot
    expect(Math.min(...s.input)).toBe(0);
    expect(Math.max(...s.input)).toBeLessThanOrEqual(1);
    const counts = new Array<number>(10).fill(0);
    for (const l of ds.labels()) counts[l]!++;
    expect(counts).toEqual(new Array<number>(10).fill(1000));
    const up = loadMnist(FASHION, { split: 'test', size: [32, 32], channels: 3, mean: 0.286, std: 0.353 });
    expect(up.sampleShape).toEqual([3, 32, 32]);
    const u = up.get(0).input;
    expect(Array.from(u.subarray(0, 1024))).toEqual(Array.from(u.subarray(2048)));
    expect(u[0]).toBeCloseTo(-0.286 / 0.353, 5);
  });

  it('reads raw and gzipped files the same; digits as default class names; samples are pixel/255', () => {
    const raw = join(tempDir('idx'), 'mnist');
    const gz = join(tempDir('idxgz'), 'mnist');
    writeTinyIdx(raw, 7, false);
    writeTinyIdx(gz, 7, true);
    const a = loadMnist(raw);
    const b = loadMnist(gz);
    expect(a.classes).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
    expect(a.length).toBe(7);
    expect(Array.from(a.get(3).input)).toEqual(Array.from(b.get(3).input));
    expect(a.get(3).input[1]).toBeCloseTo(61 / 255, 6);
    expect(a.get(3).label).toBe(3);
    expect(a.source(2)).toMatch(/train-images-idx3-ubyte#2$/);
    expect(() => loadMnist(raw, { split: 'test' })).toThrow(/t10k-images-idx3-ubyte\[\.gz\]/);
    expect(loadMnist(raw, { classes: ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j'] }).classes[0]).toBe('a');
  });

  it('a truncated IDX file is a FormatError naming the file, offset and expected vs actual lengths', () => {
    const dir = tempDir('idxbad');
    writeTinyIdx(dir, 5, false);
    const bytes = idxBytes([5, 4, 5], new Uint8Array(100)).subarray(0, 16 + 63);
    const file = join(dir, 'train-images-idx3-ubyte');
    writeFileSync(file, bytes);
    expect(() => loadMnist(dir)).toThrow(FormatError);
    expect(() => loadMnist(dir)).toThrow(`${file}: truncated: data at offset 16 should be 100 bytes (dims 5x4x5; file length 116) but the file has 63 (file length 79)`);
    writeFileSync(file, gzipSync(idxBytes([5, 4, 5], new Uint8Array(100))).subarray(0, 30));
    expect(() => loadMnist(dir)).toThrow(/corrupt or truncated gzip stream/);
    writeFileSync(file, Buffer.from([0, 0, 8, 1, 0, 0, 0, 0]));
    expect(() => loadMnist(dir)).toThrow(/has 1 dimension\(s\).*expected 3/);
    writeFileSync(file, Buffer.from('GIF89a...........'));
    expect(() => loadMnist(dir)).toThrow(/bad IDX magic number 0x47494638/);
    writeFileSync(file, idxBytes([4, 4, 5], new Uint8Array(80)));
    expect(() => loadMnist(dir)).toThrow(/5 labels but .* holds 4 images/);
  });
});

describe('CIFAR binaries', () => {
  it('CIFAR-10: data batches in order, test batch, names from batches.meta.txt, CHW pixels', () => {
    const dir = tempDir('cifar10');
    for (let i = 1; i <= 5; i++) writeFileSync(join(dir, `data_batch_${i}.bin`), cifarRecords(3, 'cifar10', 3 * (i - 1)));
    writeFileSync(join(dir, 'test_batch.bin'), cifarRecords(2, 'cifar10', 100));
    writeFileSync(join(dir, 'batches.meta.txt'), 'plane\ncar\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n\n');
    const train = loadCifar(dir);
    expect(train.length).toBe(15);
    expect(train.classes[1]).toBe('car');
    const s = train.get(7);
    expect(s.label).toBe(7);
    expect(s.input.length).toBe(3072);
    expect(s.input[1024]).toBeCloseTo(((7 + 1024) % 256) / 255, 6);
    expect(train.source(7)).toBe(`${join(dir, 'data_batch_3.bin')}#1`);
    const test = loadCifar(dir, { split: 'test', mean: [0.5, 0.5, 0.5], std: 0.5 });
    expect(test.length).toBe(2);
    expect(test.get(0).input[0]).toBeCloseTo((100 / 255 - 0.5) / 0.5, 6);
    const det = detectDataset(dir);
    expect(det.kind).toBe('cifar10');
    expect(det.test?.length).toBe(2);
  });

  it('CIFAR-100: fine labels, fine_label_names.txt; a bad record size is a FormatError', () => {
    const dir = join(tempDir('cifar100'), 'cifar-100-binary');

    mkdirp(dir);
    writeFileSync(join(dir, 'train.bin'), cifarRecords(4, 'cifar100'));
    writeFileSync(join(dir, 'test.bin'), cifarRecords(2, 'cifar100', 50));
    writeFileSync(join(dir, 'fine_label_names.txt'), Array.from({ length: 100 }, (_, i) => `c${i}`).join('\n'));
    const ds = detectDataset(join(dir, '..'));
    expect(ds.kind).toBe('cifar100');
    expect(ds.train.length).toBe(4);
    expect(ds.train.classes[3]).toBe('c3');
    expect((ds.test as CifarDataset).get(1).label).toBe(51);
    const bad = join(dir, 'test.bin');
    writeFileSync(bad, cifarRecords(2, 'cifar100').subarray(0, 3074 + 1000));
    expect(() => new CifarDataset('cifar100', [bad])).toThrow(FormatError);
    expect(() => new CifarDataset('cifar100', [bad])).toThrow(`${bad}: 4074 bytes is not a whole number of cifar100 records of 3074 bytes (record 1 at offset 3074 has 1000 of 3074 bytes)`);
  });
});

function mkdirp(dir: string): void {
  mkdirSync(dir, { recursive: true });
}

describe('ImageFolder and CSV manifests', () => {
  it.skipIf(!hasPhotos)(titled('ImageFolder: sorted classes, recursive, extension filter, decode', hasPhotos, PHOTOS_SKIP), async () => {
    const root = tempDir('folder');
    writePhotoFolder(root);
    const ds = new ImageFolder(root, { preprocess: PRE });
    expect(ds.classes).toEqual(['cat', 'dog']);
    expect(ds.samples.map(([p, l]) => [p.slice(root.length + 1), l])).toEqual([
      ['cat/a.jpg', 0], ['cat/b.JPG', 0], ['cat/c-truncated.jpg', 0], ['dog/a.jpg', 1], ['dog/fake.png', 1], ['dog/sub/h.jpeg', 1],
    ]);
    expect(ds.sampleShape).toEqual([3, 24, 32]);
    const s = await ds.get(0);
    expect(s.input.length).toBe(3 * 24 * 32);
    await expect(ds.get(2)).rejects.toThrow(FormatError);
    await expect(ds.get(4)).rejects.toThrow(/fake\.png: cannot decode image/);
    const again = datasetFromSpec(JSON.parse(JSON.stringify(ds.spec())) as ReturnType<typeof ds.spec>);
    expect(Array.from((await again.get(0)).input)).toEqual(Array.from(s.input));
    expect(new ImageFolder(root, { preprocess: PRE, extensions: ['txt'] }).samples.length).toBe(1);
    const det = detectDataset(root, { preprocess: PRE });
    expect(det.kind).toBe('image-folder');
    expect(det.test).toBeUndefined();
  });

  it('parseCsv handles quotes, escaped quotes, commas and newlines in quotes, CRLF and blank lines', () => {
    const rows = parseCsv('\ufeffpath,label\r\n"a, b.jpg",cat\n\n"say ""hi"".png","multi\nline"\nplain.jpg,3');
    expect(rows.map((r) => r.fields)).toEqual([['path', 'label'], ['a, b.jpg', 'cat'], ['say "hi".png', 'multi\nline'], ['plain.jpg', '3']]);
    expect(rows.map((r) => r.line)).toEqual([1, 2, 4, 6]);
    expect(() => parseCsv('a,"b\n', 'm.csv')).toThrow(/m\.csv: line 1: unterminated quoted field/);
    expect(() => parseCsv('"a"x,b', 'm.csv')).toThrow(FormatError);
  });

  it('CsvManifest: header optional, relative paths against the CSV folder, names or integers', () => {
    const dir = tempDir('csv');
    writeFileSync(join(dir, 'named.csv'), 'path,label\nimgs/x.jpg,zebra\n/abs/y.png,ant\nz.jpg,zebra\n');
    const named = new CsvManifest(join(dir, 'named.csv'), { preprocess: PRE });
    expect(named.classes).toEqual(['ant', 'zebra']);
    expect(named.samples).toEqual([[join(dir, 'imgs/x.jpg'), 1], ['/abs/y.png', 0], [join(dir, 'z.jpg'), 1]]);
    writeFileSync(join(dir, 'ints.csv'), 'a.jpg,2\nb.jpg,0\n');
    const ints = new CsvManifest(join(dir, 'ints.csv'), { preprocess: PRE, root: '/data' });
    expect(ints.classes).toEqual(['0', '1', '2']);
    expect(ints.samples).toEqual([['/data/a.jpg', 2], ['/data/b.jpg', 0]]);
    const fixed = new CsvManifest(join(dir, 'named.csv'), { preprocess: PRE, classes: ['zebra', 'ant', 'bee'] });
    expect(fixed.samples.map((s) => s[1])).toEqual([0, 1, 0]);
    writeFileSync(join(dir, 'bad.csv'), 'a.jpg,cat\nb.jpg\n');
    expect(() => new CsvManifest(join(dir, 'bad.csv'))).toThrow(/bad\.csv: line 2: expected path,label/);
    expect(detectDataset(join(dir, 'ints.csv'), { preprocess: PRE }).kind).toBe('csv');
  });
});

describe('detectDataset', () => {
  it('finds MNIST format with its test split, and train/ + val/ image folders', () => {
    const dir = tempDir('detect');
    writeTinyIdx(dir, 6, true, 'train');
    writeTinyIdx(dir, 3, false, 't10k');
    const d = detectDataset(dir, { size: [8, 10] });
    expect(d.kind).toBe('idx');
    expect(d.train.length).toBe(6);
    expect(d.test?.length).toBe(3);
    expect(d.train.sampleShape).toEqual([1, 8, 10]);
    expect((d.train as IdxDataset).spec().size).toEqual([8, 10]);
    const split = tempDir('split');
    for (const p of ['train/a', 'train/b', 'val/a', 'val/b']) {
      mkdirp(join(split, p));
      writeFileSync(join(split, p, 'x.png'), '');
    }
    const f = detectDataset(split, { preprocess: PRE });
    expect(f.kind).toBe('image-folder');
    expect(f.train.classes).toEqual(['a', 'b']);
    expect(f.test?.length).toBe(2);
  });

  it('says what it looked for when nothing matches', () => {
    const empty = tempDir('empty');
    writeFileSync(join(empty, 'readme.md'), 'hello');
    expect(() => detectDataset(empty)).toThrow(ArgumentError);
    expect(() => detectDataset(empty)).toThrow(/cannot tell the format.*train-images-idx3-ubyte.*data_batch_1\.bin.*class subfolders/);
    expect(() => detectDataset(join(empty, 'readme.md'))).toThrow(/not a \.csv manifest/);
    expect(() => detectDataset(join(empty, 'nope'))).toThrow(/does not exist/);
  });
});
