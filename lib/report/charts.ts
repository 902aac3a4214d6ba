/**
 * Training charts as SVG strings: Vega-Lite specs compiled to Vega and rendered headless
 * (`renderer: 'none'`, no canvas needed). Text widths are estimated without a canvas, so label
 * placement can be a few pixels off what a browser would do.
 */
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { ArgumentError, invalidArgument } from '../errors.js';
import { checkClassNames, checkConfusionMatrix } from './metrics.js';

/** One row of a training history: the metrics at the end of an epoch. */
export interface HistoryRow {
  epoch: number;
  trainLoss: number;
  trainAccuracy: number;
  valLoss?: number;
  valAccuracy?: number;
  /** Learning rate during the epoch (shown in the HTML report's table, not in the charts). */
  lr?: number;
}

/** Size of the plotting area in pixels (axes, title and legend come on top). */
export interface ChartOptions {
  width?: number;
  height?: number;
}

const SERIES = ['train', 'validation'] as const;
const COLORS = ['#4c78a8', '#f58518'] as const;

/**
 * Training histories count epochs from 0 (as `log.jsonl` does); charts and tables count them from 1,
 * as the progress lines do ("epoch 1/10"). Returns the rows with `epoch` shifted by one.
 */
export function oneBasedEpochs<R extends { epoch: number }>(history: readonly R[]): R[] {
  return history.map((r) => ({ ...r, epoch: r.epoch + 1 }));
}

/** Checks a history and returns it sorted by epoch. */
export function checkHistory(history: readonly HistoryRow[]): HistoryRow[] {
  if (!Array.isArray(history) || history.length === 0) {
    throw invalidArgument('history', 'a non-empty array of { epoch, trainLoss, trainAccuracy, ... } rows', history);
  }
  const seen = new Set<number>();
  history.forEach((row, i) => {
    if (row === null || typeof row !== 'object') throw invalidArgument(`history[${i}]`, 'an object', row);
    if (typeof row.epoch !== 'number' || !Number.isFinite(row.epoch)) {
      throw invalidArgument(`history[${i}].epoch`, 'a finite number', row.epoch);
    }
    if (seen.has(row.epoch)) throw new ArgumentError(`history has epoch ${row.epoch} more than once (rows must be one per epoch)`);
    seen.add(row.epoch);
    for (const key of ['trainLoss', 'trainAccuracy'] as const) {
      if (typeof row[key] !== 'number') throw invalidArgument(`history[${i}].${key}`, 'a number', row[key]);
    }
    for (const key of ['valLoss', 'valAccuracy', 'lr'] as const) {
      const v = row[key] as unknown;
      if (v !== undefined && v !== null && typeof v !== 'number') {
        throw invalidArgument(`history[${i}].${key}`, 'a number or undefined', v);
      }
    }
  });
  return [...history].sort((a, b) => a.epoch - b.epoch);
}

function checkOptions(options: ChartOptions): Required<ChartOptions> {
  const out = { width: options.width ?? 360, height: options.height ?? 220 };
  for (const key of ['width', 'height'] as const) {
    if (!Number.isInteger(out[key]) || out[key] < 20 || out[key] > 10_000) {
      throw invalidArgument(`options.${key}`, 'an integer number of pixels in [20, 10000]', out[key]);
    }
  }
  return out;
}

/** Compiles a Vega-Lite spec and renders it to an SVG string, headless. */
export async function renderVegaLite(spec: TopLevelSpec): Promise<string> {
  // Our specs are fixed; compiler warnings (none expected) would only be noise for the caller.
  const compiled = compile(spec, { logger: vega.logger(vega.Error) }).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none', logLevel: vega.Error });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

function lineChart(
  history: readonly HistoryRow[],
  train: 'trainLoss' | 'trainAccuracy',
  val: 'valLoss' | 'valAccuracy',
  title: string,
  yTitle: string,
  options: ChartOptions,
): Promise<string> {
  const rows = checkHistory(history);
  const { width, height } = checkOptions(options);
  // Long format, one datum per drawn point. Non-finite values (a diverged run's NaN loss) and
  // missing validation values are left out, so each series has a point exactly where it has a value.
  const values: Array<{ epoch: number; series: string; value: number }> = [];
  for (const row of rows) {
    const t = row[train];
    if (Number.isFinite(t)) values.push({ epoch: row.epoch, series: SERIES[0], value: t });
    const v = row[val];
    if (typeof v === 'number' && Number.isFinite(v)) values.push({ epoch: row.epoch, series: SERIES[1], value: v });
  }
  const present = SERIES.map((name) => values.some((d) => d.series === name));
  const first = (rows[0] as HistoryRow).epoch;
  const last = (rows[rows.length - 1] as HistoryRow).epoch;
  // One epoch: widen the domain so the lone point sits in the middle rather than on a collapsed axis.
  const domain = first === last ? [first - 0.5, last + 0.5] : [first, last];
  const spec: TopLevelSpec = {
    width,
    height,
    title,
    background: 'white',
    data: { values },
    mark: { type: 'line', point: true, strokeWidth: 2 },
    encoding: {
      x: {
        field: 'epoch',
        type: 'quantitative',
        title: 'epoch',
        scale: { domain, nice: false },
        axis: { tickMinStep: 1, format: 'd' },
      },
      y: { field: 'value', type: 'quantitative', title: yTitle, scale: { zero: false } },
      color: {
        field: 'series',
        type: 'nominal',
        title: null,
        // Only the series that have points, so a run without validation has no empty legend entry.
        scale: { domain: SERIES.filter((_, k) => present[k]), range: COLORS.filter((_, k) => present[k]) },
      },
    },
  };
  return renderVegaLite(spec);
}

/**
 * Training and validation loss per epoch as an SVG line chart (one point per epoch with a value;
 * the validation line is drawn only where `valLoss` is given). Title "Loss", axes "epoch" and "loss".
 * @throws ArgumentError for an empty history, duplicate epochs or non-numeric values.
 */
export function lossChart(history: readonly HistoryRow[], options: ChartOptions = {}): Promise<string> {
  return lineChart(history, 'trainLoss', 'valLoss', 'Loss', 'loss', options);
}

/**
 * Training and validation accuracy per epoch as an SVG line chart, like {@link lossChart}. Title
 * "Accuracy", axes "epoch" and "accuracy"; values are plotted as given (fractions or percent).
 */
export function accuracyChart(history: readonly HistoryRow[], options: ChartOptions = {}): Promise<string> {
  return lineChart(history, 'trainAccuracy', 'valAccuracy', 'Accuracy', 'accuracy', options);
}

/** Options of {@link confusionChart}. */
export interface ConfusionChartOptions {
  /** Side of one cell in pixels; default between 14 and 40 so the plot is at most ~480 px. */
  cellSize?: number;
  /** Write the count in each cell; default: when cells are at least 18 px. */
  showCounts?: boolean;
}

/**
 * A confusion-matrix heatmap as SVG: rows = true class, columns = predicted class, cell colour by
 * count (blues), the count printed in each cell (white text on dark cells).
 * @throws ShapeError / ArgumentError for a non-square matrix, negative or fractional counts, or
 *   class names that are not one distinct string per class.
 */
export function confusionChart(
  matrix: readonly (readonly number[])[],
  classNames: readonly string[],
  options: ConfusionChartOptions = {},
): Promise<string> {
  const n = checkConfusionMatrix(matrix);
  checkClassNames(classNames, n);
  const cell = options.cellSize ?? Math.max(14, Math.min(40, Math.floor(480 / n)));
  if (!Number.isInteger(cell) || cell < 4 || cell > 400) {
    throw invalidArgument('options.cellSize', 'an integer number of pixels in [4, 400]', options.cellSize);
  }
  const showCounts = options.showCounts ?? cell >= 18;
  const values: Array<{ actual: string; predicted: string; count: number }> = [];
  let max = 0;
  for (let t = 0; t < n; t++) {
    for (let p = 0; p < n; p++) {
      const count = (matrix[t] as readonly number[])[p] as number;
      max = Math.max(max, count);
      values.push({ actual: classNames[t] as string, predicted: classNames[p] as string, count });
    }
  }
  const order = [...classNames];
  const x = { field: 'predicted', type: 'nominal', title: 'predicted', sort: order, axis: { labelAngle: -45 } } as const;
  const y = { field: 'actual', type: 'nominal', title: 'true', sort: order } as const;
  const rect = {
    mark: { type: 'rect' },
    encoding: {
      x,
      y,
      color: {
        field: 'count',
        type: 'quantitative',
        title: 'count',
        scale: { scheme: 'blues', domain: [0, Math.max(1, max)] },
      },
    },
  } as const;
  const text = {
    mark: { type: 'text', fontSize: Math.min(12, Math.max(7, Math.floor(cell / 3))) },
    encoding: {
      x,
      y,
      text: { field: 'count', type: 'quantitative' },
      color: { condition: { test: `datum.count > ${max / 2}`, value: 'white' }, value: 'black' },
    },
  } as const;
  const spec: TopLevelSpec = {
    width: cell * n,
    height: cell * n,
    title: 'Confusion matrix',
    background: 'white',
    data: { values },
    layer: showCounts ? [rect, text] : [rect],
  } as TopLevelSpec;
  return renderVegaLite(spec);
}
