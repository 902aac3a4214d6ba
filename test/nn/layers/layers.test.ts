// Behaviour of the built-in layers beyond the PyTorch fixtures: training vs evaluation mode (dropout,
// batch norm), Sequential's naming and container API, shapes, describe(), and the exact text of the
// errors for bad constructor arguments and inputs.
import { describe, expect, it } from 'vitest';
import { ArgumentError, ShapeError, Tensor, manualSeed, randn, sum, tensor, zeros } from '../../../lib/index.js';
import {
  AdaptiveAvgPool2d,
  AvgPool2d,
  BatchNorm1d,
  BatchNorm2d,
  BatchNorm3d,
  Conv1d,
  Conv2d,
  Dropout,
  Dropout2d,
  Embedding,
  Flatten,
  GELU,
  Identity,
  LSTM,
  LeakyReLU,
  Linear,
  LocalResponseNorm,
  MaxPool2d,
  ReLU,
  Sequential,
  Softmax,
} from '../../../lib/nn/layers/index.js';

const values = (t: Tensor): number[] => [...t.data];

describe('training and evaluation mode', () => {
  it('Dropout drops and rescales in training, is the identity in evaluation', () => {
    manualSeed(7);
    const drop = new Dropout(0.25);
    const x = zeros([20000]);
    x.data.fill(1);
    const y = drop.forward(x);
    const kept = values(y).filter((v) => v !== 0);
    // 20,000 draws of keep probability 0.75: standard deviation of the kept fraction 0.003.
    expect(Math.abs(kept.length / 20000 - 0.75)).toBeLessThan(0.02);
    expect(kept.every((v) => Math.abs(v - 1 / 0.75) < 1e-6)).toBe(true);
    drop.eval();
    expect(drop.training).toBe(false);
    expect(drop.forward(x)).toBe(x);
    drop.train();
    expect(drop.forward(x)).not.toBe(x);
  });

  it('Dropout2d zeroes whole channels in training only', () => {
    manualSeed(3);
    const drop = new Dropout2d(0.5);
    const x = randn([4, 16, 3, 3]);
    const y = drop.forward(x);
    let dropped = 0;
    for (let plane = 0; plane < 64; plane++) {
      const part = values(y).slice(plane * 9, plane * 9 + 9);
      const zero = part.every((v) => v === 0);
      if (zero) dropped++;
      else part.forEach((v, i) => expect(v).toBeCloseTo(2 * (x.data[plane * 9 + i] as number), 5));
    }
    expect(dropped).toBeGreaterThan(16); // 64 channels at p = 0.5: expected 32, sd 4
    expect(dropped).toBeLessThan(48);
    expect(drop.eval().forward(x)).toBe(x);
  });

  it('BatchNorm2d: training uses batch statistics and updates running ones; evaluation uses running ones', () => {
    const bn = new BatchNorm2d(2);
    const x = tensor([[[[1, 3]], [[10, 30]]], [[[5, 7]], [[50, 70]]]]); // [2, 2, 1, 2]
    const y = bn.forward(x);
    // Channel 0: values 1, 3, 5, 7: mean 4, biased var 5, unbiased 20/3.
    expect(y.data[0]).toBeCloseTo(-3 / Math.sqrt(5 + 1e-5), 5);
    expect(bn.runningMean!.data[0]).toBeCloseTo(0.4, 6);
    expect(bn.runningVar!.data[0]).toBeCloseTo(0.9 + 0.1 * (20 / 3), 5);
    expect(bn.numBatchesTracked!.item()).toBe(1);
    bn.forward(x);
    expect(bn.numBatchesTracked!.item()).toBe(2);

    bn.eval();
    const rm = bn.runningMean!.data[0] as number;
    const rv = bn.runningVar!.data[0] as number;
    const ye = bn.forward(x);
    expect(ye.data[0]).toBeCloseTo((1 - rm) / Math.sqrt(rv + 1e-5), 5);
    expect(bn.runningMean!.data[0]).toBe(rm); // unchanged
    expect(bn.numBatchesTracked!.item()).toBe(2);
  });

  it('BatchNorm with momentum null keeps a cumulative average', () => {
    const bn = new BatchNorm1d(1, { momentum: null });
    bn.forward(tensor([[1], [3]])); // batch mean 2
    expect(bn.runningMean!.data[0]).toBeCloseTo(2, 6);
    bn.forward(tensor([[5], [7]])); // batch mean 6: average of both batches is 4
    expect(bn.runningMean!.data[0]).toBeCloseTo(4, 6);
    expect(bn.numBatchesTracked!.item()).toBe(2);
  });

  it('BatchNorm without running statistics has no buffers and normalises by the batch in evaluation', () => {
    const bn = new BatchNorm2d(3, { trackRunningStats: false, affine: false });
    expect([...bn.stateDict().keys()]).toEqual([]);
    expect(bn.parameters()).toEqual([]);
    bn.eval();
    const y = bn.forward(randn([4, 3, 2, 2]).mul(5).add(3));
    const mean = sum(y).item() / y.size;
    expect(Math.abs(mean)).toBeLessThan(1e-5);
  });

  it('train()/eval() on a Sequential reaches every layer', () => {
    const model = new Sequential(new Conv2d(1, 2, 3), new BatchNorm2d(2), new Sequential(new Dropout(), new ReLU()));
    model.eval();
    expect(model.modules().every((m) => !m.training)).toBe(true);
    model.train();
    expect(model.modules().every((m) => m.training)).toBe(true);
  });

  it('LSTM applies dropout between layers only in training', () => {
    manualSeed(11);
    const lstm = new LSTM(3, 4, { numLayers: 2, dropout: 0.5 });
    const x = randn([5, 2, 3]);
    lstm.eval();
    const [a] = lstm.forward(x);
    const [b] = lstm.forward(x);
    expect(values(a)).toEqual(values(b));
    lstm.train();
    const [c] = lstm.forward(x);
    expect(values(c)).not.toEqual(values(a));
  });
});

describe('Sequential', () => {
  it('names children 0, 1, ... and chains forward', () => {
    const model = new Sequential(new Conv2d(1, 4, 3, { padding: 1 }), new BatchNorm2d(4), new ReLU(), new MaxPool2d(2), new Flatten(), new Linear(4 * 2 * 2, 3));
    expect(model.length).toBe(6);
    expect(model.namedChildren().map(([n]) => n)).toEqual(['0', '1', '2', '3', '4', '5']);
    expect([...model.stateDict().keys()]).toEqual([
      '0.weight', '0.bias', '1.weight', '1.bias', '1.running_mean', '1.running_var', '1.num_batches_tracked', '5.weight', '5.bias',
    ]);
    const y = model.forward(randn([2, 1, 4, 4]));
    expect(y.shape).toEqual([2, 3]);
    expect(model.at(0)).toBeInstanceOf(Conv2d);
    expect(model.at(-1)).toBeInstanceOf(Linear);
    expect([...model].map((m) => m.constructor.name)).toEqual(['Conv2d', 'BatchNorm2d', 'ReLU', 'MaxPool2d', 'Flatten', 'Linear']);
  });

  it('append, replace and empty', () => {
    const model = new Sequential();
    expect(model.forward(tensor([1, 2]))).toBeInstanceOf(Tensor);
    model.append(new Linear(2, 3)).append(new ReLU());
    expect(model.length).toBe(2);
    model.replaceModule('0', new Linear(2, 5));
    expect((model.at(0) as Linear).outFeatures).toBe(5);
    expect(model.forward(tensor([[1, 2]])).shape).toEqual([1, 5]);
    expect(() => model.at(2)).toThrow('Sequential.at: index 2 is out of range for 2 modules');
    expect(() => model.append({} as never)).toThrow(ArgumentError);
  });

  it('gradients flow through every layer', () => {
    const model = new Sequential(new Conv2d(2, 3, 3), new ReLU(), new Flatten(), new Linear(3 * 2 * 2, 1));
    sum(model.forward(randn([2, 2, 4, 4]))).backward();
    for (const [name, p] of model.namedParameters()) expect(p.grad, name).not.toBeNull();
  });
});

describe('shapes', () => {
  it('conv, pooling, flatten and linear shapes follow PyTorch', () => {
    expect(new Conv2d(3, 64, 7, { stride: 2, padding: 3 }).forward(zeros([1, 3, 224, 224])).shape).toEqual([1, 64, 112, 112]);
    expect(new Conv2d(3, 8, 4, { padding: 'same' }).forward(zeros([3, 9, 7])).shape).toEqual([8, 9, 7]); // unbatched
    expect(new Conv1d(50, 10, 3).forward(zeros([2, 50, 20])).shape).toEqual([2, 10, 18]);
    expect(new MaxPool2d(3, { stride: 2, ceilMode: true }).forward(zeros([1, 1, 55, 55])).shape).toEqual([1, 1, 27, 27]);
    expect(new MaxPool2d(3, { stride: 1, padding: 1 }).forward(zeros([1, 2, 5, 5])).shape).toEqual([1, 2, 5, 5]);
    expect(new AvgPool2d(2).forward(zeros([1, 1, 6, 6])).shape).toEqual([1, 1, 3, 3]);
    expect(new AdaptiveAvgPool2d(1).forward(zeros([2, 5, 7, 7])).shape).toEqual([2, 5, 1, 1]);
    expect(new Flatten().forward(zeros([2, 3, 4, 5])).shape).toEqual([2, 60]);
    expect(new Linear(5, 2).forward(zeros([3, 4, 5])).shape).toEqual([3, 4, 2]);
    expect(new LocalResponseNorm(5).forward(zeros([1, 8, 3, 3])).shape).toEqual([1, 8, 3, 3]);
    expect(new Softmax({ dim: 1 }).forward(zeros([2, 4])).data[0]).toBeCloseTo(0.25, 7);
  });

  it('LSTM output and state shapes, batch first and bidirectional', () => {
    const lstm = new LSTM(6, 5, { numLayers: 3, batchFirst: true, bidirectional: true });
    const [out, [h, c]] = lstm.forward(randn([2, 7, 6]));
    expect(out.shape).toEqual([2, 7, 10]);
    expect(h.shape).toEqual([6, 2, 5]);
    expect(c.shape).toEqual([6, 2, 5]);
    expect(lstm.namedParameters().map(([n]) => n).slice(0, 8)).toEqual([
      'weight_ih_l0', 'weight_hh_l0', 'bias_ih_l0', 'bias_hh_l0',
      'weight_ih_l0_reverse', 'weight_hh_l0_reverse', 'bias_ih_l0_reverse', 'bias_hh_l0_reverse',
    ]);
    expect(lstm.namedParameters().find(([n]) => n === 'weight_ih_l1')![1].shape).toEqual([20, 10]);
  });

  it('Embedding looks up rows and gives the padding row no gradient', () => {
    const emb = new Embedding(5, 3, { paddingIdx: 1 });
    const y = emb.forward([0, 1, 1, 4]);
    expect(y.shape).toEqual([4, 3]);
    expect(values(y).slice(3, 6)).toEqual([0, 0, 0]);
    sum(y).backward();
    expect(values(emb.weight.grad!)).toEqual([1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1]);
  });

  it('Identity returns its input', () => {
    const x = randn([2, 2]);
    expect(new Identity().forward(x)).toBe(x);
  });
});

describe('describe()', () => {
  it('gives readable one-liners', () => {
    expect(new Conv2d(3, 64, 7, { stride: 2, padding: 3 }).describe()).toBe('Conv2d(3, 64, kernel=7, stride=2, padding=3)');
    expect(new Conv2d(32, 32, [3, 1], { groups: 32, bias: false, padding: 'same' }).describe()).toBe(
      "Conv2d(32, 32, kernel=[3, 1], padding='same', groups=32, bias=false)",
    );
    expect(new Linear(512, 10).describe()).toBe('Linear(512, 10)');
    expect(new MaxPool2d(3, { stride: 2, padding: 1 }).describe()).toBe('MaxPool2d(kernel=3, stride=2, padding=1)');
    expect(new MaxPool2d(2).describe()).toBe('MaxPool2d(kernel=2)');
    expect(new BatchNorm2d(64).describe()).toBe('BatchNorm2d(64)');
    expect(new BatchNorm2d(64, { eps: 1e-3 }).describe()).toBe('BatchNorm2d(64, eps=0.001)');
    expect(new AdaptiveAvgPool2d([7, 7]).describe()).toBe('AdaptiveAvgPool2d(outputSize=[7, 7])');
    expect(new Dropout(0.5).describe()).toBe('Dropout(p=0.5)');
    expect(new LSTM(10, 20, { numLayers: 2, batchFirst: true }).describe()).toBe('LSTM(10, 20, numLayers=2, batchFirst=true)');
    expect(new ReLU().describe()).toBe('ReLU');
    expect(new GELU().describe()).toBe('GELU()');
    expect(new LeakyReLU().describe()).toBe('LeakyReLU(negativeSlope=0.01)');
    expect(new Sequential().describe()).toBe('Sequential');
  });
});

describe('errors', () => {
  const cases: [string, () => unknown, typeof ArgumentError | typeof ShapeError, string][] = [
    ['inChannels 0', () => new Conv2d(0, 64, 3), ArgumentError, 'Expected a positive integer for inChannels of Conv2d but received 0 of type number'],
    ['outChannels 2.5', () => new Conv1d(3, 2.5, 3), ArgumentError, 'Expected a positive integer for outChannels of Conv1d but received 2.5 of type number'],
    [
      'kernelSize of the wrong rank',
      () => new Conv2d(3, 8, [3, 3, 3]),
      ArgumentError,
      'Expected a positive integer or an array of 2 such integers for kernelSize of Conv2d but received [3, 3, 3] of type array',
    ],
    ['negative padding', () => new Conv2d(3, 8, 3, { padding: -1 }), ArgumentError, 'Expected an integer >= 0 or an array of 2 such integers for padding of Conv2d but received -1 of type number'],
    ['inChannels % groups', () => new Conv2d(6, 8, 3, { groups: 4 }), ArgumentError, 'Conv2d: inChannels must be divisible by groups, received inChannels = 6 and groups = 4'],
    ['outChannels % groups', () => new Conv2d(4, 6, 3, { groups: 4 }), ArgumentError, 'Conv2d: outChannels must be divisible by groups, received outChannels = 6 and groups = 4'],
    ["'same' with stride", () => new Conv2d(3, 8, 3, { stride: 2, padding: 'same' }), ArgumentError, "Conv2d: padding='same' is not supported for strided convolutions (stride 2)"],
    ['bad padding string', () => new Conv2d(3, 8, 3, { padding: 'full' as 'same' }), ArgumentError, "Conv2d: invalid padding string 'full', should be one of 'valid', 'same'"],
    ['misspelt option', () => new Conv2d(3, 8, 3, { kernel_size: 3 } as never), ArgumentError, "Conv2d: unknown option 'kernel_size' (expected stride, padding, dilation, groups, bias)"],
    ['bias not boolean', () => new Linear(3, 2, { bias: 1 as unknown as boolean }), ArgumentError, 'Expected a boolean for bias of Linear but received 1 of type number'],
    ['pool padding over half the kernel', () => new MaxPool2d(2, { padding: 2 }), ArgumentError, 'MaxPool2d: padding should be at most half of kernel size, but got padding=2 and kernelSize=2'],
    ['pool kernel 0', () => new AvgPool2d(0), ArgumentError, 'Expected a positive integer or an array of 2 such integers for kernelSize of AvgPool2d but received 0 of type number'],
    ['adaptive output 0', () => new AdaptiveAvgPool2d(0), ArgumentError, 'Expected a positive integer for outputSize of AdaptiveAvgPool2d but received 0 of type number'],
    ['dropout p 1.5', () => new Dropout(1.5), ArgumentError, 'Expected a probability in [0, 1] for p of Dropout but received 1.5 of type number'],
    ['softmax without dim', () => new Softmax({} as { dim: number }), ArgumentError, 'Softmax: the dim option is required, e.g. new Softmax({ dim: 1 }) for the class dimension of [N, C]'],
    ['gelu approximate', () => new GELU({ approximate: 'fast' as 'tanh' }), ArgumentError, "Expected 'none' or 'tanh' for approximate of GELU but received 'fast' of type string"],
    ['embedding paddingIdx', () => new Embedding(10, 4, { paddingIdx: 10 }), ArgumentError, 'Embedding: paddingIdx must be within -numEmbeddings..numEmbeddings-1 (-10..9), received 10'],
    ['batch norm numFeatures', () => new BatchNorm2d(-3), ArgumentError, 'Expected a positive integer for numFeatures of BatchNorm2d but received -3 of type number'],
    ['batch norm momentum', () => new BatchNorm2d(3, { momentum: 'x' as unknown as number }), ArgumentError, "Expected a finite number or null for momentum of BatchNorm2d but received 'x' of type string"],
    ['lstm dropout', () => new LSTM(3, 4, { dropout: 2 }), ArgumentError, 'Expected a probability in [0, 1] for dropout of LSTM but received 2 of type number'],
    ['BatchNorm2d on a 3-d input', () => new BatchNorm2d(3).forward(zeros([2, 3, 4])), ShapeError, 'BatchNorm2d: expected a 4-d input [N, C, H, W], received shape [2, 3, 4]'],
    ['BatchNorm1d on a 4-d input', () => new BatchNorm1d(3).forward(zeros([2, 3, 4, 4])), ShapeError, 'BatchNorm1d: expected a 2-d or 3-d input [N, C] or [N, C, L], received shape [2, 3, 4, 4]'],
    ['BatchNorm3d on a 4-d input', () => new BatchNorm3d(3).forward(zeros([2, 3, 4, 4])), ShapeError, 'BatchNorm3d: expected a 5-d input [N, C, D, H, W], received shape [2, 3, 4, 4]'],
    ['BatchNorm channels', () => new BatchNorm2d(3).forward(zeros([2, 4, 2, 2])), ShapeError, 'BatchNorm2d(3): expected an input with 3 channels (dimension 1), received shape [2, 4, 2, 2]'],
    ['Conv2d channels', () => new Conv2d(3, 8, 3).forward(zeros([1, 4, 8, 8])), ShapeError, 'Conv2d(3, 8, kernel=3): expected an input with 3 channels, received shape [1, 4, 8, 8]'],
    ['Conv2d rank', () => new Conv2d(3, 8, 3).forward(zeros([3, 8])), ShapeError, 'Conv2d: expected a 3-d or 4-d input [N, C, H, W] (or unbatched [C, H, W]), received shape [3, 8]'],
    ['Linear features', () => new Linear(5, 2).forward(zeros([3, 4])), ShapeError, 'Linear(5, 2): expected an input whose last dimension is 5, received shape [3, 4]'],
    [
      'LSTM input size',
      () => new LSTM(5, 2).forward(zeros([3, 2, 4])),
      ShapeError,
      'LSTM(5, 2): expected a 3-d input [T, N, inputSize] or a 2-d unbatched input [T, inputSize] with inputSize = 5, received shape [3, 2, 4]',
    ],
    [
      'LSTM state shape',
      () => new LSTM(5, 2, { numLayers: 2 }).forward(zeros([3, 4, 5]), [zeros([1, 4, 2]), zeros([1, 4, 2])]),
      ShapeError,
      'LSTM(5, 2, numLayers=2): expected h0 of shape [2, 4, 2], received [1, 4, 2]',
    ],
  ];
  for (const [what, fn, cls, message] of cases) {
    it(what, () => {
      let error: unknown;
      try {
        fn();
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(cls);
      expect((error as Error).message).toBe(message);
    });
  }
});
