// torchvision ResNet-18, MobileNetV2 and GoogLeNet exported by torch.onnx (opset 13, batch norm
// folded as in any real export) run through loadOnnx and match PyTorch to 1e-4. The models are
// too big to commit: scripts/golden/onnx_models.py writes them into a cache directory when
// /usr/bin/python3 has torch and torchvision; otherwise the suite is skipped.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { noGrad } from '../../lib/autograd/grad-mode.js';
import { loadOnnx } from '../../lib/io/onnx/index.js';
import { packageRoot } from '../../lib/native.js';
import { Tensor } from '../../lib/tensor/tensor.js';
import { PYTHON, readFloats, torchVersion, torchSkipReason as skipReason } from '../helpers/torchvision.js';

const MODELS = ['resnet18', 'mobilenet_v2', 'googlenet'];
const CACHE = join(tmpdir(), 'convkit-onnx-torchvision');

function ensureExported(): void {
  const fresh = MODELS.every((m) => {
    const meta = join(CACHE, `${m}.json`);
    return existsSync(meta) && (JSON.parse(readFileSync(meta, 'utf8')) as { torch: string }).torch === torchVersion;
  });
  if (fresh) return;
  const run = spawnSync(PYTHON, [join(packageRoot, 'scripts', 'golden', 'onnx_models.py'), 'torchvision', CACHE], { encoding: 'utf8', timeout: 240_000 });
  if (run.status !== 0) throw new Error(`onnx_models.py failed (${run.status}): ${run.stderr.slice(-2000)}`);
}

describe.skipIf(torchVersion === undefined)(`torchvision models exported to ONNX ${skipReason}`, () => {
  it('exports the models (cached between runs)', () => {
    ensureExported();
  }, 300_000);

  for (const name of MODELS) {
    it(`${name} matches PyTorch to 1e-4`, () => {
      ensureExported();
      const meta = JSON.parse(readFileSync(join(CACHE, `${name}.json`), 'utf8')) as { input: number[]; output: number[] };
      const model = loadOnnx(join(CACHE, `${name}.onnx`));
      expect(model.numParameters()).toBeGreaterThan(1_000_000);
      const x = new Tensor(readFloats(join(CACHE, `${name}.input.bin`)), meta.input);
      const expected = readFloats(join(CACHE, `${name}.output.bin`));
      const y = noGrad(() => model.forward(x)) as Tensor;
      expect(y.shape).toEqual(meta.output);
      let worst = 0;
      for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(y.data[i]! - expected[i]!));
      console.log(`${name}: max abs error ${worst.toExponential(2)} (outputs up to ${Math.max(...Array.from(expected, Math.abs)).toFixed(3)})`);
      expect(worst).toBeLessThan(1e-4);
    }, 120_000);
  }
});
