// The README's nn/models/optim example, run as written (so the README stays true).
import { expect, it } from 'vitest';
import { F, models, nn, optim, randn } from '../../lib/index.js';

it('README: fine-tuning step with groups, freezing, a new head, clipping, a schedule, summary and JSON', () => {
  const model = models.resnet18({ numClasses: 10 });
  model.getModule('layer1').freeze();
  model.replaceModule('fc', new nn.Linear(512, 5));
  const opt = new optim.SGD(
    [{ params: model.getModule('fc').parameters(), lr: 0.1 }, { params: model.getModule('layer4').parameters() }],
    { lr: 0.01, momentum: 0.9, weightDecay: 5e-4 },
  );
  const sched = new optim.CosineAnnealingLR(opt, { tMax: 100 });

  const x = randn([16, 3, 64, 64]);
  const target = Array.from({ length: 16 }, (_, i) => i % 5);
  const fcBefore = Array.from((model.getModule('fc') as nn.Linear).weight.data);
  const layer1Before = Array.from(model.getModule('layer1').parameters()[0]!.data);
  const loss = F.crossEntropy(model.forward(x), target);
  opt.zeroGrad();
  loss.backward();
  optim.clipGradNorm(model.parameters(), 5);
  opt.step();
  sched.step();

  expect(Array.from((model.getModule('fc') as nn.Linear).weight.data)).not.toEqual(fcBefore);
  expect(Array.from(model.getModule('layer1').parameters()[0]!.data)).toEqual(layer1Before);
  expect(model.getModule('layer1').parameters()[0]!.grad).toBeNull();
  expect(opt.paramGroups[0]!.lr).toBeLessThan(0.1);

  const text = nn.summary(model, [3, 64, 64]).text;
  expect(text).toContain('frozen');
  const sd = model.stateDict();
  expect(sd.has('layer1.0.bn1.running_mean')).toBe(true);
  const rebuilt = nn.moduleFromJSON(model.toJSON());
  rebuilt.loadStateDict(sd);
  model.eval();
  rebuilt.eval();
  expect(Array.from(rebuilt.forward(x).data)).toEqual(Array.from(model.forward(x).data));
});
