// The zoo's architectures: parameter counts against torchvision's (and the papers' for LeNet-5,
// AlexNet), output volumes in summary(), JSON round-trips, and the builders' errors.
import { describe, expect, it } from 'vitest';
import { ArgumentError, models, nn, tensor } from '../../lib/index.js';

const { moduleFromJSON, summary } = nn;

// torchvision 0.14's counts (googlenet with aux_logits=True), the papers' for lenet5 and alexnet.
const COUNTS: [string, Record<string, unknown>, number][] = [
  ['resnet18', {}, 11_689_512],
  ['resnet34', {}, 21_797_672],
  ['resnet50', {}, 25_557_032],
  ['vgg11', {}, 132_863_336],
  ['vgg16', {}, 138_357_544],
  ['mobilenetV2', {}, 3_504_872],
  ['googlenet', {}, 13_004_888],
  ['lenet5', { numClasses: 10 }, 61_706],
  ['alexnet', {}, 60_965_224],
  ['alexnet', { variant: 'torchvision' }, 61_100_840],
  // The benchmark's CIFAR net (the same count as scripts/peers/torch_train.py's nn.Sequential) and
  // its 1x28x28 adaptation: 64x7x7 flattened features instead of 64x8x8.
  ['cifarNet', {}, 2_168_362],
  ['cifarNet', { inChannels: 1, inputSize: 28 }, 1_676_266],
];

describe('model zoo parameter counts', () => {
  it.each(COUNTS)('%s %j has the reference parameter count', (name, options, expected) => {
    const model = models.buildModel(name, options);
    expect(model.numParameters()).toBe(expected);
  });
});

describe('summary volumes', () => {
  it('alexnet shows the notes volumes 55x55x96, 27x27x256, 13x13x256, 13x13x384, FC 4096/4096/1000', () => {
    const s = summary(models.alexnet(), [3, 227, 227]);
    const volumes = s.rows.map((r) => r.volume);
    expect(s.rows[0]?.volume).toBe('55x55x96');
    for (const v of ['27x27x96', '27x27x256', '13x13x256', '13x13x384', '6x6x256', '4096', '1000']) expect(volumes).toContain(v);
    expect(s.rows.at(-1)?.outputShape).toEqual([1, 1000]);
    expect(s.totals).toEqual({ params: 60_965_224, trainable: 60_965_224, frozen: 0 });
    expect(s.text).toContain('total params: 60,965,224');
  });

  it('zfnet shows 55x55x96 after pool 1, 13x13x256, 13x13x512, 13x13x1024, FC 4096/4096/1000', () => {
    const s = summary(models.zfnet(), [3, 224, 224]);
    const volumes = s.rows.map((r) => r.volume);
    expect(s.rows[0]?.volume).toBe('110x110x96');
    for (const v of ['55x55x96', '26x26x256', '13x13x256', '13x13x512', '13x13x1024', '6x6x512', '4096', '1000']) {
      expect(volumes).toContain(v);
    }
  });

  it('counts frozen parameters apart and lists each call of a shared ReLU', () => {
    const model = models.resnet18({ numClasses: 10 });
    model.getModule('layer1').freeze();
    const s = summary(model, [3, 32, 32]);
    const layer1 = model.getModule('layer1').numParameters();
    expect(s.totals.frozen).toBe(layer1);
    expect(s.totals.trainable).toBe(model.numParameters() - layer1);
    expect(s.rows.filter((r) => r.name === 'layer1.0.relu')).toHaveLength(2);
    expect(s.rows.find((r) => r.name === 'layer1.0.conv1')?.trainableParams).toBe(0);
    expect(s.rows.at(-1)?.outputShape).toEqual([1, 10]);
    // summary leaves the mode and running statistics alone
    expect(model.training).toBe(true);
  });
});

describe('zoo serialisation', () => {
  it.each([
    ['lenet5', { numClasses: 10 }, [1, 1, 28, 28]],
    ['resnet18', { numClasses: 7, inChannels: 1 }, [1, 1, 32, 32]],
    ['mobilenetV2', { numClasses: 5, widthMult: 0.5 }, [1, 3, 32, 32]],
    ['alexnet', { numClasses: 3, inputSize: 99 }, [1, 3, 99, 99]],
    ['googlenet', { numClasses: 4, auxLogits: false }, [1, 3, 64, 64]],
    ['cifarNet', { inChannels: 1, inputSize: 28 }, [1, 1, 28, 28]],
  ] as const)('%s %j rebuilds from JSON and reproduces its outputs after loadStateDict', (name, options, shape) => {
    const model = models.buildModel(name, options as Record<string, unknown>).eval();
    const json = JSON.parse(JSON.stringify(model.toJSON()));
    const rebuilt = moduleFromJSON(json).eval();
    expect([...rebuilt.stateDict().keys()]).toEqual([...model.stateDict().keys()]);
    rebuilt.loadStateDict(model.stateDict());
    const size = (shape as readonly number[]).reduce((a, b) => a * b, 1);
    const x = tensor(Float32Array.from({ length: size }, (_, i) => Math.sin(i)), [...shape]);
    const a = (model.forward as (t: typeof x) => typeof x)(x).data;
    const b = (rebuilt.forward as (t: typeof x) => typeof x)(x).data;
    expect(Array.from(b)).toEqual(Array.from(a));
  });

  it('restores a replaced classifier head from JSON', () => {
    const model = models.resnet18({ numClasses: 1000 });
    model.replaceModule('fc', new nn.Linear(512, 5));
    const rebuilt = moduleFromJSON(model.toJSON());
    expect(rebuilt.getModule('fc').numParameters()).toBe(512 * 5 + 5);
    expect(rebuilt.numParameters()).toBe(model.numParameters());
  });
});

describe('zoo builders reject bad options', () => {
  it('names the option and echoes the value', () => {
    expect(() => models.resnet18({ numClasses: 0 })).toThrow(ArgumentError);
    expect(() => models.resnet18({ numClasses: 0 })).toThrow('Expected a positive integer for options.numClasses of resnet18() but received 0');
    expect(() => models.buildModel('resnet19')).toThrow("buildModel: unknown model 'resnet19'; known models: lenet5, alexnet");
    expect(() => models.alexnet({ inputSize: 50 })).toThrow(/too small/);
  });
});
