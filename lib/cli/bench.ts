/** `convkit bench <suite...>`: each suite prints its table (or JSON) and returns its report. */
import { benchConv, formatConvReport, type ConvBenchReport } from '../bench/conv.js';
import { benchGemm, formatGemmReport, type GemmBenchReport } from '../bench/gemm.js';
import { benchPipeline, formatPipelineReport, type PipelineBenchReport } from '../bench/pipeline.js';
import { benchTrain, formatTrainReport, type TrainBenchReport } from '../bench/train.js';

export const BENCH_SUITES = ['gemm', 'conv', 'train', 'pipeline'];

type SuiteReport = GemmBenchReport | ConvBenchReport | TrainBenchReport | PipelineBenchReport;

export interface BenchOptions {
  threads: number[];
  minSeconds: number;
  peers: boolean;
  json: boolean;
  /** Fewer steps (train suite). */
  quick?: boolean;
  /** Row ids to run (train suite). */
  rows?: string[];
}

export async function runBench(suites: string[], opts: BenchOptions): Promise<Record<string, SuiteReport>> {
  const reports: Record<string, SuiteReport> = {};
  const progress = (m: string) => {
    if (!opts.json && process.stderr.isTTY) process.stderr.write(`\r\x1b[K${m}`);
  };
  for (const suite of suites) {
    if (suite === 'gemm') {
      const r = benchGemm({ threads: opts.threads, minSeconds: opts.minSeconds, peers: opts.peers, onProgress: progress });
      if (process.stderr.isTTY && !opts.json) process.stderr.write('\r\x1b[K');
      reports[suite] = r;
      if (!opts.json) console.log(`${formatGemmReport(r)}\n`);
    } else if (suite === 'conv') {
      // The conv suite runs at 2 threads; --threads picks the last count given.
      const threads = opts.threads[opts.threads.length - 1] ?? 2;
      const r = benchConv({ threads, minSeconds: opts.minSeconds, peers: opts.peers, onProgress: progress });
      if (process.stderr.isTTY && !opts.json) process.stderr.write('\r\x1b[K');
      reports[suite] = r;
      if (!opts.json) console.log(`${formatConvReport(r)}\n`);
    } else if (suite === 'train') {
      // Whole models at 2 threads, as the conv suite: --threads picks the last count given.
      const threads = opts.threads[opts.threads.length - 1] ?? 2;
      const r = benchTrain({ threads, quick: opts.quick ?? false, peers: opts.peers, rows: opts.rows, onProgress: progress });
      if (process.stderr.isTTY && !opts.json) process.stderr.write('\r\x1b[K');
      reports[suite] = r;
      if (!opts.json) console.log(`${formatTrainReport(r)}\n`);
    } else if (suite === 'pipeline') {
      const threads = opts.threads[opts.threads.length - 1] ?? 2;
      const r = await benchPipeline({ threads, quick: opts.quick ?? false, peers: opts.peers, onProgress: progress });
      if (process.stderr.isTTY && !opts.json) process.stderr.write('\r\x1b[K');
      reports[suite] = r;
      if (!opts.json) console.log(`${formatPipelineReport(r)}\n`);
    }
  }
  if (opts.json) console.log(JSON.stringify(reports, null, 2));
  return reports;
}
