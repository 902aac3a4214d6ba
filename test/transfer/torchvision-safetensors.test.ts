// torchvision ResNet-18 and MobileNetV2 state dicts, saved as .safetensors with PyTorch's names,
// load by name into the zoo architectures and reproduce PyTorch's output to 1e-4. The files are
// too big to commit: scripts/golden/torchvision_safetensors.py writes them into a cache directory
// when /usr/bin/python3 has torch and torchvision; otherwise the suite is skipped.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { noGrad } from '../../lib/autograd/grad-mode.js';
import { loadPretrained } from '../../lib/cli/finetune.js';
import { loadSafetensors } from '../../lib/io/safetensors.js';
import { buildModel } from '../../lib/models/index.js';
import { packageRoot } from '../../lib/native.js';
import { Tensor } from '../../lib/tensor/tensor.js';
import { PYTHON, readFloats, torchVersion, torchSkipReason as skipReason } from '../helpers/torchvision.js';

const MODELS = [['resnet18', 'resnet18'], ['mobilenet_v2', 'mobilenetV2']] as const;
const CACHE = join(tmpdir(), 'convkit-torchvision-safetensors');

function ensureWritten(): void {
  const fresh = MODELS.every(([m]) => {
    const meta = join(CACHE, `${m}.json`);
    return existsSync(meta) && (JSON.parse(readFileSync(meta, 'utf8')) as { torch: string }).torch === torchVersion;
  });
  if (fresh) return;
  const run = spawnSync(PYTHON, [join(packageRoot, 'scripts', 'golden', 'torchvision_safetensors.py'), CACHE], { encoding: 'utf8', timeout: 240_000 });
  if (run.status !== 0) throw new Error(`torchvision_safetensors.py failed (${run.status}): ${run.stderr.slice(-2000)}`);
}

function maxAbsDiff(y: Tensor, expected: Float32Array): number {
  let worst = 0;
  for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(y.data[i]! - expected[i]!));
  return worst;
}

describe.skipIf(torchVersion === undefined)(`torchvision state dicts as safetensors ${skipReason}`, () => {
  it('writes the state dicts (cached between runs)', () => {
    ensureWritten();
  }, 300_000);

  for (const [torchName, zooName] of MODELS) {
    it(`${torchName} loads by name into models.${zooName} and matches PyTorch to 1e-4`, async () => {
      ensureWritten();
      const meta = JSON.parse(readFileSync(join(CACHE, `${torchName}.json`), 'utf8')) as { input: number[]; output: number[] };
      const file = join(CACHE, `${torchName}.safetensors`);
      const model = buildModel(zooName);
      const result = model.loadStateDict((await loadSafetensors(file)).tensors); // strict: every name matches
      expect(result).toEqual({ missingKeys: [], unexpectedKeys: [] });
      model.eval();
      const x = new Tensor(readFloats(join(CACHE, `${torchName}.input.bin`)), meta.input);
      const expected = readFloats(join(CACHE, `${torchName}.output.bin`));
      const y = noGrad(() => model.forward(x) as Tensor);
      expect(y.shape).toEqual(meta.output);
      const worst = maxAbsDiff(y, expected);
      console.log(`${torchName}: max abs error ${worst.toExponential(2)}`);
      expect(worst).toBeLessThan(1e-4);
      // The finetune loader reads the same file (the class count from the head's shape).
      const loaded = await loadPretrained(file, zooName);
      expect(maxAbsDiff(noGrad(() => loaded.model.eval().forward(x) as Tensor), expected)).toBeLessThan(1e-4);
    }, 120_000);
  }
});
