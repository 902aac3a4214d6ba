/**
 * `convkit evaluate`: a checkpoint's accuracy on a dataset (the test split when the format has
 * one), per-class precision/recall/F1 and the confusion matrix; `--out` also writes the report.
 */
import { DataLoader } from '../data/loader.js';
import { detectDataset } from '../data/detect.js';
import type { Dataset } from '../data/types.js';
import { ArgumentError } from '../errors.js';
import { classificationReport, confusionMatrix, formatClassificationReport, type ClassificationReport } from '../report/metrics.js';
import { oneBasedEpochs } from '../report/charts.js';
import { writeReport } from '../report/write-report.js';
import { evaluate, type Evaluation } from '../train/evaluate.js';
import { loadCheckpoint } from '../train/checkpoint.js';
import { checkpointPath } from './predict.js';

/** Options of {@link runEvaluate}. */
export interface EvaluateCommandOptions {
  model: string;
  data: string;
  split?: 'test' | 'train';
  batchSize?: number;
  out?: string;
}

/** What {@link runEvaluate} returns. */
export interface EvaluateCommandResult {
  evaluation: Evaluation;
  report: ClassificationReport;
  matrix: number[][];
  classes: string[];
  text: string;
}

/** Evaluates; see the module comment. */
export async function runEvaluate(o: EvaluateCommandOptions): Promise<EvaluateCommandResult> {
  const ckpt = await loadCheckpoint(await checkpointPath(o.model));
  const pre = ckpt.meta.preprocess;
  if (pre === null) throw new ArgumentError(`--model ${ckpt.path}: the checkpoint records no input preprocessing`);
  const detected = detectDataset(o.data, {
    preprocess: pre,
    mean: pre.mean,
    std: pre.std,
    size: pre.size,
    channels: pre.channels,
  });
  const split = o.split ?? 'test';
  const dataset: Dataset | undefined = split === 'test' ? (detected.test ?? detected.train) : detected.train;
  const classes = ckpt.meta.classes ?? dataset.classes;
  if (dataset.classes.length !== classes.length) {
    throw new ArgumentError(`--data ${o.data}: ${dataset.classes.length} classes, but the model was trained on ${classes.length}`);
  }
  const loader = new DataLoader(dataset, { batchSize: o.batchSize ?? 256 });
  try {
    const evaluation = await evaluate(ckpt.model, loader);
    const matrix = confusionMatrix(evaluation.predicted, evaluation.target, classes.length);
    const report = classificationReport(matrix, classes);
    const header =
      `${ckpt.path} on ${dataset === detected.test ? 'the test split of ' : ''}${o.data}: ${evaluation.count} images, ` +
      `accuracy ${(evaluation.accuracy * 100).toFixed(2)}%, top-5 ${(evaluation.top5 * 100).toFixed(2)}%, loss ${evaluation.loss.toFixed(4)}`;
    const rows = matrix.map((r, i) => `${classes[i]!.padStart(14)} ${r.map((v) => String(v).padStart(5)).join('')}`);
    const text = `${header}\n\n${formatClassificationReport(report)}\nconfusion matrix (rows: true class, columns: predicted)\n${rows.join('\n')}`;
    if (o.out !== undefined) {
      await writeReport(o.out, {
        title: `convkit evaluate: ${ckpt.path}`,
        history: oneBasedEpochs((ckpt.meta.history ?? []) as unknown as { epoch: number }[]) as never,
        confusion: { matrix, classNames: classes },
        settings: { checkpoint: ckpt.path, data: o.data, split, images: evaluation.count, accuracy: evaluation.accuracy },
        format: 'both',
      });
    }
    return { evaluation, report, matrix, classes, text };
  } finally {
    await loader.close();
  }
}
