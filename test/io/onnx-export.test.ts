// ONNX export: models traced at batch 1 are exported, run in onnxruntime-node at batch 2 (the
// dynamic batch) and compared with convkit's eval forward to 1e-4 max abs difference; the file
// re-imports with loadOnnx; unsupported ops fail with one ArgumentError naming the op and module
// path, and leave no file behind.
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import { noGrad } from '../../lib/autograd/grad-mode.js';
import { ArgumentError } from '../../lib/errors.js';
import * as F from '../../lib/functional/index.js';
import { exportOnnx, loadOnnx, saveOnnx, saveStateDict } from '../../lib/io/onnx/index.js';
import { loadSafetensors } from '../../lib/io/safetensors.js';
import { alexnet, cifarNet, googlenet, lenet5, mobilenetV2, resnet18, resnet50, vgg11 } from '../../lib/models/index.js';
import {
  AdaptiveAvgPool2d,
  AdaptiveMaxPool2d,
  AvgPool1d,
  AvgPool2d,
  BatchNorm1d,
  BatchNorm2d,
  BatchNorm3d,
  Conv1d,
  Conv2d,
  Conv3d,
  Dropout,
  Flatten,
  GELU,
  Identity,
  LeakyReLU,
  Linear,
  LogSoftmax,
  LSTM,
  MaxPool1d,
  MaxPool2d,
  ReLU,
  ReLU6,
  Sequential,
  Sigmoid,
  Softmax,
  Tanh,
} from '../../lib/nn/layers/index.js';
import { Module } from '../../lib/nn/module.js';
import { Tensor } from '../../lib/tensor/tensor.js';

/**
 * Max abs difference allowed between onnxruntime and convkit, relative to the output's scale:
 * `|ort - convkit| <= 1e-4 * max(1, max |convkit|)` (float32 kernels that sum in another order).
 */
const TOL = 1e-4;
const scale = (t: Tensor): number => Math.max(1, ...Array.from(t.data, Math.abs));

const dir = mkdtempSync(join(tmpdir(), 'convkit-onnx-export-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function random(shape: number[], seed: number, scale = 1): Tensor {
  let n = 1;
  for (const d of shape) n *= d;
  const data = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    data[i] = (s / 4294967296 - 0.5) * 2 * scale;
  }
  return new Tensor(data, shape);
}

/** Gives every batch norm non-trivial running statistics and affine parameters, so export errors show. */
function randomiseNorms<M extends Module>(model: M): M {
  let seed = 1;
  for (const [name, t] of [...model.namedParameters(), ...model.namedBuffers()]) {
    const leaf = name.split('.').pop() as string;
    if (!['running_mean', 'running_var', 'runningMean', 'runningVar'].includes(leaf) && !/bn|norm|downsample\.1|\.1\.(weight|bias)$/.test(name)) continue;
    if (t.shape.length !== 1) continue;
    const r = random([...t.shape], seed++, 0.5).data;
    for (let i = 0; i < t.size; i++) t.data[i] = /var|weight/i.test(leaf) ? 1 + (r[i] as number) * 0.8 : (r[i] as number);
  }
  return model;
}

function maxAbs(a: Float32Array, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs((a[i] as number) - (b[i] as number)));
  return m;
}

async function runOrt(path: string, x: Tensor): Promise<{ data: Float32Array; dims: readonly number[] }> {
  const session = await ort.InferenceSession.create(path, { intraOpNumThreads: 1, logSeverityLevel: 3 });
  try {
    const out = await session.run({ input: new ort.Tensor('float32', x.data, [...x.shape]) });
    const y = out['output'] as ort.Tensor;
    return { data: y.data as Float32Array, dims: y.dims };
  } finally {
    await session.release();
  }
}

/** Exports at batch 1, runs ORT at batch 2; returns the max abs error against convkit. */
async function roundTrip(name: string, model: Module, inputShape: number[], opset?: number): Promise<number> {
  const path = join(dir, `${name}.onnx`);
  await saveOnnx(model, path, opset === undefined ? { inputShape } : { inputShape, opset });
  const x = random([2, ...inputShape], 7);
  model.eval();
  const expected = noGrad(() => (model.forward as (t: Tensor) => Tensor)(x));
  const got = await runOrt(path, x);
  expect([...got.dims]).toEqual([...expected.shape]);
  const err = maxAbs(expected.data, got.data);
  scales[name] = scale(expected);
  expect(err).toBeLessThan(TOL * scale(expected));
  return err;
}

const errors: Record<string, number> = {};
const scales: Record<string, number> = {};
afterAll(() => {
  // One line per model, for the record.
  console.log(`onnx export max abs error vs onnxruntime: ${JSON.stringify(errors)}; output scales ${JSON.stringify(scales)}`);
});

describe('saveOnnx: the model zoo in onnxruntime-node, traced at batch 1, run at batch 2', () => {
  it('lenet5', async () => {
    errors['lenet5'] = await roundTrip('lenet5', lenet5({ numClasses: 10, inChannels: 1 }), [1, 28, 28]);
  });

  it('cifarNet (dropout off in eval)', async () => {
    errors['cifarNet'] = await roundTrip('cifarNet', cifarNet({ numClasses: 10 }), [3, 32, 32]);
  });

  it('alexnet, paper variant: grouped convolutions and LRN', async () => {
    errors['alexnet'] = await roundTrip('alexnet', alexnet({ numClasses: 10, inputSize: 67 }), [3, 67, 67]);
  });

  it('vgg11 at 32x32 (adaptive pooling 1x1 -> 7x7 exported as an upsampling)', async () => {
    // The stock classifier holds 120M weights (25088 -> 4096 -> 4096); a small one keeps the test quick.
    const vgg = vgg11({ numClasses: 10, batchNorm: true });
    vgg.replaceModule('classifier', new Sequential(new Linear(512 * 7 * 7, 64), new ReLU(), new Dropout(), new Linear(64, 10)));
    errors['vgg11'] = await roundTrip('vgg11', randomiseNorms(vgg), [3, 32, 32]);
  });

  it('resnet18: residual adds in TypeScript forward code', async () => {
    errors['resnet18'] = await roundTrip('resnet18', randomiseNorms(resnet18({ numClasses: 10 })), [3, 64, 64]);
  });

  it('resnet50: bottlenecks', async () => {
    errors['resnet50'] = await roundTrip('resnet50', randomiseNorms(resnet50({ numClasses: 10 })), [3, 64, 64]);
  });

  it('googlenet: Inception channel concatenation', async () => {
    errors['googlenet'] = await roundTrip('googlenet', randomiseNorms(googlenet({ numClasses: 10, auxLogits: false })), [3, 64, 64]);
  });

  it('mobilenetV2: inverted residuals, ReLU6, functional adaptive pooling', async () => {
    errors['mobilenetV2'] = await roundTrip('mobilenetV2', randomiseNorms(mobilenetV2({ numClasses: 10 })), [3, 64, 64]);
  });
});

describe('saveOnnx: layers and functional ops', () => {
  it('a Sequential with every activation, softmax and log-softmax (opset 13 and 20)', async () => {
    const build = (): Module =>
      new Sequential(
        new Flatten(),
        new Linear(12, 16),
        new ReLU(),
        new Linear(16, 16),
        new LeakyReLU({ negativeSlope: 0.2 }),
        new Linear(16, 16),
        new ReLU6(),
        new Sigmoid(),
        new Linear(16, 16),
        new Tanh(),
        new GELU(),
        new GELU({ approximate: 'tanh' }),
        new Dropout(0.3),
        new Identity(),
        new Linear(16, 8),
        new Softmax({ dim: 1 }),
        new LogSoftmax({ dim: -1 }),
      );
    const m = build();
    errors['activations(opset13)'] = await roundTrip('act13', m, [3, 4], 13);
    errors['activations(opset20)'] = await roundTrip('act20', m, [3, 4], 20);
  });

  it('Conv1d, Conv3d, BatchNorm1d/3d, pools 1d, padding same, adaptive max, Linear on rank 3', async () => {
    const conv1d = randomiseNorms(
      new Sequential(new Conv1d(2, 4, 3, { padding: 'same' }), new BatchNorm1d(4), new ReLU(), new MaxPool1d(2), new AvgPool1d(2, { padding: 1 }), new Linear(3, 5)),
    );
    errors['conv1d'] = await roundTrip('conv1d', conv1d, [2, 10]);
    const conv3d = randomiseNorms(new Sequential(new Conv3d(2, 3, 3, { padding: 1, stride: 2 }), new BatchNorm3d(3), new Flatten(), new Linear(3 * 2 * 2 * 2, 4), new BatchNorm1d(4)));
    errors['conv3d'] = await roundTrip('conv3d', conv3d, [2, 4, 4, 4]);
    const pools = new Sequential(new Conv2d(3, 4, 3, { dilation: 2, groups: 1, bias: false }), new MaxPool2d(3, { stride: 2, padding: 1, ceilMode: true }), new AdaptiveMaxPool2d([2, 3]), new AvgPool2d(2, { stride: 1 }), new AdaptiveAvgPool2d([2, 6]));
    errors['pools'] = await roundTrip('pools', pools, [3, 15, 20]);
  });

  /** A leaf of a class the exporter does not know: its ops are read from the tape. */
  class Scale extends Module {
    readonly gamma = this.registerParameter('gamma', random([6, 1, 1], 5));
    forward(x: Tensor): Tensor {
      return x.mul(this.gamma).add(1);
    }
  }

  class Custom extends Module {
    readonly conv = this.registerModule('conv', new Conv2d(3, 6, 3, { padding: 1 }));
    readonly bn = this.registerModule('bn', new BatchNorm2d(6));
    readonly affine = this.registerModule('affine', new Scale());
    readonly scale = this.registerParameter('scale', random([1, 6, 1, 1], 3));
    readonly fc = this.registerModule('fc', new Linear(48, 5));

    forward(x: Tensor): Tensor {
      const h = this.affine.forward(this.bn.forward(this.conv.forward(x)));
      const gate = F.sigmoid(F.adaptiveAvgPool2d(h, 1));
      let y = h.mul(gate).mul(this.scale).add(0.5).sub(h.div(4));
      y = F.relu(F.cat([y, F.relu6(h)], { dim: 1 }));
      y = F.adaptiveAvgPool2d(y, [2, 1]);
      const flat = y.reshape([y.shape[0] as number, -1]);
      return F.tanh(this.fc.forward(F.cat([flat.mul(2), flat.add(flat)], { dim: 1 }).reshape([flat.shape[0] as number, 2, -1]).mul(0.5).reshape([flat.shape[0] as number, -1]).flatten(1).mul(1 / 2).reshape([-1, 48])));
    }
  }

  it('functional ops between layers: mul by a parameter and constants, gating, cat, reshape', async () => {
    const m = randomiseNorms(new Custom());
    errors['functional'] = await roundTrip('functional', m, [3, 8, 8]);
    const { opTypes } = exportOnnx(m, { inputShape: [3, 8, 8] });
    expect(opTypes).toEqual(expect.arrayContaining(['Conv', 'BatchNormalization', 'GlobalAveragePool', 'Sigmoid', 'Mul', 'Add', 'Sub', 'Div', 'Concat', 'Clip', 'Relu', 'AveragePool', 'Gemm', 'Tanh']));
  });
});

describe('saveOnnx: the file', () => {
  it('re-imports with loadOnnx: input/output names, a symbolic batch, stateDict initializer names, same outputs', async () => {
    const model = randomiseNorms(resnet18({ numClasses: 7 }));
    const path = join(dir, 'reimport.onnx');
    const result = await saveOnnx(model, path, { inputShape: [3, 32, 32] });
    expect(result.verifiedMaxAbsError).not.toBeNull();
    expect(result.outputShape).toEqual([null, 7]);
    const loaded = loadOnnx(path);
    expect(loaded.inputs).toEqual([{ name: 'input', elemType: 1, shape: [null, 3, 32, 32] }]);
    expect(loaded.outputs.map((o) => o.name)).toEqual(['output']);
    expect(loaded.opset).toBe(17);
    const names = [...loaded.stateDict().keys()];
    expect(names).toContain('layer1.0.conv1.weight');
    expect(names).toContain('fc.bias');
    const x = random([3, 3, 32, 32], 11);
    model.eval();
    const expected = noGrad(() => model.forward(x));
    const got = noGrad(() => loaded.forward(x) as Tensor);
    expect(maxAbs(expected.data, got.data)).toBeLessThan(TOL * scale(expected));
  });

  it('saveStateDict writes the weights under the same names as the initializers', async () => {
    const model = lenet5({ numClasses: 10 });
    const path = join(dir, 'lenet.safetensors');
    await saveStateDict(model, path);
    const file = await loadSafetensors(path);
    expect([...file.tensors.keys()]).toEqual([...model.stateDict().keys()]);
  });

  it('leaves the model as it was: training flags, requiresGrad, weights', async () => {
    const model = randomiseNorms(resnet18({ numClasses: 3 }));
    model.train();
    const fc = model.fc as Linear;
    fc.weight.requiresGrad = false;
    const before = new Float32Array(model.bn1.runningMean?.data ?? []);
    exportOnnx(model, { inputShape: [3, 32, 32] });
    expect(model.training).toBe(true);
    expect(model.layer1.training).toBe(true);
    expect(fc.weight.requiresGrad).toBe(false);
    expect(model.conv1.weight.requiresGrad).toBe(true);
    expect(Object.prototype.hasOwnProperty.call(model.conv1, 'forward')).toBe(false);
    expect(model.bn1.runningMean?.data).toEqual(before);
  });
});

describe('saveOnnx: what cannot be exported', () => {
  class WithLstm extends Module {
    readonly rnn = this.registerModule('rnn', new LSTM(4, 3));
    forward(x: Tensor): Tensor {
      return this.rnn.forward(x)[0];
    }
  }

  class FunctionalPool extends Module {
    readonly conv = this.registerModule('conv', new Conv2d(1, 2, 3));
    readonly head = this.registerModule('head', new Sequential(new Flatten(), new Linear(2 * 3 * 3, 2)));
    forward(x: Tensor): Tensor {
      return this.head.forward(F.maxPool2d(this.conv.forward(x), { kernelSize: 2 }));
    }
  }

  class Detached extends Module {
    readonly fc = this.registerModule('fc', new Linear(4, 4));
    forward(x: Tensor): Tensor {
      return this.fc.forward(x.detach());
    }
  }

  class BatchDependent extends Module {
    readonly fc = this.registerModule('fc', new Linear(4, 4));
    forward(x: Tensor): Tensor {
      // Normalising over the batch: right at batch 1 when traced, wrong at any other batch.
      return this.fc.forward(x.sub(noGrad(() => x.detach().mean(0))));
    }
  }

  const cases: [string, () => Module, number[], RegExp][] = [
    ['an LSTM', () => new WithLstm(), [5, 4], /cannot export an LSTM layer \(recurrent layers are not supported\) \(in LSTM at 'rnn'\)/],
    ['a functional max pool', () => new FunctionalPool(), [1, 8, 8], /cannot export 'maxPool2d' called outside a layer.*in the input of Sequential at 'head', computed in the model forward/],
    ['a detached input', () => new Detached(), [4], /neither the input, a parameter nor the result of a recorded op.*Linear at 'fc'/],
    ['a batch-dependent forward', () => new BatchDependent(), [4], /does not reproduce the model on a second input of batch 2/],
  ];

  for (const [what, build, inputShape, message] of cases) {
    it(`${what}: one ArgumentError, no file`, async () => {
      const path = join(dir, `bad-${what.replace(/\W/g, '_')}.onnx`);
      const err = await saveOnnx(build(), path, { inputShape }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ArgumentError);
      expect((err as Error).message).toMatch(message);
      expect(existsSync(path)).toBe(false);
      expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    });
  }

  it('bad options', () => {
    const m = new Sequential(new Linear(2, 2));
    expect(() => exportOnnx(m, { inputShape: [2], opset: 12 })).toThrow(/13 to 21.*opset/);
    expect(() => exportOnnx(m, { inputShape: [0] })).toThrow(ArgumentError);
    expect(() => exportOnnx(m, {} as never)).toThrow(ArgumentError);
  });
});
