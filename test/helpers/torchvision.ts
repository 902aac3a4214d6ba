// Shared by the tests that compare with models PyTorch writes at test time (Debian python3-torch and
// python3-torchvision, /usr/bin/python3): whether they are there, and reading their raw float32 files.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';

export const PYTHON = '/usr/bin/python3';

const probe = existsSync(PYTHON) ? spawnSync(PYTHON, ['-c', 'import torch, torchvision; print(torch.__version__)'], { encoding: 'utf8' }) : undefined;
/** torch's version, or undefined when torch and torchvision cannot be imported. */
export const torchVersion = probe?.status === 0 ? probe.stdout.trim() : undefined;
/** Appended to a describe title: why it is skipped, or nothing. */
export const torchSkipReason = torchVersion === undefined ? `skipped: ${PYTHON} with torch and torchvision is not available` : '';

/** A little-endian float32 file as a Float32Array. */
export function readFloats(path: string): Float32Array {
  const b = readFileSync(path);
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}
