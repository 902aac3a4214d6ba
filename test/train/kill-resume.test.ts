// A real child process running fit is killed with SIGTERM mid-epoch: it saves last.safetensors
// and exits 0; resumed in a new process, its per-step losses match an uninterrupted run's.
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCheckpoint } from '../../lib/train/index.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CHILD = ['--import', './test/train/fixtures/register-ts.mjs', './test/train/fixtures/fit-child.ts'];

interface ChildRun {
  code: number | null;
  steps: Map<number, number>;
  done: { interrupted: boolean; position: { epoch: number; batch: number }; epochs: number } | null;
  stderr: string;
}

/** Runs the child; sends SIGTERM once it has printed step `killAt` (if given). */
function runChild(args: string[], killAt?: number): Promise<ChildRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...CHILD, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    const steps = new Map<number, number>();
    let done: ChildRun['done'] = null;
    let stderr = '';
    let buffer = '';
    let killed = false;
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      buffer += chunk;
      let nl;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        const m = /^STEP (\d+) (.+)$/.exec(line);
        if (m) {
          steps.set(Number(m[1]), JSON.parse(m[2]!) as number);
          if (killAt !== undefined && Number(m[1]) >= killAt && !killed) {
            killed = true;
            child.kill('SIGTERM');
          }
        } else if (line.startsWith('DONE ')) done = JSON.parse(line.slice(5)) as ChildRun['done'];
      }
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, steps, done, stderr });
    });
  });
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'convkit-kill-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('SIGTERM mid-epoch, then resume in a new process', () => {
  it('exits 0 with a mid-epoch checkpoint, and the resumed losses match an uninterrupted run', async () => {
    const [reference, killed] = await Promise.all([runChild([join(dir, 'ref')]), runChild([join(dir, 'run'), 'fresh', '40'], 8)]);
    expect(reference.code, reference.stderr).toBe(0);
    expect(reference.steps.size).toBe(18);
    expect(killed.code, killed.stderr).toBe(0);
    expect(killed.done?.interrupted).toBe(true);
    expect(killed.stderr).toMatch(/SIGTERM: finishing the current step/);
    const stoppedAt = killed.done!.position;
    expect(stoppedAt.epoch).toBe(1);
    expect(stoppedAt.batch).toBeGreaterThan(0);
    expect(stoppedAt.batch).toBeLessThan(6);
    const ckpt = await loadCheckpoint(join(dir, 'run'));
    expect(ckpt.meta.position).toEqual(stoppedAt);

    const resumed = await runChild([join(dir, 'run'), 'resume']);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.done).toEqual({ interrupted: false, position: { epoch: 3, batch: 0 }, epochs: 3 });
    const firstResumed = Math.min(...resumed.steps.keys());
    expect(firstResumed).toBe(killed.steps.size + 1);
    const all = new Map([...killed.steps, ...resumed.steps]);
    expect(all.size).toBe(18);
    for (const [step, loss] of reference.steps) expect(Math.abs(all.get(step)! - loss), `step ${step}`).toBeLessThanOrEqual(1e-6);
  });
});
