// Fuzzing the ONNX reader: thousands of byte flips, truncations and splices of a small real
// model (the committed PyTorch fixture) either load and run or fail with a typed convkit error:
// never a crash, a hang, a RangeError from a huge allocation or an untyped exception.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ArgumentError, ConvkitError, FormatError } from '../../lib/errors.js';
import { noGrad } from '../../lib/autograd/grad-mode.js';
import { loadOnnx } from '../../lib/io/onnx/index.js';
import { packageRoot } from '../../lib/native.js';
import { Tensor } from '../../lib/tensor/tensor.js';

const bytes = readFileSync(join(packageRoot, 'test', 'fixtures', 'onnx', 'tiny.onnx'));
const input = new Tensor(new Float32Array(2 * 3 * 8 * 8).fill(0.5), [2, 3, 8, 8]);

/** A small deterministic generator (mulberry32). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function mutate(r: () => number): Uint8Array {
  const kind = Math.floor(r() * 4);
  const at = Math.floor(r() * bytes.length);
  if (kind === 0) return bytes.subarray(0, at); // truncation
  const out = Buffer.from(bytes);
  if (kind === 1) {
    out[at] = Math.floor(r() * 256); // one byte replaced
  } else if (kind === 2) {
    for (let i = 0; i < 4; i++) out[Math.floor(r() * out.length)]! ^= 1 << Math.floor(r() * 8); // bit flips
  } else {
    // Splice: a random chunk copied over another place (duplicated fields, broken lengths).
    const len = 1 + Math.floor(r() * 32);
    const from = Math.floor(r() * (bytes.length - len));
    out.set(bytes.subarray(from, from + len), Math.min(at, out.length - len));
  }
  return out;
}

describe('ONNX reader fuzzing', () => {
  it('2500 mutations of a real model give only typed errors', () => {
    const r = rng(1234);
    const counts = { loaded: 0, format: 0, argument: 0, runErrors: 0 };
    const started = Date.now();
    for (let i = 0; i < 2500; i++) {
      const data = mutate(r);
      let model;
      try {
        model = loadOnnx(data);
      } catch (err) {
        if (err instanceof FormatError) counts.format++;
        else if (err instanceof ArgumentError) counts.argument++;
        else throw new Error(`mutation ${i}: loadOnnx threw ${String(err)}`);
        continue;
      }
      counts.loaded++;
      try {
        noGrad(() => model.run(Object.fromEntries(model.inputs.map((info) => [info.name, input]))));
      } catch (err) {
        // Running a mutated graph may fail on shapes as well; any typed convkit error is fine.
        if (!(err instanceof ConvkitError)) throw new Error(`mutation ${i}: run threw ${String(err)}`);
        counts.runErrors++;
      }
    }
    console.log(`fuzz: ${JSON.stringify(counts)} in ${Date.now() - started} ms`);
    expect(counts.format).toBeGreaterThan(100);
    expect(counts.loaded).toBeGreaterThan(100);
  }, 60_000);
});
