/**
 * Process-wide runtime settings: the instruction-set path and the one thread budget.
 * Initial values come from CONVKIT_ISA (scalar | avx2 | avx512) and CONVKIT_NUM_THREADS.
 */
import { invalidArgument } from './errors.js';
import { callNative, type NativeInfo } from './native.js';

export type Isa = 'scalar' | 'avx2' | 'avx512';
export const ISAS: readonly Isa[] = ['scalar', 'avx2', 'avx512'];

/** Number of threads kernels use (one OpenMP team). */
export function getNumThreads(): number {
  return callNative((a) => a.getNumThreads());
}

/**
 * Sets the number of threads kernels use. Several Node worker threads running kernels at once
 * each start a team of this size, so divide the budget between them.
 */
export function setNumThreads(n: number): void {
  if (!Number.isInteger(n) || n < 1 || n > 1024) throw invalidArgument('threads', 'an integer in 1..1024', n);
  callNative((a) => a.setNumThreads(n));
}

/** The instruction-set path kernels take. */
export function getIsa(): Isa {
  return callNative((a) => a.getIsa()) as Isa;
}

/** Forces an instruction-set path; throws UnsupportedCpuError when this CPU cannot run it. */
export function setIsa(isa: Isa): void {
  if (!ISAS.includes(isa)) throw invalidArgument('isa', `one of ${ISAS.join(', ')}`, isa);
  callNative((a) => a.setIsa(isa));
}

/** Instruction-set paths this CPU and build can run, fastest last. */
export function supportedIsas(): Isa[] {
  const info = callNative((a) => a.info());
  return ISAS.filter((isa) => info.isaSupported[isa]);
}

export type RuntimeInfo = NativeInfo;

/** What the native runtime chose: path, threads, OpenMP, CPU. */
export function runtimeInfo(): RuntimeInfo {
  return callNative((a) => a.info());
}
