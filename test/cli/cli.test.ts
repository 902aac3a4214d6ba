// The `convkit` command, run as a user runs it (node dist/cli/main.js, compiled by npm test).
import { spawnSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../../lib/native.js';

const cli = join(packageRoot, 'dist', 'cli', 'main.js');
function run(args: string[], env: Record<string, string> = {}) {
  return spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', env: { ...process.env, ...env } });
}

describe('the convkit bin', () => {
  it('is executable after the build (npx runs it directly)', () => {
    expect(statSync(cli).mode & 0o111).toBe(0o111);
  });
});

describe('convkit info', () => {
  it('--json reports version, path, threads and OpenMP', () => {
    const r = run(['info', '--json']);
    expect(r.status).toBe(0);
    const info = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(info['version']).toMatch(/^\d+\.\d+\.\d+/);
    expect(['scalar', 'avx2', 'avx512']).toContain(info['isa']);
    expect(info['threads']).toBeGreaterThanOrEqual(1);
    expect(typeof info['openmp']).toBe('boolean');
  });
  it('honours CONVKIT_ISA and CONVKIT_NUM_THREADS', () => {
    const info = JSON.parse(run(['info', '--json'], { CONVKIT_ISA: 'scalar', CONVKIT_NUM_THREADS: '3' }).stdout) as Record<string, unknown>;
    expect(info['isa']).toBe('scalar');
    expect(info['isaForced']).toBe('scalar');
    expect(info['threads']).toBe(3);
    expect(info['gemmUkernel']).toBe('f32_gemm_ukernel_4x8__scalar');
  });
  it('a bad CONVKIT_ISA is a one-line error, not a crash', () => {
    const r = run(['info'], { CONVKIT_ISA: 'sse9' });
    expect(r.status).toBe(1);
    expect(r.stderr.trim()).toBe("convkit: CONVKIT_ISA: Invalid instruction set 'sse9': expected one of scalar, avx2, avx512");
  });
  it('prints a human-readable summary', () => {
    const r = run(['info']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^convkit \d+\.\d+\.\d+/);
    expect(r.stdout).toMatch(/openmp: +(on|off)/);
  });
});

describe('convkit argument errors', () => {
  it('unknown command and unknown suite exit non-zero with a reason', () => {
    const a = run(['frobnicate']);
    expect(a.status).not.toBe(0);
    expect(a.stderr).toContain("unknown command 'frobnicate'");
    const b = run(['bench', 'nosuch']);
    expect(b.status).toBe(1);
    expect(b.stderr.trim()).toBe("convkit: unknown bench suite 'nosuch' (available: gemm, conv, train, pipeline)");
    const c = run(['bench', '--threads', 'two']);
    expect(c.status).not.toBe(0);
    expect(c.stderr).toContain("expected a comma-separated list of thread counts such as 1,2; received 'two'");
  });
  it('--help works on each command', () => {
    for (const args of [['--help'], ['info', '--help'], ['bench', '--help']]) {
      const r = run(args);
      expect(r.status, args.join(' ')).toBe(0);
      expect(r.stdout).toContain('Usage: convkit');
    }
  });
});

describe('convkit bench', () => {
  it('runs the gemm suite and reports GFLOP/s and roof fraction (no peers, quick)', () => {
    // A functional check of the benchmark plumbing, not a timing assertion.
    const r = run(['bench', 'gemm', '--quick', '--no-peers', '--threads', '1', '--json']);
    expect(r.status, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as { gemm: { rows: Array<{ gflops: number; roofFraction: number; ratio: number | null }> } };
    expect(report.gemm.rows.length).toBeGreaterThan(0);
    for (const row of report.gemm.rows) {
      expect(row.gflops).toBeGreaterThan(0);
      expect(row.roofFraction).toBeGreaterThan(0);
      expect(row.ratio).toBeNull();
    }
  }, 120_000);
});

describe('convkit summary', () => {
  it('prints the notes volumes of AlexNet and its total', () => {
    const r = run(['summary', 'alexnet']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('55x55x96');
    expect(r.stdout).toContain('13x13x384');
    expect(r.stdout).toContain('total params: 60,965,224');
  });
  it('--json with options gives rows and totals', () => {
    const r = run(['summary', 'resnet18', '--input', '1,32,32', '--in-channels', '1', '--num-classes', '10', '--json']);
    expect(r.status).toBe(0);
    const s = JSON.parse(r.stdout) as { rows: { name: string; outputShape: number[] }[]; totals: { params: number } };
    expect(s.rows[0]?.name).toBe('conv1');
    expect(s.rows[0]?.outputShape).toEqual([1, 64, 16, 16]);
    expect(s.rows.at(-1)?.outputShape).toEqual([1, 10]);
    expect(s.totals.params).toBe(11_689_512 - 513_000 + 5_130 - 64 * 2 * 49);
  });
  it('an unknown model is a one-line error listing the known ones', () => {
    const r = run(['summary', 'resnet19']);
    expect(r.status).toBe(1);
    expect(r.stderr.trim()).toBe(
      "convkit: unknown model 'resnet19'; known models: lenet5, alexnet, zfnet, vgg11, vgg16, resnet18, resnet34, resnet50, googlenet, mobilenetV2, cifarNet",
    );
  });
});
