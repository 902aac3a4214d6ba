/**
 * One inference row of `convkit bench train` in onnxruntime-node, in a process of its own:
 * `node dist/bench/ort-worker.js '<OrtWorkerSpec>'`. Loads the ONNX file the PyTorch peer exported
 * (same torchvision model), runs it at `threads` intra-op threads (one inter-op thread, sequential
 * execution, all graph optimisations) and prints one JSON line ({@link TrainWorkerResult}).
 *
 * onnxruntime-node is a development dependency that the library itself never loads, so it is
 * imported by name at run time with the little of its API used here typed below.
 */
import type { OrtWorkerSpec, TrainWorkerResult } from './train.js';
import { peakRssMb } from './memory.js';

interface OrtTensor {
  readonly dims: readonly number[];
}
interface OrtSession {
  readonly inputNames: readonly string[];
  run(feeds: Record<string, OrtTensor>): Promise<Record<string, OrtTensor>>;
  release(): Promise<void>;
}
interface OrtModule {
  InferenceSession: {
    create(path: string, options: {
      intraOpNumThreads: number;
      interOpNumThreads: number;
      executionMode: 'sequential';
      graphOptimizationLevel: 'all';
    }): Promise<OrtSession>;
  };
  Tensor: new (type: 'float32', data: Float32Array, dims: number[]) => OrtTensor;
}

export const ORT_PACKAGE = 'onnxruntime-node';

/** Loads onnxruntime-node by name (a development dependency the library itself never imports). */
async function loadOrt(): Promise<OrtModule> {
  const name = ORT_PACKAGE;
  return (await import(name)) as OrtModule;
}

export async function runOrtWorker(spec: OrtWorkerSpec): Promise<TrainWorkerResult> {
  const ort = await loadOrt();
  const session = await ort.InferenceSession.create(spec.onnx, {
    intraOpNumThreads: spec.threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  });
  const n = spec.batch * spec.input.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n);
  let s = 1;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    data[i] = s / 2 ** 32 - 0.5;
  }
  const feeds = { [session.inputNames[0] ?? 'input']: new ort.Tensor('float32', data, [spec.batch, ...spec.input]) };
  // Same policy as measure(): warm-up, then timed runs until minSeconds (at least minRuns), median.
  for (let i = 0; i < spec.warmup; i++) await session.run(feeds);
  const times: number[] = [];
  let total = 0;
  while (times.length < spec.minRuns || (total < spec.minSeconds && times.length < spec.maxRuns)) {
    const t0 = process.hrtime.bigint();
    await session.run(feeds);
    const dt = Number(process.hrtime.bigint() - t0) * 1e-9;
    times.push(dt);
    total += dt;
  }
  times.sort((a, b) => a - b);
  const median = times[Math.floor(times.length / 2)]!;
  const result = { imgPerSec: spec.batch / median, runs: times.length, peakRssMb: peakRssMb(), loss: null };
  await session.release();
  return result;
}

if (process.argv[2] !== undefined && process.argv[1] !== undefined && /ort-worker\.[jt]s$/.test(process.argv[1])) {
  try {
    console.log(JSON.stringify(await runOrtWorker(JSON.parse(process.argv[2]) as OrtWorkerSpec)));
  } catch (err) {
    console.error(err instanceof Error ? `${err.name}: ${err.message}` : String(err));
    process.exitCode = 1;
  }
}
