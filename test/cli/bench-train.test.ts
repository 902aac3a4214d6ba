// `convkit bench train`: the plumbing (worker processes, JSON report, row filter), not the timings.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../../lib/native.js';
import { selectTrainRows, TRAIN_BENCH_ROWS, type TrainBenchReport } from '../../lib/bench/train.js';
import { cifarNet } from '../../lib/bench/train-models.js';

const cli = join(packageRoot, 'dist', 'cli', 'main.js');
function run(args: string[]) {
  return spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });
}

describe('convkit bench train', () => {
  it('--quick --no-peers --json --rows lenet5,cifar reports img/s and peak RSS per row', () => {
    const dir = mkdtempSync(join(tmpdir(), 'convkit-bench-train-'));
    try {
      const out = join(dir, 'report.json');
      const r = run(['bench', 'train', '--quick', '--no-peers', '--json', '--rows', 'lenet5,cifar', '--out', out]);
      expect(r.status, r.stderr).toBe(0);
      const { train } = JSON.parse(r.stdout) as { train: TrainBenchReport };
      expect(JSON.parse(readFileSync(out, 'utf8'))).toEqual({ train });
      expect(train.threads).toBe(2);
      expect(train.quick).toBe(true);
      expect(train.peers).toEqual({ torch: 'disabled', ort: 'disabled' });
      expect(train.rows.map((x) => x.id)).toEqual(['lenet5', 'cifar']);
      for (const row of train.rows) {
        expect(row.notes).toEqual([]);
        expect(row.kind).toBe('train');
        expect(row.batch).toBe(64);
        expect(row.convkit).toBeGreaterThan(0);
        expect(row.convkitPeakRssMb).toBeGreaterThan(10);
        expect(Number.isFinite(row.convkitLoss)).toBe(true);
        expect(row.convkitLoss).toBeGreaterThan(0);
        expect([row.torch, row.ort, row.ratio, row.ortRatio, row.torchPeakRssMb]).toEqual([null, null, null, null, null]);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it('an unknown row is a one-line error naming the rows', () => {
    const r = run(['bench', 'train', '--no-peers', '--rows', 'alexnet']);
    expect(r.status).toBe(1);
    expect(r.stderr.trim()).toBe(`convkit: unknown train bench row 'alexnet' (rows: ${TRAIN_BENCH_ROWS.map((x) => x.id).join(', ')})`);
  });
});

describe('bench train rows and models', () => {
  it('selects rows by id and by prefix, in table order', () => {
    expect(selectTrainRows(undefined)).toBe(TRAIN_BENCH_ROWS);
    expect(selectTrainRows(['cifar', 'lenet5']).map((x) => x.id)).toEqual(['lenet5', 'cifar']);
    expect(selectTrainRows(['resnet18']).map((x) => x.id)).toEqual(['resnet18-32', 'resnet18-224', 'resnet18-infer-b1', 'resnet18-infer-b16']);
    expect(selectTrainRows(['mobilenetv2', 'leak']).map((x) => x.id)).toEqual(['mobilenetv2-infer-b1', 'mobilenetv2-infer-b16', 'leak']);
  });

  it('the CIFAR net has the layers of the PyTorch peer (nn.Sequential names and sizes)', () => {
    const net = cifarNet();
    // As torch.nn.Sequential(Conv2d(3,32,3,padding=1), ReLU(), ..., Linear(4096,512), ReLU(), Linear(512,10)).
    expect(net.namedParameters().map(([name, p]) => `${name} ${p.shape.join('x')}`)).toEqual([
      '0.weight 32x3x3x3', '0.bias 32',
      '2.weight 32x32x3x3', '2.bias 32',
      '5.weight 64x32x3x3', '5.bias 64',
      '7.weight 64x64x3x3', '7.bias 64',
      '11.weight 512x4096', '11.bias 512',
      '13.weight 10x512', '13.bias 10',
    ]);
    expect(net.numParameters()).toBe(2_168_362);
  });
});
