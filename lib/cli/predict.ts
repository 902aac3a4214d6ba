/**
 * `convkit predict`: a checkpoint classifies every image under a folder into a JSON-lines or CSV
 * file, streamed and resumable (see `predictFolder`), with the checkpoint's own preprocessing and
 * class names. Prints progress lines to stderr and images/s at the end.
 */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { loadCheckpoint } from '../train/checkpoint.js';
import { ArgumentError } from '../errors.js';
import { predictFolder, type PredictFolderResult } from '../inference/predict-folder.js';
import { Predictor } from '../inference/predictor.js';

/** Options of {@link runPredict} (the CLI flags). */
export interface PredictCommandOptions {
  /** A checkpoint file or a training output directory (its `best.safetensors`, else `last.safetensors`). */
  model: string;
  input: string;
  output: string;
  topK?: number;
  batchSize?: number;
  log?: (line: string) => void;
}

/**
 * Resolves `--model`: a file, or a run directory: its `model.safetensors` (the whole model `convkit
 * finetune` writes last; its best/last checkpoints hold only the head when it trained on cached
 * features), else `best.safetensors`, else `last.safetensors`.
 */
export async function checkpointPath(model: string): Promise<string> {
  const st = statSync(model, { throwIfNoEntry: false });
  if (st === undefined) throw new ArgumentError(`--model ${model}: no such file or directory`);
  if (!st.isDirectory()) return model;
  for (const name of ['model.safetensors', 'best.safetensors', 'last.safetensors']) if (existsSync(join(model, name))) return join(model, name);
  throw new ArgumentError(`--model ${model}: the directory holds no model.safetensors, best.safetensors or last.safetensors`);
}

/** Runs the prediction; see the module comment. */
export async function runPredict(o: PredictCommandOptions): Promise<PredictFolderResult> {
  const log = o.log ?? ((line: string) => void process.stderr.write(`${line}\n`));
  if (!/\.(jsonl|csv)$/i.test(o.output)) throw new ArgumentError(`--output ${o.output}: expected a .jsonl or .csv file name`);
  const ckpt = await loadCheckpoint(await checkpointPath(o.model));
  const preprocess = ckpt.meta.preprocess;
  if (preprocess === null) {
    throw new ArgumentError(`--model ${ckpt.path}: the checkpoint records no input preprocessing, so images cannot be fed to it`);
  }
  const classes = ckpt.meta.classes ?? undefined;
  const predictor = await Predictor.create(ckpt.model, { preprocess, ...(classes ? { classes } : {}) });
  let lastLog = Date.now();
  try {
    const result = await predictFolder(predictor, o.input, {
      output: o.output,
      topK: o.topK ?? 5,
      batchSize: o.batchSize ?? 16,
      onProgress: (p) => {
        if (Date.now() - lastLog >= 2000) {
          lastLog = Date.now();
          log(`predict: ${p.processed + p.skipped} images (${p.imagesPerSecond.toFixed(1)} img/s), last ${p.lastPath}`);
        }
      },
    });
    log(
      `predict: ${result.processed} images classified, ${result.skipped} unreadable (error rows), ${result.resumed} already in ${o.output}; ` +
        `${result.imagesPerSecond.toFixed(1)} images/s`,
    );
    return result;
  } finally {
    await predictor.close();
  }
}
