/** The package root exports the tensor library next to the existing modules. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as ck from '../../lib/index.js';

describe('package root', () => {
  it('exports the tensor API', () => {
    const names = ['Tensor', 'tensor', 'zeros', 'ones', 'full', 'arange', 'rand', 'randn', 'Generator', 'manualSeed',
      'reshape', 'view', 'transpose', 'permute', 'add', 'sub', 'mul', 'div', 'sum', 'mean', 'max', 'matmul'];
    for (const name of names) expect(typeof (ck as Record<string, unknown>)[name], name).toBe('function');
  });

  it('re-exports errors, runtime and gemm', () => {
    const names = ['ConvkitError', 'ShapeError', 'ArgumentError', 'invalidArgument', 'getNumThreads', 'setNumThreads',
      'getIsa', 'setIsa', 'supportedIsas', 'runtimeInfo', 'gemm'];
    for (const name of names) {
      expect(typeof (ck as Record<string, unknown>)[name], name).toBe('function');
    }
    expect(ck.ISAS).toEqual(['scalar', 'avx2', 'avx512']);
  });

  it('version comes from package.json', () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(ck.version).toBe(pkg.version);
  });
});
