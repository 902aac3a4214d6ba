/**
 * The addon, loaded once. Nothing above this file touches the binding directly except through the
 * typed wrappers in lib/ops and lib/runtime.ts. Every call goes through {@link callNative}, which
 * turns a native error into a typed ConvkitError carrying the caller's stack.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NativeLoadError, fromNative } from './errors.js';

export interface NativeInfo {
  isa: 'scalar' | 'avx2' | 'avx512';
  isaSupported: Record<'scalar' | 'avx2' | 'avx512', boolean>;
  isaCompiled: Record<'scalar' | 'avx2' | 'avx512', boolean>;
  threads: number;
  openmp: boolean;
  procs: number;
  cpu: string;
  gemmUkernel: string;
  workspaceBytes: number;
  /** Whether glibc's allocator was tuned to keep freed tensor buffers for reuse (see runtime/memory.h). */
  mallocTuned: boolean;
}

export interface NativeAddon {
  info(): NativeInfo;
  getIsa(): string;
  setIsa(name: string): void;
  getNumThreads(): number;
  setNumThreads(n: number): void;
  _gemm(
    transA: boolean,
    transB: boolean,
    m: number,
    n: number,
    k: number,
    alpha: number,
    a: Float32Array,
    aOffset: number,
    lda: number,
    b: Float32Array,
    bOffset: number,
    ldb: number,
    beta: number,
    c: Float32Array,
    cOffset: number,
    ldc: number,
    biasMode: 0 | 1 | 2,
    bias: Float32Array | null,
    relu: boolean,
    isa: string | null,
    threads: number | null,
  ): void;
  _fmaPeak(isa: string, threads: number): number;
  _clockGhz(): number;
}

/** The package root: lib/ (sources under vitest) and dist/ (compiled) both sit directly below it. */
export const packageRoot = join(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * Spin iterations of an idle OpenMP thread before it sleeps, unless the user set GOMP_SPINCOUNT or
 * OMP_WAIT_POLICY. With libgomp's default (300,000) the team's other thread burned 7.5 ms of CPU in
 * every 20 ms pause after a kernel, against 2.2 ms with 10,000: a core taken from sharp's decoding
 * threads while `predictFolder` waits for the next batch, or from the event loop. Folder prediction
 * against onnxruntime (MobileNetV2): 0.80-0.89x with the default, 0.88-1.02x with 10,000 in this
 * machine's noise; whole-model training and inference rows moved within noise either way. libgomp
 * reads the variable once, when the addon (its first OpenMP user) loads.
 */
export const DEFAULT_GOMP_SPINCOUNT = '10000';

/** Sets GOMP_SPINCOUNT in `env` unless the user chose a spin count or a wait policy. */
export function applyOpenMpDefaults(env: Record<string, string | undefined>): void {
  if (env['GOMP_SPINCOUNT'] === undefined && env['OMP_WAIT_POLICY'] === undefined) {
    env['GOMP_SPINCOUNT'] = DEFAULT_GOMP_SPINCOUNT;
  }
}

function load(): NativeAddon {
  const require = createRequire(import.meta.url);
  applyOpenMpDefaults(process.env);
  const candidates = [
    process.env['CONVKIT_ADDON'],
    join(packageRoot, 'build', 'Release', 'convkit.node'),
    join(packageRoot, 'build-cmake', 'Release', 'convkit.node'),
  ].filter((p): p is string => p !== undefined && p !== '');
  const failures: string[] = [];
  for (const path of candidates) {
    if (!existsSync(path)) {
      failures.push(`${path}: not found`);
      continue;
    }
    try {
      return require(path) as NativeAddon;
    } catch (err) {
      failures.push(`${path}: ${(err as Error).message}`);
    }
  }
  throw new NativeLoadError(
    `Could not load the convkit native addon.\n${failures.map((f) => `  - ${f}`).join('\n')}\n` +
      'Possible solutions:\n  - Run `npm install` (or `npm run build`) in the convkit package to compile it\n' +
      '  - Check that a C++17 compiler, make and python3 are installed (node-gyp needs them)',
  );
}

let addon: NativeAddon | undefined;

/** The loaded addon (loaded on first use). */
export function native(): NativeAddon {
  addon ??= load();
  return addon;
}

/** Calls into the addon, rethrowing native errors as typed errors with the caller's stack. */
export function callNative<T>(fn: (addon: NativeAddon) => T): T {
  const a = native();
  try {
    return fn(a);
  } catch (err) {
    throw fromNative(err);
  }
}
