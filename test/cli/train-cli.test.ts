// `convkit demo`, `train`, `predict` and `evaluate`, run as a user runs them (node dist/cli/main.js).
// The demo's predictions over its exported PNG files are checked against the trained model's own
// forward pass on the same IDX samples: the image path (sharp decode + the checkpoint's recorded
// preprocessing) must reproduce the training input exactly, so the top-1 classes must agree.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { noGrad } from '../../lib/autograd/grad-mode.js';
import { loadMnist } from '../../lib/data/idx.js';
import { packageRoot } from '../../lib/native.js';
import { Tensor } from '../../lib/tensor/tensor.js';
import { loadCheckpoint } from '../../lib/train/checkpoint.js';

const cli = join(packageRoot, 'dist', 'cli', 'main.js');
const demoData = join(packageRoot, 'data', 'fashion-mnist-demo');
function run(args: string[]) {
  return spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', env: { ...process.env, CONVKIT_NUM_THREADS: '2' } });
}

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'convkit-cli-train-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('convkit demo', () => {
  it('trains on the bundled data, writes checkpoints, log and report, and classifies exported images', async () => {
    const out = join(dir, 'demo');
    const r = run(['demo', '--epochs', '2', '--out', out, '--progress', 'lines']);
    expect(r.status, r.stderr).toBe(0);
    for (const f of ['best.safetensors', 'last.safetensors', 'log.jsonl', 'report.html', 'loss.png', 'accuracy.svg', 'confusion.png', 'filters.png', 'predictions.jsonl']) {
      expect(existsSync(join(out, f)), f).toBe(true);
    }
    const log = readFileSync(join(out, 'log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { epoch: number; valAccuracy: number });
    expect(log.map((e) => e.epoch)).toEqual([0, 1]);
    // 2 epochs of LeNet-5 on 5,000 images: well above chance (10%).
    expect(log[1]!.valAccuracy).toBeGreaterThan(0.6);
    expect(r.stderr).toMatch(/test accuracy \d+\.\d% on 1000 test images/);
    // Charts count epochs from 1, as the progress lines do (log.jsonl keeps 0-based indices).
    const chart = readFileSync(join(out, 'accuracy.svg'), 'utf8');
    expect(chart).toMatch(/epoch: 1; accuracy: /);
    expect(chart).toMatch(/epoch: 2; accuracy: /);
    expect(chart).not.toMatch(/epoch: 0; /);

    const rows = readFileSync(join(out, 'predictions.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { path: string; top?: { label: string }[]; error?: string });
    expect(rows).toHaveLength(101);
    const broken = rows.filter((row) => row.error !== undefined);
    expect(broken.map((row) => row.path)).toEqual(['truncated.jpg']);
    expect(broken[0]!.error).toMatch(/cannot decode image/);

    const ckpt = await loadCheckpoint(join(out, 'best.safetensors'));
    const test = loadMnist(demoData, { split: 'test', mean: ckpt.meta.preprocess!.mean, std: ckpt.meta.preprocess!.std });
    const model = ckpt.model.eval();
    let agree = 0;
    for (const row of rows.filter((x) => x.top !== undefined)) {
      const index = Number(/test-(\d+)\.png$/.exec(row.path)![1]);
      const { input } = test.get(index);
      const logits = noGrad(() => (model.forward as (x: Tensor) => Tensor)(new Tensor(input, [1, 1, 28, 28])));
      const best = logits.data.indexOf(Math.max(...logits.data));
      if (test.classes[best] === row.top![0]!.label) agree++;
    }
    expect(agree).toBe(100);
  }, 120_000);
});

describe('convkit train / evaluate / predict on an image folder', () => {
  it('trains from PNG class folders, resumes to more epochs, evaluates and predicts', () => {
    // A 3-class image folder from the demo's exported PNGs would need the demo; make one from IDX.
    const folder = join(dir, 'folder');
    const make = spawnSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `import sharp from 'sharp'; import { mkdirSync } from 'node:fs';
         import { loadMnist } from ${JSON.stringify(join(packageRoot, 'dist', 'data', 'idx.js'))};
         const d = loadMnist(${JSON.stringify(demoData)}, { split: 'train' });
         const want = ['Trouser', 'Bag', 'Sneaker']; let n = 0;
         for (let i = 0; i < 600 && n < 150; i++) {
           const { input, label } = d.get(i); const name = d.classes[label];
           if (!want.includes(name)) continue; n++;
           mkdirSync(${JSON.stringify(folder)} + '/' + name, { recursive: true });
           await sharp(Buffer.from(Uint8Array.from(input, (v) => Math.round(v * 255))), { raw: { width: 28, height: 28, channels: 1 } })
             .png().toFile(${JSON.stringify(folder)} + '/' + name + '/' + i + '.png');
         }`,
      ],
      { cwd: packageRoot, encoding: 'utf8' },
    );
    expect(make.status, make.stderr).toBe(0);
    const out = join(dir, 'run');
    const args = ['train', '--model', 'lenet5', '--data', folder, '--batch-size', '16', '--lr', '0.02', '--out', out, '--progress', 'none', '--scheduler', 'none'];
    const first = run([...args, '--epochs', '1']);
    expect(first.status, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/^accuracy \d+\.\d+% \(top-5 100\.00%\) on \d+ images; report: /m);
    const second = run([...args, '--epochs', '3', '--resume']);
    expect(second.status, second.stderr).toBe(0);
    const log = readFileSync(join(out, 'log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { epoch: number });
    expect(log.map((e) => e.epoch)).toEqual([0, 1, 2]);
    // A cosine schedule cannot be stretched by a resume: refused with the way out.
    const cosineOut = join(dir, 'cosine');
    expect(run(['train', '--model', 'lenet5', '--data', folder, '--epochs', '1', '--out', cosineOut, '--progress', 'none']).status).toBe(0);
    const stretched = run(['train', '--model', 'lenet5', '--data', folder, '--epochs', '2', '--out', cosineOut, '--resume']);
    expect(stretched.status).toBe(1);
    expect(stretched.stderr.trim()).toBe(
      `convkit: --resume: the run in ${cosineOut} was started with --epochs 1 and a cosine schedule laid out over them; resume with --epochs 1, or start runs you mean to extend with --scheduler none`,
    );

    const ev = run(['evaluate', '--model', join(out, 'last.safetensors'), '--data', folder, '--json']);
    expect(ev.status, ev.stderr).toBe(0);
    const report = JSON.parse(ev.stdout) as { accuracy: number; count: number; classes: string[]; confusionMatrix: number[][] };
    expect(report.classes).toEqual(['Bag', 'Sneaker', 'Trouser']);
    expect(report.count).toBe(readdirSync(folder).reduce((n, c) => n + readdirSync(join(folder, c)).length, 0));
    expect(report.confusionMatrix.flat().reduce((a, b) => a + b, 0)).toBe(report.count);
    // Three easy classes after 3 epochs.
    expect(report.accuracy).toBeGreaterThan(0.8);

    const csv = join(dir, 'pred.csv');
    const pr = run(['predict', '--model', out, '--input', folder, '--output', csv, '--top-k', '2']);
    expect(pr.status, pr.stderr).toBe(0);
    expect(pr.stderr).toMatch(/\d+ images classified, 0 unreadable .* images\/s/);
    const lines = readFileSync(csv, 'utf8').trim().split('\n');
    expect(lines[0]).toBe('path,label1,prob1,label2,prob2,error');
    expect(lines).toHaveLength(report.count + 1);
    // Rerunning resumes: nothing new to do, nothing duplicated.
    const again = run(['predict', '--model', out, '--input', folder, '--output', csv, '--top-k', '2']);
    expect(again.stderr).toMatch(new RegExp(`0 images classified, 0 unreadable \\(error rows\\), ${report.count} already in`));
    expect(readFileSync(csv, 'utf8').trim().split('\n')).toHaveLength(report.count + 1);

    // A convkit checkpoint is a pretrained model too: finetune it (new head on cached features), then predict with the result.
    const ft = join(dir, 'ft');
    const fine = run(['finetune', '--from', join(out, 'last.safetensors'), '--data', folder, '--epochs', '2', '--out', ft, '--cache-dir', join(dir, 'cache'), '--progress', 'none']);
    expect(fine.status, fine.stderr).toBe(0);
    expect(fine.stdout).toMatch(/^accuracy \d+\.\d+% on \d+ images; features cached; model: .*model\.safetensors$/m);
    // The run folder: predict takes its model.safetensors (best/last hold only the head trained on cached features).
    const ftPred = run(['predict', '--model', ft, '--input', folder, '--output', join(dir, 'ft.jsonl')]);
    expect(ftPred.status, ftPred.stderr).toBe(0);
    const ftRows = readFileSync(join(dir, 'ft.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { error?: string });
    expect(ftRows).toHaveLength(report.count);
    expect(ftRows.filter((r) => r.error !== undefined)).toEqual([]);
    // --resume with another --epochs would restart the cosine schedule: refused with the way out.
    const more = run(['finetune', '--from', join(out, 'last.safetensors'), '--data', folder, '--epochs', '3', '--out', ft, '--cache-dir', join(dir, 'cache'), '--progress', 'none', '--resume']);
    expect(more.status).not.toBe(0);
    expect(more.stderr).toMatch(/--resume: the run in .* was started with --epochs 2 and a cosine schedule/);
  }, 180_000);
});

describe('convkit train and SIGTERM', () => {
  it('finishes the step, saves last.safetensors mid-epoch, exits 0; --resume completes the run', async () => {
    const out = join(dir, 'signal');
    const args = [cli, 'train', '--model', 'lenet5', '--data', demoData, '--epochs', '2', '--batch-size', '32', '--out', out, '--progress', 'lines'];
    const child = spawn(process.execPath, args, { env: { ...process.env, CONVKIT_NUM_THREADS: '2' } });
    let stderr = '';
    const sent = new Promise<number>((resolve) => {
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
        // The first progress line: training is under way, in the middle of epoch 1.
        if (/epoch 1\/2 batch \d+\/157/.test(stderr) && !child.killed) {
          child.kill('SIGTERM');
          resolve(Date.now());
        }
      });
    });
    const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    const killedAt = await sent;
    expect(code, stderr).toBe(0);
    expect(Date.now() - killedAt).toBeLessThan(20_000);
    expect(stderr).toMatch(/interrupted; saved .*last\.safetensors \(epoch 1, batch \d+\)/);
    expect(existsSync(join(out, 'last.safetensors'))).toBe(true);
    const resumed = run(['train', '--model', 'lenet5', '--data', demoData, '--epochs', '2', '--batch-size', '32', '--out', out, '--progress', 'none', '--resume']);
    expect(resumed.status, resumed.stderr).toBe(0);
    const log = readFileSync(join(out, 'log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { epoch: number });
    expect(log.map((e) => e.epoch)).toEqual([0, 1]);
  }, 120_000);
});

describe('bad arguments: non-zero exit with a one-line reason', () => {
  it.each([
    [['train', '--model', 'resnet19', '--data', demoData], /^convkit: --model: unknown model 'resnet19'; expected one of lenet5, /],
    [['train', '--model', 'lenet5', '--data', '/nonexistent/x'], /^convkit: detectDataset: \/nonexistent\/x does not exist$/],
    [['train', '--model', 'lenet5', '--data', demoData, '--epochs', '0'], /--epochs expects a positive integer; received '0'/],
    [['train', '--model', 'lenet5', '--data', demoData, '--optimizer', 'lbfgs'], /--optimizer expects one of sgd, adam, adamw; received 'lbfgs'/],
    [['train', '--data', demoData], /required option '--model <name\|arch.json>' not specified/],
    [['predict', '--model', '/nonexistent', '--input', '.', '--output', 'x.jsonl'], /^convkit: --model \/nonexistent: no such file or directory$/],
    [['predict', '--model', '.', '--input', '.', '--output', 'x.txt'], /^convkit: --output x.txt: expected a .jsonl or .csv file name$/],
    [['finetune', '--from', 'x.bin', '--data', demoData], /^convkit: --from x.bin: expected a .onnx file, a TF.js model.json or a .safetensors state dict$/],
  ])('convkit %j', (args, message) => {
    const r = run(args);
    expect(r.status).not.toBe(0);
    expect(r.stderr.trim().split('\n')[0]).toMatch(message);
  });

  it('--help works on each command', () => {
    for (const cmd of ['train', 'predict', 'evaluate', 'demo', 'finetune']) {
      const r = run([cmd, '--help']);
      expect(r.status).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`^Usage: convkit ${cmd} \\[options\\]`));
    }
  });
});
