/**
 * Peers measured in the same run as convkit: Python scripts under scripts/peers/ run by Debian's
 * /usr/bin/python3 (numpy + OpenBLAS, PyTorch). A missing peer is reported, never fatal.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../native.js';

export const PYTHON = process.env['CONVKIT_PEER_PYTHON'] ?? '/usr/bin/python3';

export type PeerResult<T> = { ok: true; value: T } | { ok: false; reason: string };

/** True when `python -c "import <module>"` succeeds. */
export function pythonHas(module: string): boolean {
  if (!existsSync(PYTHON)) return false;
  return spawnSync(PYTHON, ['-c', `import ${module}`], { stdio: 'ignore' }).status === 0;
}

/** Runs scripts/peers/<script> and parses the JSON it prints on its last stdout line. */
export function runPeer<T>(script: string, args: string[], env: Record<string, string> = {}): PeerResult<T> {
  if (!existsSync(PYTHON)) return { ok: false, reason: `${PYTHON} not found` };
  const r = spawnSync(PYTHON, [join(packageRoot, 'scripts', 'peers', script), ...args], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.status !== 0) {
    const why = (r.stderr ?? '').trim().split('\n').slice(-1)[0] ?? `exit ${r.status}`;
    return { ok: false, reason: `${script}: ${why}` };
  }
  const last = r.stdout.trim().split('\n').slice(-1)[0] ?? '';
  try {
    return { ok: true, value: JSON.parse(last) as T };
  } catch {
    return { ok: false, reason: `${script}: unreadable output` };
  }
}
