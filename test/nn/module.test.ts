// Module: registration, PyTorch-style dotted names, state dicts, modes, freezing and JSON.
import { describe, expect, it } from 'vitest';
import { ArgumentError, F, ShapeError, models, nn, tensor, zeros, type Tensor } from '../../lib/index.js';

const { Module, Linear, Sequential, BatchNorm2d, Conv2d, ReLU, Dropout, registerModuleType, moduleFromJSON } = nn;

class Tied extends Module {
  readonly encoder = this.registerModule('encoder', new Linear(4, 3));
  readonly decoder = this.registerModule('decoder', new Sequential(new ReLU(), new Linear(3, 4)));
  readonly scale = this.registerParameter('scale', tensor([2]));
  readonly steps = this.registerBuffer('steps', zeros([1]));

  forward(x: Tensor): Tensor {
    return this.decoder.forward(this.encoder.forward(x)).mul(this.scale);
  }
}

describe('Module names and collections', () => {
  it('lists parameters, buffers and modules with dotted names in registration order', () => {
    const m = new Tied();
    expect(m.namedParameters().map(([n]) => n)).toEqual(['scale', 'encoder.weight', 'encoder.bias', 'decoder.1.weight', 'decoder.1.bias']);
    expect(m.namedBuffers().map(([n]) => n)).toEqual(['steps']);
    expect(m.namedModules().map(([n]) => n)).toEqual(['', 'encoder', 'decoder', 'decoder.0', 'decoder.1']);
    // PyTorch's state_dict order: own parameters, own buffers, then children.
    expect([...m.stateDict().keys()]).toEqual(['scale', 'steps', 'encoder.weight', 'encoder.bias', 'decoder.1.weight', 'decoder.1.bias']);
    expect(m.numParameters()).toBe(1 + 12 + 3 + 12 + 4);
  });

  it('lists a tensor shared by two modules once (its gradient is the sum of both uses)', () => {
    const a = new Linear(3, 3, { bias: false });
    const b = new Linear(3, 3, { bias: false });
    (b as unknown as { weight: Tensor }).weight.data.set(a.weight.data);
    const shared = new Sequential(a, b);
    expect(shared.parameters()).toHaveLength(2);
    class Shared extends Module {
      readonly first = this.registerModule('first', a);
      readonly second = this.registerModule('second', a);
      forward(x: Tensor): Tensor {
        return this.second.forward(this.first.forward(x));
      }
    }
    const s = new Shared();
    expect(s.namedParameters().map(([n]) => n)).toEqual(['first.weight']);
    const x = tensor([[1, 2, 3]]);
    s.forward(x).sum().backward();
    // d/dW sum(W (W x)) = 1 (W x)^T + W^T 1 x^T
    const W = a.weight;
    const Wx = F.linear(x, W.detach());
    const ones = tensor([[1, 1, 1]]);
    const expected = ones.transpose(0, 1).matmul(Wx).add(W.detach().transpose(0, 1).matmul(ones.transpose(0, 1)).matmul(x));
    expect(Array.from((W.grad as Tensor).data)).toEqual(Array.from(expected.data).map((v) => Math.fround(v)));
  });

  it('getModule / replaceModule walk dotted paths and name what is missing', () => {
    const m = new Tied();
    expect(m.getModule('decoder.1')).toBeInstanceOf(Linear);
    expect(() => m.getModule('decoder.7')).toThrow("getModule: no module at 'decoder.7' (missing '7')");
    m.replaceModule('decoder.1', new Linear(3, 2));
    expect(m.forward(zeros([1, 4])).shape).toEqual([1, 2]);
    expect(() => m.replaceModule('nothing', new ReLU())).toThrow("setChild: this Tied has no child 'nothing'");
  });

  it('rejects names with dots and double registration', () => {
    class Bad extends Module {
      constructor(which: number) {
        super();
        if (which === 0) this.registerParameter('a.b', zeros([1]));
        else {
          this.registerParameter('a', zeros([1]));
          this.registerBuffer('a', zeros([1]));
        }
      }
      forward(): void {}
    }
    expect(() => new Bad(0)).toThrow(ArgumentError);
    expect(() => new Bad(1)).toThrow("'a' is already a parameter or child module of this Bad");
  });
});

describe('state dicts', () => {
  it('round-trips into a fresh model and copies in place', () => {
    const a = new Tied();
    const b = new Tied();
    const weightRef = b.encoder.weight;
    b.loadStateDict(a.stateDict());
    expect(b.encoder.weight).toBe(weightRef);
    for (const [k, t] of a.stateDict()) expect(Array.from(b.stateDict().get(k)?.data ?? [])).toEqual(Array.from(t.data));
    const x = tensor([[0.5, -1, 2, 0.25]]);
    expect(Array.from(b.forward(x).data)).toEqual(Array.from(a.forward(x).data));
  });

  it('strict loads list missing and unexpected keys; non-strict reports them', () => {
    const m = new Tied();
    const sd = m.stateDict();
    sd.delete('steps');
    sd.set('extra.weight', zeros([1]));
    expect(() => m.loadStateDict(sd)).toThrow(
      'loadStateDict: the state dict does not match this Tied (missing keys: steps; unexpected keys: extra.weight)',
    );
    expect(m.loadStateDict(sd, { strict: false })).toEqual({ missingKeys: ['steps'], unexpectedKeys: ['extra.weight'] });
  });

  it('a shape mismatch throws ShapeError naming the key and leaves the model untouched', () => {
    const m = new Tied();
    const before = Array.from(m.encoder.weight.data);
    const sd = new Tied().stateDict();
    sd.set('decoder.1.bias', zeros([5]));
    expect(() => m.loadStateDict(sd)).toThrow(ShapeError);
    expect(() => m.loadStateDict(sd)).toThrow("loadStateDict: 'decoder.1.bias' has shape [5] in the state dict but [4] in the model");
    expect(Array.from(m.encoder.weight.data)).toEqual(before);
  });

  it('accepts a plain object of tensors', () => {
    const m = new Linear(2, 1);
    m.loadStateDict({ weight: tensor([[1, 2]]), bias: tensor([3]) });
    expect(Array.from(m.forward(tensor([[1, 1]])).data)).toEqual([6]);
  });

  it('loads torchvision-named batch-norm buffers', () => {
    const bn = new BatchNorm2d(2);
    expect([...bn.stateDict().keys()]).toEqual(['weight', 'bias', 'running_mean', 'running_var', 'num_batches_tracked']);
  });
});

describe('modes and freezing', () => {
  it('train()/eval() reach every submodule and change dropout behaviour', () => {
    const m = new Sequential(new Linear(8, 8), new Dropout(0.5));
    m.eval();
    expect(m.modules().every((x) => !x.training)).toBe(true);
    const x = tensor(Array.from({ length: 8 }, () => 1), [1, 8]);
    expect(Array.from(m.forward(x).data)).toEqual(Array.from(m.getModule('0').forward(x).data));
    m.train();
    expect(m.modules().every((x) => x.training)).toBe(true);
  });

  it('freeze() on a subtree stops its gradients; unfreeze() restores them', () => {
    const model = models.lenet5();
    model.getModule('features').freeze();
    expect(model.numParameters({ trainableOnly: true })).toBe(10_164 + 850);
    const loss = F.crossEntropy(model.forward(zeros([2, 1, 28, 28]).add(0.5)), [3, 4]);
    loss.backward();
    for (const [name, p] of model.namedParameters()) {
      if (name.startsWith('features.')) expect(p.grad, name).toBeNull();
      else expect(p.grad, name).not.toBeNull();
    }
    model.unfreeze();
    expect(model.numParameters({ trainableOnly: true })).toBe(61_706);
  });

  it('apply() visits children before parents', () => {
    const order: string[] = [];
    new Tied().apply((m) => order.push(m.describe()));
    expect(order.at(-1)).toBe('Tied');
    expect(order.indexOf('Sequential')).toBeGreaterThan(order.indexOf('ReLU'));
  });
});

describe('architecture JSON', () => {
  it('an unregistered class says how to register it', () => {
    expect(() => new Tied().toJSON()).toThrow(/module class Tied is not registered; call registerModuleType\('Tied'/);
  });

  it('a registered custom module round-trips, with a replaced child', () => {
    registerModuleType('TiedForTest', Tied, () => new Tied());
    const m = new Tied();
    m.replaceModule('decoder', new Sequential(new Conv2d(1, 1, 1)));
    const rebuilt = moduleFromJSON(JSON.parse(JSON.stringify(m.toJSON())));
    expect(rebuilt).toBeInstanceOf(Tied);
    expect([...rebuilt.stateDict().keys()]).toEqual([...m.stateDict().keys()]);
    expect(() => moduleFromJSON({ type: 'NoSuchLayer', config: {} })).toThrow(
      "moduleFromJSON: unknown module type 'NoSuchLayer'; register custom modules with registerModuleType() before loading",
    );
  });
});

describe('GoogLeNet auxiliary classifiers', () => {
  it('adds 0.3 x each auxiliary loss in training and skips them in eval', () => {
    const model = models.googlenet({ numClasses: 5 });
    const x = tensor(Float32Array.from({ length: 2 * 3 * 96 * 96 }, (_, i) => Math.sin(i * 0.37)), [2, 3, 96, 96]);
    const target = [1, 3];
    model.train();
    // Dropout off so that two calls see the same network (batch norm in training is deterministic).
    for (const m of model.modules()) if (m instanceof Dropout) m.training = false;
    const out = model.forwardWithAux(x);
    expect(out.aux).toHaveLength(2);
    const ce = (t: Tensor): number => F.crossEntropy(t, target).item();
    const expected = ce(out.logits) + 0.3 * (ce(out.aux[0] as Tensor) + ce(out.aux[1] as Tensor));
    expect(model.trainingLoss(x, target).item()).toBeCloseTo(expected, 5);
    expect(ce(model.forward(x))).toBeCloseTo(ce(out.logits), 5);
    model.eval();
    expect(model.forwardWithAux(x).aux).toHaveLength(0);
    expect(model.trainingLoss(x, target).item()).toBeCloseTo(ce(model.forward(x)), 5);
  });
});
