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
import type { FinetuneCommandOptions } from './finetune.js';
// The training, prediction and demo commands are imported when they run: they bring the report
// stack (Vega, ~10 MB of JavaScript), and a larger V8 heap makes every garbage collection dearer
// for the commands that do not need it (`bench conv` measured a 1x1/2 layer's forward+backward at
// 14-17 ms with it loaded, 7-8 ms without, from collections its 26 MB gradients trigger).
const runTrain: typeof import('./train.js').runTrain = async (o) => (await import('./train.js')).runTrain(o);
const runPredict: typeof import('./predict.js').runPredict = async (o) => (await import('./predict.js')).runPredict(o);
const runEvaluate: typeof import('./evaluate.js').runEvaluate = async (o) => (await import('./evaluate.js')).runEvaluate(o);
const runFinetune: typeof import('./finetune.js').runFinetune = async (o) => (await import('./finetune.js')).runFinetune(o);
const runDemo: typeof import('./demo.js').runDemo = async (o) => (await import('./demo.js')).runDemo(o);

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

function positiveNumber(value: string, flag: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`${flag} expects a positive number; received '${value}'`);
  return n;
}

function nonNegativeNumber(value: string, flag: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError(`${flag} expects a number >= 0; received '${value}'`);
  return n;
}

function oneOf<T extends string>(values: readonly T[], flag: string): (value: string) => T {
  return (value: string) => {
    if (!values.includes(value as T)) throw new InvalidArgumentError(`${flag} expects one of ${values.join(', ')}; received '${value}'`);
    return value as T;
  };
}

function channelCount(value: string): 1 | 3 {
  if (value !== '1' && value !== '3') throw new InvalidArgumentError(`--channels expects 1 or 3; received '${value}'`);
  return Number(value) as 1 | 3;
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
  .command('train')
  .description('train a model on an image folder, a CSV manifest, MNIST-format IDX files or CIFAR binaries (detected from --data)')
  .requiredOption('--model <name|arch.json>', 'zoo model (lenet5, cifarNet, resnet18, mobilenetV2, ...) or an architecture JSON file')
  .requiredOption('--data <path>', 'dataset: a folder of class subfolders, a .csv manifest (path,label), or a folder of IDX / CIFAR binary files')
  .option('--epochs <n>', 'epochs', (v: string) => positiveInt(v, '--epochs'), 10)
  .option('--batch-size <n>', 'images per step', (v: string) => positiveInt(v, '--batch-size'), 64)
  .option('--lr <x>', 'learning rate', (v: string) => positiveNumber(v, '--lr'), 0.05)
  .option('--optimizer <name>', 'sgd (momentum 0.9), adam or adamw', oneOf(['sgd', 'adam', 'adamw'] as const, '--optimizer'), 'sgd')
  .option('--momentum <x>', 'SGD momentum', (v: string) => nonNegativeNumber(v, '--momentum'))
  .option('--weight-decay <x>', 'weight decay (default 5e-4 for sgd, 0 for adam, 0.01 for adamw)', (v: string) => nonNegativeNumber(v, '--weight-decay'))
  .option('--scheduler <name>', 'learning-rate schedule: cosine (over the epochs) or none', oneOf(['cosine', 'none'] as const, '--scheduler'), 'cosine')
  .option('--augment <list>', 'augmentations, comma-separated: mirror,crop,resized-crop,rotate,shear,warp,color,jitter')
  .option('--image-size <n>', 'input side for image files (default: 28 lenet5, 32 cifarNet, 224 otherwise)', (v: string) => positiveInt(v, '--image-size'))
  .option('--channels <n>', 'input channels for image files: 1 (grey) or 3 (RGB)', channelCount)
  .option('--workers <n>', 'decode/augment worker threads (0: on the main thread)', (v: string) => nonNegativeNumber(v, '--workers'), 0)
  .option('--seed <n>', 'seed of the shuffles, augmentations and dropout', (v: string) => nonNegativeNumber(v, '--seed'), 0)
  .option('--out <dir>', 'checkpoints (last/best.safetensors), log.jsonl and the report', 'convkit-run')
  .option('--resume', 'continue the run in --out from last.safetensors')
  .option('--progress <mode>', 'bar, lines, none or auto (a bar on a terminal)', oneOf(['bar', 'lines', 'none', 'auto'] as const, '--progress'), 'auto')
  .action(async (opts: {
    model: string; data: string; epochs: number; batchSize: number; lr: number; optimizer: 'sgd' | 'adam' | 'adamw';
    momentum?: number; weightDecay?: number; scheduler: 'cosine' | 'none'; augment?: string; imageSize?: number;
    channels?: 1 | 3; workers: number; seed: number; out: string; resume?: boolean; progress: 'bar' | 'lines' | 'none' | 'auto';
  }) => {
    const r = await runTrain({ ...opts, resume: opts.resume === true });
    if (r.evaluation !== null) {
      const e = r.evaluation;
      console.log(`accuracy ${(e.accuracy * 100).toFixed(2)}% (top-5 ${(e.top5 * 100).toFixed(2)}%) on ${e.count} images; report: ${opts.out}/report.html`);
    }
  });

program
  .command('predict')
  .description('classify every image under a folder into a JSON-lines or CSV file (streamed; rerun to resume)')
  .requiredOption('--model <dir|file>', 'a checkpoint (.safetensors) or a training output directory')
  .requiredOption('--input <dir>', 'folder of images (searched recursively)')
  .requiredOption('--output <file>', 'results: FILE.jsonl or FILE.csv (appended to; images already there are skipped)')
  .option('--top-k <k>', 'classes per image', (v: string) => positiveInt(v, '--top-k'), 5)
  .option('--batch-size <n>', 'images per forward pass', (v: string) => positiveInt(v, '--batch-size'), 16)
  .action(async (opts: { model: string; input: string; output: string; topK: number; batchSize: number }) => {
    await runPredict(opts);
  });

program
  .command('evaluate')
  .description('accuracy, per-class precision/recall/F1 and the confusion matrix of a checkpoint on a dataset')
  .requiredOption('--model <dir|file>', 'a checkpoint (.safetensors) or a training output directory')
  .requiredOption('--data <path>', 'dataset (same formats as train; its test split when it has one)')
  .option('--split <name>', 'test or train', oneOf(['test', 'train'] as const, '--split'), 'test')
  .option('--out <dir>', 'also write the report (confusion matrix image, HTML) here')
  .option('--json', 'print JSON')
  .action(async (opts: { model: string; data: string; split: 'test' | 'train'; out?: string; json?: boolean }) => {
    const r = await runEvaluate(opts);
    if (opts.json === true) {
      const { evaluation: e } = r;
      console.log(JSON.stringify({ accuracy: e.accuracy, top5: e.top5, loss: e.loss, count: e.count, classes: r.classes, report: r.report, confusionMatrix: r.matrix }, null, 2));
    } else {
      console.log(r.text);
    }
  });

program
  .command('finetune')
  .description('fine-tune a pretrained model (ONNX, TF.js layers model.json, or a PyTorch-named .safetensors state dict) on a dataset')
  .requiredOption('--from <file>', 'model.onnx, a TF.js layers model.json, or weights.safetensors (with --model)')
  .option('--model <name>', 'zoo architecture a .safetensors state dict loads into by name (resnet18, mobilenetV2, ...)')
  .requiredOption('--data <path>', 'image folder, CSV manifest, MNIST-format IDX or CIFAR binaries')
  .option('--out <dir>', 'run directory (checkpoint, log, report)', 'runs/finetune')
  .option('--epochs <n>', 'epochs', (v: string) => positiveInt(v, '--epochs'), 10)
  .option('--batch-size <n>', 'images per step', (v: string) => positiveInt(v, '--batch-size'), 32)
  .option('--lr <x>', 'head learning rate', (v: string) => positiveNumber(v, '--lr'), 0.01)
  .option('--backbone-lr-scale <x>', 'backbone learning rate as a fraction of --lr', (v: string) => nonNegativeNumber(v, '--backbone-lr-scale'), 0.1)
  .option('--freeze <what>', "'all' (everything but the head), 'none', or the first module to train (e.g. layer4)", 'all')
  .option('--unfreeze <stages>', 'gradual unfreezing: epoch:module[+module],... (1-based), e.g. 3:layer4,5:layer3')
  .option('--cache-features', 'train the head on cached backbone features (default with --freeze all and no --unfreeze)')
  .option('--no-cache-features', 'train through the frozen backbone')
  .option('--cache-dir <dir>', 'feature cache directory (default $XDG_CACHE_HOME or ~/.cache, then convkit/features)')
  .option('--image-size <n>', "input side (default: the imported model's declared input, else 224)", (v: string) => positiveInt(v, '--image-size'))
  .option('--scheduler <name>', 'cosine or none', oneOf(['cosine', 'none'] as const, '--scheduler'), 'cosine')
  .option('--momentum <x>', 'SGD momentum', (v: string) => nonNegativeNumber(v, '--momentum'))
  .option('--weight-decay <x>', 'weight decay', (v: string) => nonNegativeNumber(v, '--weight-decay'))
  .option('--workers <n>', 'decode/augment worker threads', (v: string) => nonNegativeNumber(v, '--workers'), 0)
  .option('--seed <n>', 'seed', (v: string) => nonNegativeNumber(v, '--seed'), 0)
  .option('--resume', 'continue the run in --out from last.safetensors')
  .option('--progress <mode>', 'bar, lines, none or auto', oneOf(['bar', 'lines', 'none', 'auto'] as const, '--progress'), 'auto')
  .action(async (opts: FinetuneCommandOptions) => {
    const r = await runFinetune({ ...opts, resume: opts.resume === true });
    if (r.evaluation !== null) {
      const e = r.evaluation;
      console.log(`accuracy ${(e.accuracy * 100).toFixed(2)}% on ${e.count} images; ${r.cache.used ? (r.cache.hit ? 'cached features reused' : 'features cached') : 'trained through the backbone'}; model: ${r.checkpoint}`);
    }
  });

program
  .command('demo')
  .description('train LeNet-5 on the bundled Fashion-MNIST subset, write the report, then classify exported test images')
  .option('--out <dir>', 'output folder', 'convkit-demo')
  .option('--epochs <n>', 'epochs', (v: string) => positiveInt(v, '--epochs'), 10)
  .option('--progress <mode>', 'bar, lines, none or auto', oneOf(['bar', 'lines', 'none', 'auto'] as const, '--progress'), 'auto')
  .action(async (opts: { out: string; epochs: number; progress: 'bar' | 'lines' | 'none' | 'auto' }) => {
    await runDemo(opts);
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
  .action(async (suites: string[], opts: { threads: number[]; quick?: boolean; rows?: string[]; peers: boolean; json?: boolean; out?: string }) => {
    const unknown = suites.filter((s) => !BENCH_SUITES.includes(s));
    if (unknown.length > 0) {
      throw new ArgumentError(`unknown bench suite '${unknown[0]}' (available: ${BENCH_SUITES.join(', ')})`);
    }
    const report = await runBench(suites, {
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
