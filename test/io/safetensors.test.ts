// safetensors: round trips, hand-made byte vectors from the spec, a file written by an independent
// writer (Python's struct + json, test/io/fixtures/make-multidtype.py) for every dtype we read, a
// typed FormatError for each kind of malformed header, and a fuzz run of random mutations of a
// real file (only FormatError, no hang, no huge allocation).
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FormatError, Generator, Tensor, randn } from '../../lib/index.js';
import { MAX_HEADER_BYTES, loadSafetensors, parseSafetensors, saveSafetensors, serializeSafetensors } from '../../lib/io/index.js';

const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'convkit-st-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Builds a file from a header object (or raw header text) and a data buffer, as the spec lays it out. */
function build(header: object | string, data: Uint8Array = new Uint8Array(0), pad = true): Buffer {
  let text = Buffer.from(typeof header === 'string' ? header : JSON.stringify(header), 'utf8');
  if (pad && text.length % 8 !== 0) text = Buffer.concat([text, Buffer.alloc(8 - (text.length % 8), 0x20)]);
  const n = Buffer.alloc(8);
  n.writeBigUInt64LE(BigInt(text.length));
  return Buffer.concat([n, text, data]);
}

function f32(...values: number[]): Uint8Array {
  return new Uint8Array(new Float32Array(values).buffer);
}

function expectFormatError(bytes: Uint8Array, pattern: RegExp): void {
  let caught: unknown;
  try {
    parseSafetensors(bytes, 'bad.safetensors');
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(FormatError);
  expect((caught as Error).message).toMatch(/^bad\.safetensors: not a valid safetensors file: /);
  expect((caught as Error).message).toMatch(pattern);
}

describe('round trip', () => {
  it('saves and loads tensors, shapes, order and metadata bit-exactly (Map and Record inputs)', async () => {
    const a = randn([3, 4, 5], { seed: 1 });
    const b = new Tensor(new Float32Array([NaN, Infinity, -Infinity, -0, 1e-45]), [5]);
    const scalar = new Tensor(new Float32Array([7]), []);
    const empty = new Tensor(new Float32Array(0), [0, 3]);
    const path = join(dir, 'rt.safetensors');
    await saveSafetensors(path, new Map([['z.weight', a], ['a.bias', b], ['s', scalar], ['e', empty], ['10', a]]), { format: 'pt', note: 'é ✓' });
    const { tensors, metadata } = await loadSafetensors(path);
    expect([...tensors.keys()]).toEqual(['z.weight', 'a.bias', 's', 'e', '10']);
    expect(metadata).toEqual({ format: 'pt', note: 'é ✓' });
    expect(tensors.get('z.weight')!.shape).toEqual([3, 4, 5]);
    expect(Buffer.from(tensors.get('z.weight')!.data.buffer)).toEqual(Buffer.from(a.data.buffer));
    expect(Buffer.from(tensors.get('a.bias')!.data.buffer)).toEqual(Buffer.from(b.data.buffer));
    expect(tensors.get('s')!.shape).toEqual([]);
    expect(tensors.get('e')!.shape).toEqual([0, 3]);
    // The same bytes load from a Buffer; a Record input gives the same file.
    const bytes = await readFile(path);
    expect((await loadSafetensors(bytes)).tensors.get('s')!.item()).toBe(7);
    await saveSafetensors(join(dir, 'rec.safetensors'), { w: a });
    expect((await loadSafetensors(join(dir, 'rec.safetensors'))).tensors.get('w')!.toArray()).toEqual(a.toArray());
    expect(await readdir(dir)).not.toContainEqual(expect.stringMatching(/\.tmp$/));
  });

  it('writes the header padded with spaces to a multiple of 8, data aligned', () => {
    const chunks = serializeSafetensors(new Map([['x', new Tensor(new Float32Array([1, 2]), [2])]]));
    const file = Buffer.concat(chunks);
    const n = Number(file.readBigUInt64LE(0));
    expect(n % 8).toBe(0);
    const text = file.subarray(8, 8 + n).toString('utf8');
    expect(text).toMatch(/^\{"x":\{"dtype":"F32","shape":\[2\],"data_offsets":\[0,8\]\}\} *$/);
    expect(file.length).toBe(8 + n + 8);
  });
});

describe('hand-made files from the spec', () => {
  it('reads the safetensors README example layout (8-byte length, JSON, buffer)', () => {
    // {"TOKEN": {"dtype": "F16", "shape": [1, 2], "data_offsets": [0, 4]}, "__metadata__": {...}}
    const header = '{"TOKEN":{"dtype":"F16","shape":[1,2],"data_offsets":[0,4]},"__metadata__":{"format":"pt"}}';
    const data = new Uint8Array([0x00, 0x3c, 0x00, 0xc0]); // 1.0, -2.0 as F16 little-endian
    const { tensors, metadata } = parseSafetensors(build(header, data, false));
    expect(metadata).toEqual({ format: 'pt' });
    expect(tensors.get('TOKEN')!.shape).toEqual([1, 2]);
    expect(Array.from(tensors.get('TOKEN')!.data)).toEqual([1, -2]);
  });

  it('reads a header with spaces, newlines and trailing padding, and tensors listed out of data order', () => {
    const header = `{ "b" : { "dtype" : "F32", "shape" : [ 1 ], "data_offsets" : [ 4, 8 ] },\n  "a": {"dtype":"F32","shape":[1],"data_offsets":[0,4]} }      `;
    const { tensors } = parseSafetensors(build(header, f32(1, 2), false));
    expect([...tensors.keys()]).toEqual(['a', 'b']);
    expect(tensors.get('b')!.item()).toBe(2);
  });

  it('reads every dtype as written by an independent (Python struct/json) writer', async () => {
    const { tensors, metadata } = await loadSafetensors(join(FIXTURES, 'multidtype.safetensors'));
    const expected = JSON.parse(await readFile(join(FIXTURES, 'multidtype.expected.json'), 'utf8')) as Record<string, { shape: number[]; values: Array<number | string> }>;
    expect(metadata['note']).toBe('made by make-multidtype.py');
    expect([...tensors.keys()].sort()).toEqual(Object.keys(expected).sort());
    for (const [name, { shape, values }] of Object.entries(expected)) {
      const t = tensors.get(name)!;
      expect(t.shape, name).toEqual(shape);
      const want = values.map((v) => (v === 'inf' ? Infinity : v === '-inf' ? -Infinity : Math.fround(v as number)));
      expect(Array.from(t.data), name).toEqual(want);
    }
  });
});

describe('malformed headers are FormatErrors naming what is wrong', () => {
  const ok = { x: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } };
  const cases: Array<[string, Uint8Array, RegExp]> = [
    ['an empty file', new Uint8Array(0), /0 bytes, fewer than the 8/],
    ['a header length past the end', (() => { const b = build(ok, f32(1, 2)); b.writeBigUInt64LE(1000n); return b; })(), /header length field \(byte 0\) says 1000 bytes but only \d+ bytes follow/],
    ['a header length of 2^64-1', (() => { const b = build(ok, f32(1, 2)); b.writeBigUInt64LE(2n ** 64n - 1n); return b; })(), /says 18446744073709551615 bytes/],
    ['a non-object header', build('[1, 2]'), /must start with '\{'/],
    ['invalid JSON', build('{"x": '), /ends unexpectedly|invalid JSON/],
    ['trailing garbage', build('{} x'), /after the JSON value/],
    ['a duplicate tensor name', build('{"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"x":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}', f32(1, 2)), /duplicate key 'x'/],
    ['an unknown dtype', build({ x: { dtype: 'F33', shape: [2], data_offsets: [0, 8] } }, f32(1, 2)), /tensor 'x' has dtype "F33"; expected one of F64, F32/],
    ['an F8 dtype', build({ x: { dtype: 'F8_E4M3', shape: [8], data_offsets: [0, 8] } }, f32(1, 2)), /convkit does not read/],
    ['a negative dimension', build({ x: { dtype: 'F32', shape: [-2], data_offsets: [0, 8] } }, f32(1, 2)), /shape\[0\] = -2, expected a non-negative integer/],
    ['a fractional dimension', build({ x: { dtype: 'F32', shape: [1.5], data_offsets: [0, 8] } }, f32(1, 2)), /shape\[0\] = 1.5/],
    ['an absurd shape', build({ x: { dtype: 'F32', shape: [2 ** 30, 2 ** 30, 2 ** 30], data_offsets: [0, 8] } }, f32(1, 2)), /absurd shape/],
    ['a byte length that disagrees with the shape', build({ x: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, f32(1, 2)), /tensor 'x' \(F32, shape \[3\]\) needs 12 bytes but its data_offsets \[0, 8\] span 8/],
    ['offsets past the end', build({ x: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } }, f32(1, 2)), /past the end of the 8-byte data buffer/],
    ['reversed offsets', build({ x: { dtype: 'F32', shape: [0], data_offsets: [8, 0] } }, f32(1, 2)), /expected integers 0 <= begin <= end/],
    ['a hole', build({ x: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, f32(1, 2)), /a hole in the data buffer: bytes \[0, 4\) before tensor 'x'/],
    ['overlapping tensors', build({ x: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, y: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, f32(1, 2)), /overlap/],
    ['trailing bytes', build(ok, f32(1, 2, 3)), /cover 8 bytes of the data buffer but it has 12/],
    ['an unknown field', build({ x: { dtype: 'F32', shape: [2], data_offsets: [0, 8], extra: 1 } }, f32(1, 2)), /unknown field 'extra'/],
    ['non-string metadata', build({ __metadata__: { a: 1 } }), /__metadata__\['a'\] is 1, expected a string/],
    ['a deeply nested header', build(`{"x":${'['.repeat(200)}${']'.repeat(200)}}`), /nested deeper than 64/],
    ['invalid UTF-8', build(Buffer.from([0x7b, 0xff, 0x7d]).toString('latin1')), /./],
  ];
  it.each(cases)('%s', (_name, bytes, pattern) => expectFormatError(bytes, pattern));

  it('refuses a header over 100 MB before reading it', async () => {
    const b = Buffer.alloc(16);
    b.writeBigUInt64LE(BigInt(MAX_HEADER_BYTES + 1));
    const path = join(dir, 'huge-header.safetensors');
    // A sparse file large enough that the length fits inside it.
    await writeFile(path, b);
    const { truncate } = await import('node:fs/promises');
    await truncate(path, MAX_HEADER_BYTES + 64);
    await expect(loadSafetensors(path)).rejects.toThrow(/huge-header\.safetensors: .*exceeds the limit of 100000000 bytes/);
  });

  it('names the file in errors from loadSafetensors(path)', async () => {
    const path = join(dir, 'trunc.safetensors');
    await writeFile(path, build(ok, f32(1, 2)).subarray(0, 20));
    await expect(loadSafetensors(path)).rejects.toThrow(FormatError);
    await expect(loadSafetensors(path)).rejects.toThrow(/trunc\.safetensors/);
  });
});

describe('fuzz', () => {
  it('random mutations of a real file raise only FormatError, quickly, without huge allocations', () => {
    const base = Buffer.concat(
      serializeSafetensors(
        new Map([
          ['conv.weight', randn([4, 3, 3, 3], { seed: 2 })],
          ['bn.running_mean', randn([4], { seed: 3 })],
          ['fc.bias', randn([10], { seed: 4 })],
        ]),
        { format: 'pt', convkit: '{"a":1}' },
      ),
    );
    const headerEnd = 8 + Number(base.readBigUInt64LE(0));
    const gen = new Generator(12345);
    const int = (n: number): number => gen.nextUint32() % n;
    const heapBefore = process.memoryUsage().arrayBuffers;
    const started = Date.now();
    let ok = 0;
    let rejected = 0;
    for (let i = 0; i < 4000; i++) {
      let bytes = Buffer.from(base);
      const kind = int(6);
      if (kind === 0) {
        for (let k = 1 + int(4); k > 0; k--) bytes[int(bytes.length)] = gen.nextUint32() & 0xff; // anywhere
      } else if (kind === 1) {
        for (let k = 1 + int(3); k > 0; k--) bytes[8 + int(headerEnd - 8)] = gen.nextUint32() & 0xff; // in the header
      } else if (kind === 2) {
        bytes = bytes.subarray(0, int(bytes.length)); // truncation
      } else if (kind === 3) {
        bytes.writeBigUInt64LE(BigInt(gen.nextUint32()) * BigInt(1 + int(1 << 20)), 0); // header length
      } else if (kind === 4) {
        bytes.writeUInt32LE(Number(base.readBigUInt64LE(0)) + int(17) - 8, 0); // header length off by a little
      } else {
        // A digit of the JSON replaced by another (shapes, offsets), possibly with a '-' or '9' run.
        const text = bytes.subarray(8, headerEnd);
        const digits = [...text.keys()].filter((j) => text[j]! >= 0x30 && text[j]! <= 0x39);
        const at = digits[int(digits.length)]!;
        text[at] = [0x2d, 0x39, 0x30, 0x2e, 0x65][int(5)]!;
      }
      try {
        parseSafetensors(bytes, 'fuzz.safetensors');
        ok++;
      } catch (err) {
        if (!(err instanceof FormatError)) throw new Error(`mutation ${i} (kind ${kind}) threw ${String(err)}`);
        rejected++;
      }
    }
    expect(rejected).toBeGreaterThan(2000);
    expect(ok + rejected).toBe(4000);
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(process.memoryUsage().arrayBuffers - heapBefore).toBeLessThan(256 * 1024 * 1024);
  });
});
