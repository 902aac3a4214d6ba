/** `convkit info`: version, instruction-set path, threads, OpenMP. */
import { version } from '../version.js';
import { runtimeInfo } from '../runtime.js';

export interface InfoReport {
  version: string;
  node: string;
  platform: string;
  arch: string;
  cpu: string;
  isa: string;
  isaSupported: Record<string, boolean>;
  isaForced: string | null;
  threads: number;
  procs: number;
  openmp: boolean;
  gemmUkernel: string;
}

export function infoReport(): InfoReport {
  const r = runtimeInfo();
  const forced = process.env['CONVKIT_ISA'];
  return {
    version,
    node: process.version,
    platform: process.platform,
    arch: process.arch,
    cpu: r.cpu,
    isa: r.isa,
    isaSupported: r.isaSupported,
    isaForced: forced !== undefined && forced !== '' && forced !== 'auto' ? forced : null,
    threads: r.threads,
    procs: r.procs,
    openmp: r.openmp,
    gemmUkernel: r.gemmUkernel,
  };
}

export function formatInfo(r: InfoReport): string {
  const supported = Object.entries(r.isaSupported).map(([k, v]) => `${k}${v ? '' : ' (unavailable)'}`).join(', ');
  return [
    `convkit ${r.version} (Node ${r.node}, ${r.platform}-${r.arch})`,
    `cpu:      ${r.cpu}`,
    `isa:      ${r.isa}${r.isaForced !== null ? ' (forced by CONVKIT_ISA)' : ' (best available)'}; paths: ${supported}`,
    `threads:  ${r.threads} of ${r.procs} processors (CONVKIT_NUM_THREADS or setNumThreads to change)`,
    `openmp:   ${r.openmp ? 'on' : 'off'}`,
    `gemm:     ${r.gemmUkernel}`,
  ].join('\n');
}
