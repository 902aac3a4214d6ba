/** `convkit bench <suite...>`: each suite prints its table (or JSON) and returns its report. */
import { benchGemm, formatGemmReport, type GemmBenchReport } from '../bench/gemm.js';

export const BENCH_SUITES = ['gemm'];

export interface BenchOptions {
  threads: number[];
  minSeconds: number;
  peers: boolean;
  json: boolean;
}

export function runBench(suites: string[], opts: BenchOptions): Record<string, GemmBenchReport> {
  const reports: Record<string, GemmBenchReport> = {};
  const progress = (m: string) => {
    if (!opts.json && process.stderr.isTTY) process.stderr.write(`\r\x1b[K${m}`);
  };
  for (const suite of suites) {
    if (suite === 'gemm') {
      const r = benchGemm({ threads: opts.threads, minSeconds: opts.minSeconds, peers: opts.peers, onProgress: progress });
      if (process.stderr.isTTY && !opts.json) process.stderr.write('\r\x1b[K');
      reports[suite] = r;
      if (!opts.json) console.log(`${formatGemmReport(r)}\n`);
    }
  }
  if (opts.json) console.log(JSON.stringify(reports, null, 2));
  return reports;
}
