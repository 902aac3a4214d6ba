// ONNX backend conformance: every node test of Debian's libonnx-testdata whose operator convkit
// imports runs through loadOnnx and is compared with the stored outputs (1e-4 abs + 1e-4 rel).
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadOnnx, loadOnnxTensor } from '../../lib/io/onnx/index.js';
import type { Tensor } from '../../lib/tensor/tensor.js';

const ROOT = '/usr/share/libonnx-testdata/data/node';

/** Test-name prefixes of the supported operators (a prefix must be followed by '_' or the end). */
const OPERATORS = [
  'conv', 'basic_conv', 'maxpool', 'averagepool', 'globalaveragepool', 'globalmaxpool', 'batchnorm', 'lrn', 'gemm',
  'matmul', 'relu', 'leakyrelu', 'clip', 'sigmoid', 'tanh', 'softmax', 'logsoftmax', 'concat', 'flatten', 'add', 'mul',
  'sub', 'div', 'reshape', 'dropout', 'training_dropout', 'pad', 'constant_pad', 'edge_pad', 'reflect_pad', 'identity',
  'constant', 'constantofshape', 'shape', 'gather', 'squeeze', 'unsqueeze',
];

/** Cases of those operators that are not run, each with the reason. */
const EXCLUDED: Record<string, string> = {
  test_training_dropout: 'training-mode dropout: the mask is random (ONNX draws it with numpy)',
  test_training_dropout_default: 'training-mode dropout: the mask is random',
  test_training_dropout_default_mask: 'training-mode dropout: the mask is random',
  test_training_dropout_mask: 'training-mode dropout: the mask is random',
  test_dropout_random_old: 'training-mode dropout (opset 7 without is_test): the mask is random',
  test_gather_elements_0: 'GatherElements, a different operator that the gather_ prefix matches, is not supported',
  test_gather_elements_1: 'GatherElements is not supported',
  test_gather_elements_negative_indices: 'GatherElements is not supported',
  test_identity_opt: 'optional type (Optional(Sequence)) values are not tensors',
  test_identity_sequence: 'sequence values are not tensors',
};

const cases = existsSync(ROOT)
  ? readdirSync(ROOT)
      .filter((name) => OPERATORS.some((op) => name === `test_${op}` || name.startsWith(`test_${op}_`)))
      .sort()
  : [];

function numbered(dir: string, prefix: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.startsWith(prefix) && f.endsWith('.pb'))
    .sort((a, b) => Number(a.slice(prefix.length, -3)) - Number(b.slice(prefix.length, -3)));
}

function maxViolation(actual: Tensor, expected: Tensor): string | undefined {
  if (actual.shape.join(',') !== expected.shape.join(',')) return `shape [${actual.shape.join(', ')}] vs [${expected.shape.join(', ')}]`;
  for (let i = 0; i < actual.size; i++) {
    const a = actual.data[i]!;
    const e = expected.data[i]!;
    if (Number.isNaN(e) && Number.isNaN(a)) continue;
    if (a === e) continue;
    if (!(Math.abs(a - e) <= 1e-4 + 1e-4 * Math.abs(e))) return `element ${i}: ${a} vs ${e}`;
  }
  return undefined;
}

describe.skipIf(!existsSync(ROOT))('ONNX node conformance (libonnx-testdata)', () => {
  it('finds the expected number of cases', () => {
    expect(cases.length).toBeGreaterThan(150);
  });

  for (const name of cases) {
    const reason = EXCLUDED[name];
    if (reason !== undefined) {
      it.skip(`${name} (excluded: ${reason})`, () => {});
      continue;
    }
    it(name, () => {
      const dir = join(ROOT, name);
      const model = loadOnnx(join(dir, 'model.onnx'));
      for (const set of readdirSync(dir).filter((d) => d.startsWith('test_data_set_'))) {
        const inputs = numbered(join(dir, set), 'input_').map((f) => loadOnnxTensor(join(dir, set, f)));
        const expected = numbered(join(dir, set), 'output_').map((f) => loadOnnxTensor(join(dir, set, f)));
        const result = model.forward(...inputs);
        const outputs = Array.isArray(result) ? result : [result];
        expect(outputs.length).toBe(expected.length);
        outputs.forEach((out, i) => {
          expect(maxViolation(out, expected[i]!), `${set} output ${i}`).toBeUndefined();
        });
      }
    });
  }
});
