#!/usr/bin/env node
/**
 * The `convkit` command. Each subcommand lives in its own module; this file only wires the
 * arguments. Bad arguments exit non-zero with a one-line reason; `--help` works on each command.
 */
import { writeFileSync } from 'node:fs';
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { ArgumentError, ConvkitError } from '../errors.js';
import { version } from '../version.js';
import { BENCH_SUITES, runBench } from './bench.js';
import { formatInfo, infoReport } from './info.js';
import { modelSummary, parseShape } from './summary.js';

function threadList(value: string): number[] {
  const list = value.split(',').map((s) => Number(s.trim()));
  if (list.length === 0 || list.some((t) => !Number.isInteger(t) || t < 1 || t > 1024)) {
    throw new InvalidArgumentError(`expected a comma-separated list of thread counts such as 1,2; received '${value}'`);
  }
  return list;
}

function positiveInt(value: string, flag: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`${flag} expects a positive integer; received '${value}'`);
  return n;
}

const program = new Command();
program
  .name('convkit')
  .description('Deep-learning runtime for Node.js: fast CPU kernels, tensors, training and inference.')
  .version(version)
  .showHelpAfterError('(run with --help for usage)')
  .exitOverride();

program
  .command('info')
  .description('print the version, instruction-set path, threads and OpenMP status')
  .option('--json', 'print JSON for scripts')
  .action((opts: { json?: boolean }) => {
    const r = infoReport();
    console.log(opts.json === true ? JSON.stringify(r, null, 2) : formatInfo(r));
  });

program
  .command('summary')
  .description('print a zoo model\'s layers: output volumes (HxWxC and NCHW), parameters, totals')
  .argument('<model>', 'zoo model name (lenet5, alexnet, zfnet, vgg11, vgg16, resnet18, resnet34, resnet50, googlenet, mobilenetV2)')
  .option('--input <shape>', 'input shape without the batch, e.g. 3,224,224 (default: the model\'s usual size)')
  .option('--num-classes <n>', 'classifier outputs', (v: string) => positiveInt(v, '--num-classes'))
  .option('--in-channels <n>', 'input channels', (v: string) => positiveInt(v, '--in-channels'))
  .option('--json', 'print JSON (rows and totals)')
  .action((model: string, opts: { input?: string; numClasses?: number; inChannels?: number; json?: boolean }) => {
    const s = modelSummary(model, {
      input: opts.input === undefined ? undefined : parseShape(opts.input),
      numClasses: opts.numClasses,
      inChannels: opts.inChannels,
    });
    if (opts.json === true) {
      console.log(JSON.stringify({ model, inputShape: s.inputShape, rows: s.rows, totals: s.totals }, null, 2));
    } else {
      console.log(s.text);
    }
  });

program
  .command('bench')
  .description(`measure kernels against peers in the same run (suites: ${BENCH_SUITES.join(', ')})`)
  .argument('[suites...]', 'suites to run', ['gemm'])
  .option('--threads <list>', 'thread counts to measure', threadList, [1, 2])
  .option('--quick', 'shorter timing (0.1 s per row instead of 0.5 s; fewer steps for train)')
  .option('--rows <list>', 'train suite: rows to run, by id or prefix (lenet5,cifar,resnet18,mobilenetv2,leak)', (v: string) => v.split(',').map((s) => s.trim()).filter((s) => s !== ''))
  .option('--no-peers', 'skip the peers (numpy/OpenBLAS, PyTorch, onnxruntime-node)')
  .option('--json', 'print the report as JSON')
  .option('--out <file>', 'also write the JSON report to a file')
  .action((suites: string[], opts: { threads: number[]; quick?: boolean; rows?: string[]; peers: boolean; json?: boolean; out?: string }) => {
    const unknown = suites.filter((s) => !BENCH_SUITES.includes(s));
    if (unknown.length > 0) {
      throw new ArgumentError(`unknown bench suite '${unknown[0]}' (available: ${BENCH_SUITES.join(', ')})`);
    }
    const report = runBench(suites, {
      threads: opts.threads,
      minSeconds: opts.quick === true ? 0.1 : 0.5,
      peers: opts.peers,
      json: opts.json === true,
      quick: opts.quick === true,
      rows: opts.rows,
    });
    if (opts.out !== undefined) writeFileSync(opts.out, `${JSON.stringify(report, null, 2)}\n`);
  });

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof ConvkitError) {
    console.error(`convkit: ${err.message}`);
    process.exitCode = 1;
  } else if (err instanceof CommanderError) {
    // --help and --version exit 0; usage errors were already printed by commander.
    process.exitCode = err.exitCode;
  } else {
    throw err;
  }
}
