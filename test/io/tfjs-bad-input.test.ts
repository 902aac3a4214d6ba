// TF.js layers import on bad input: truncated or corrupt model.json, short or missing shards,
// absurd shapes (refused before allocating), inconsistent configs and a seeded fuzz run over a
// small real model (test/fixtures/tfjs/tiny, saved by TF.js 4.22): only FormatError or
// ArgumentError, never a crash, a hang or a huge allocation.
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ArgumentError, FormatError, ShapeError } from '../../lib/errors.js';
import { loadTfjsLayers, tfjsLayersFromMemory } from '../../lib/io/tfjs/index.js';
import { seededTensor } from './tfjs-helpers.js';

const FIXTURE = join(import.meta.dirname, '..', 'fixtures', 'tfjs', 'tiny');
const MODEL_TEXT = readFileSync(join(FIXTURE, 'model.json'), 'utf8');
const SHARD = readFileSync(join(FIXTURE, 'group1-shard1of1.bin'));

type Json = { [key: string]: unknown };
const modelJson = (): Json => JSON.parse(MODEL_TEXT) as Json;
const manifest = (json: Json): { name: string; shape: number[]; dtype: string }[] =>
  (json['weightsManifest'] as { weights: { name: string; shape: number[]; dtype: string }[] }[])[0]!.weights;
const layers = (json: Json): { name: string; class_name: string; config: Json; inbound_nodes: unknown }[] =>
  ((json['modelTopology'] as Json)['config'] as { layers: never[] }).layers;

/** A folder holding a copy of the fixture with model.json and the shard replaced as given. */
function folder(text: string = MODEL_TEXT, shard: Buffer = SHARD): string {
  const dir = mkdtempSync(join(tmpdir(), 'convkit-tfjs-bad-'));
  writeFileSync(join(dir, 'model.json'), text);
  writeFileSync(join(dir, 'group1-shard1of1.bin'), shard);
  return join(dir, 'model.json');
}

async function loadError(source: Parameters<typeof loadTfjsLayers>[0]): Promise<Error> {
  try {
    await loadTfjsLayers(source);
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected the load to fail');
}

describe('TF.js layers import: bad input', () => {
  it('loads the intact fixture from disk and runs it', async () => {
    const model = (await loadTfjsLayers(join(FIXTURE, 'model.json'))).eval();
    expect(model.forwardAll(seededTensor([1, 3, 11, 10], 2)).map((t) => t.shape)).toEqual([[1, 4], [1, 12, 4, 4], [1, 5, 4, 4]]);
  });

  it('a truncated model.json is a FormatError naming the file', async () => {
    const path = folder(MODEL_TEXT.slice(0, 4000));
    const err = await loadError(path);
    expect(err).toBeInstanceOf(FormatError);
    expect(err.message).toContain(path);
    expect(err.message).toMatch(/not valid JSON .*truncated/);
  });

  it('a missing model.json or shard is a FormatError naming it', async () => {
    const missing = join(tmpdir(), 'no-such-convkit-model', 'model.json');
    expect((await loadError(missing)).message).toContain(missing);
    const dir = mkdtempSync(join(tmpdir(), 'convkit-tfjs-bad-'));
    writeFileSync(join(dir, 'model.json'), MODEL_TEXT);
    const err = await loadError(join(dir, 'model.json'));
    expect(err).toBeInstanceOf(FormatError);
    expect(err.message).toMatch(/cannot read weight shard .*group1-shard1of1\.bin/);
  });

  it('a shard shorter than the manifest says names the tensor and the byte lengths', async () => {
    const err = await loadError(folder(MODEL_TEXT, SHARD.subarray(0, SHARD.length - 10)));
    expect(err).toBeInstanceOf(FormatError);
    const last = manifest(modelJson()).at(-1)!;
    const bytes = last.shape.reduce((a, b) => a * b, 1) * 4;
    expect(err.message).toContain(`weight '${last.name}'`);
    expect(err.message).toContain(`needs ${bytes} bytes`);
    expect(err.message).toContain(`only ${bytes - 10} remain`);
    expect(err.message).toContain('group1-shard1of1.bin');
  });

  it('refuses absurd shapes before allocating', () => {
    for (const shape of [[1e6, 1e6, 1e6], [65536, 65536], [2 ** 31 - 1, 1]]) {
      const json = modelJson();
      manifest(json)[0]!.shape = shape;
      const before = process.memoryUsage().arrayBuffers;
      let err: unknown;
      try {
        tfjsLayersFromMemory({ modelJson: json, weightData: SHARD });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(FormatError);
      expect((err as Error).message).toMatch(/more than 2147483647 elements|needs \d+ bytes/);
      expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(64 * 2 ** 20);
    }
  });

  it('a weight whose shape disagrees with the layer config, or a missing weight, is a FormatError', () => {
    const json = modelJson();
    const conv = layers(json).find((l) => l.name === 'conv_s2')!;
    conv.config['filters'] = 9;
    expect(() => tfjsLayersFromMemory({ modelJson: json, weightData: SHARD })).toThrow(/weight 'conv_s2\/kernel' has shape \[3, 3, 3, 8\] but the layer config implies \[3, 3, \?, 9\]/);
    const json2 = modelJson();
    manifest(json2).find((w) => w.name === 'bn/gamma')!.name = 'bn/gamma_renamed';
    expect(() => tfjsLayersFromMemory({ modelJson: json2, weightData: SHARD })).toThrow(/layer 'bn' \(BatchNormalization\) needs weight 'bn\/gamma'/);
  });

  it('inconsistent graphs and configs are FormatErrors', () => {
    const cases: [(json: Json) => void, RegExp][] = [
      [(j) => (layers(j).find((l) => l.name === 'pad')!.inbound_nodes = [[['sum', 0, 0, {}]]]), /cycle/],
      [(j) => (layers(j).find((l) => l.name === 'pad')!.inbound_nodes = [[['nowhere', 0, 0, {}]]]), /refers to layer 'nowhere'/],
      [(j) => (layers(j).find((l) => l.name === 'conv_s2')!.config['kernel_size'] = [1e9, 3]), /config\.kernel_size must be/],
      [(j) => (layers(j).find((l) => l.name === 'conv_s2')!.config['padding'] = 'sometimes'), /config\.padding must be 'same' or 'valid'/],
      [(j) => ((j['modelTopology'] as Json)['class_name'] = 'Graph'), /class_name must be 'Sequential', 'Model' or 'Functional'/],
    ];
    for (const [mutate, message] of cases) {
      const json = modelJson();
      mutate(json);
      let err: unknown;
      try {
        tfjsLayersFromMemory({ modelJson: json, weightData: SHARD });
      } catch (e) {
        err = e;
      }
      expect(err, message.source).toBeInstanceOf(FormatError);
      expect((err as Error).message).toMatch(message);
    }
  });

  it('shard paths may not leave the model folder', async () => {
    const json = modelJson();
    (json['weightsManifest'] as { paths: string[] }[])[0]!.paths = ['../group1-shard1of1.bin'];
    const path = folder(JSON.stringify(json));
    copyFileSync(join(FIXTURE, 'group1-shard1of1.bin'), join(path, '..', '..', 'group1-shard1of1.bin'));
    const err = await loadError(path);
    expect(err).toBeInstanceOf(FormatError);
    expect(err.message).toMatch(/must be relative to the model's folder/);
  });

  it('fuzz: 3000 seeded mutations of a real model.json and shard give only FormatError or ArgumentError (ShapeError when run)', () => {
    let s = 12345;
    const rand = (n: number): number => {
      s ^= s << 13;
      s ^= s >>> 17;
      s ^= s << 5;
      return (s >>> 0) % n;
    };
    const junk: unknown[] = [null, -1, 0, 1, 3, 2 ** 31, 1e12, -1e9, 0.5, 'x', 'same', '', [], [0], [1e9, 1e9], [[1, 2]], {}, { a: 1 }, true, false];
    /** Every [container, key] of a JSON tree. */
    const slots = (root: unknown): [Record<string | number, unknown>, string | number][] => {
      const out: [Record<string | number, unknown>, string | number][] = [];
      const walk = (v: unknown): void => {
        if (v === null || typeof v !== 'object') return;
        for (const k of Object.keys(v)) {
          out.push([v as Record<string, unknown>, Array.isArray(v) ? Number(k) : k]);
          walk((v as Record<string, unknown>)[k]);
        }
      };
      walk(root);
      return out;
    };
    const baseSlots = slots(modelJson()).length;
    const counts = { ok: 0, format: 0, argument: 0, ran: 0, runtime: 0 };
    const x = seededTensor([1, 3, 11, 10], 4);
    const start = Date.now();
    for (let i = 0; i < 3000; i++) {
      let text = MODEL_TEXT;
      let shard: Buffer = SHARD;
      const kind = rand(5);
      if (kind === 0) {
        // Text: delete, duplicate or overwrite a short span.
        const at = rand(text.length);
        const op = rand(3);
        if (op === 0) text = text.slice(0, at) + text.slice(at + 1 + rand(20));
        else if (op === 1) text = text.slice(0, at) + text.slice(at, at + rand(30)) + text.slice(at);
        else text = text.slice(0, at) + String.fromCharCode(32 + rand(95)) + text.slice(at + 1);
      } else if (kind === 1 || kind === 2) {
        // Structure: replace 1-3 values anywhere in the tree with junk.
        const json = modelJson();
        for (let k = 0, n = 1 + rand(3); k < n; k++) {
          const all = slots(json);
          const [container, key] = all[rand(Math.min(all.length, baseSlots))]!;
          container[key] = structuredClone(junk[rand(junk.length)]);
        }
        text = JSON.stringify(json);
      } else if (kind === 3) {
        // Manifest: a shape or dtype changed.
        const json = modelJson();
        const w = manifest(json)[rand(manifest(json).length)]!;
        if (rand(2) === 0) w.shape = w.shape.map((d) => (rand(3) === 0 ? [0, 1, d + 1, 1e5, 2 ** 30][rand(5)]! : d));
        else w.dtype = ['int32', 'string', 'complex64', 'bool', 'uint8'][rand(5)]!;
        text = JSON.stringify(json);
      } else {
        // Shard: truncated or bytes flipped (NaN weights load; only the length is checked).
        shard = rand(2) === 0 ? SHARD.subarray(0, rand(SHARD.length)) : Buffer.from(SHARD.map((b) => (rand(50) === 0 ? b ^ 0xff : b)));
      }
      let model;
      try {
        model = tfjsLayersFromMemory({ modelJson: text, weightData: shard });
        counts.ok++;
      } catch (err) {
        if (err instanceof FormatError) counts.format++;
        else if (err instanceof ArgumentError) counts.argument++;
        else throw new Error(`mutation ${i} (kind ${kind}) threw ${(err as Error).name}: ${(err as Error).message}\n${(err as Error).stack}`);
        continue;
      }
      // What loads also runs, or fails with a typed error: the importer infers no shapes, so a
      // config that no longer fits its neighbours is a ShapeError at run time.
      try {
        model.eval().forwardAll(x);
        counts.ran++;
      } catch (err) {
        if (err instanceof ShapeError || err instanceof ArgumentError) counts.runtime++;
        else throw new Error(`mutation ${i} (kind ${kind}) threw ${(err as Error).name}: ${(err as Error).message}\n${(err as Error).stack}`);
      }
    }
    console.log(`tfjs fuzz: ${JSON.stringify(counts)} in ${Date.now() - start} ms`);
    expect(counts.format).toBeGreaterThan(500);
  });
});
