/**
 * `writeReport`: renders every chart and picture of a training run and writes them, with one
 * self-contained `report.html`, into a directory.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { ArgumentError, invalidArgument } from '../errors.js';
import type { Tensor } from '../tensor/tensor.js';
import { writeFileAtomic } from '../io/atomic-write.js';
import { accuracyChart, checkHistory, confusionChart, lossChart, type HistoryRow } from './charts.js';
import { filterGrid } from './filters.js';
import { renderReportHtml } from './html.js';
import { classificationReport, type ClassificationReport } from './metrics.js';
import { svgToPng } from './raster.js';

/** Which chart files to write: `.png`, `.svg`, or both. `report.html` always inlines the SVGs. */
export type ReportFormat = 'png' | 'svg' | 'both';

/** What {@link writeReport} reports on. */
export interface ReportOptions {
  /** One row per epoch (see {@link HistoryRow}). */
  history: readonly HistoryRow[];
  /** Evaluation counts (rows = true class) and the class names: adds the confusion chart and classification table. */
  confusion?: { matrix: readonly (readonly number[])[]; classNames: readonly string[] };
  /** The first convolution's weight [O, I, kh, kw]: adds `filters.png`. */
  firstConvWeight?: Tensor;
  /** Run settings shown as a table (values are printed as strings or JSON). */
  settings: Record<string, unknown>;
  /** Page title (default "Training report"). */
  title?: string;
  /** Chart file format. */
  format: ReportFormat;
}

const FORMATS: readonly ReportFormat[] = ['png', 'svg', 'both'];

/**
 * Writes a training report into `dir` (created if missing):
 * - `loss.svg|png`, `accuracy.svg|png`, and `confusion.svg|png` when `confusion` is given, per `format`;
 * - `filters.png` when `firstConvWeight` is given (always PNG);
 * - `report.html`: title, inline SVG charts, per-epoch table, classification report, filters
 *   (as a `data:` URI) and settings; it loads nothing from outside.
 *
 * Everything is rendered in memory first, then each file is written atomically (temp file in
 * `dir`, fsync, rename), `report.html` last; so a failed render writes nothing and an interrupted
 * run never leaves a torn file. Files of an earlier report in `dir` are replaced; others are left.
 * @returns the paths written (`join(dir, name)`), in write order.
 * @throws ArgumentError for bad options (and the chart/filter functions' errors for bad data).
 */
export async function writeReport(dir: string, options: ReportOptions): Promise<string[]> {
  if (typeof dir !== 'string' || dir.length === 0) throw invalidArgument('dir', 'a directory path', dir);
  if (options === null || typeof options !== 'object') throw invalidArgument('options', 'a report options object', options);
  const { history, confusion, firstConvWeight, settings, format } = options;
  const title = options.title ?? 'Training report';
  if (!FORMATS.includes(format)) throw invalidArgument('options.format', `one of ${FORMATS.map((f) => `'${f}'`).join(', ')}`, format);
  if (typeof title !== 'string') throw invalidArgument('options.title', 'a string', title);
  if (settings === null || typeof settings !== 'object' || Array.isArray(settings)) {
    throw invalidArgument('options.settings', 'an object of named settings', settings);
  }
  if (confusion !== undefined && (confusion === null || typeof confusion !== 'object')) {
    throw new ArgumentError('options.confusion must be { matrix, classNames } or undefined');
  }
  const rows = checkHistory(history);

  const [lossSvg, accuracySvg, confusionSvg, filtersPng] = await Promise.all([
    lossChart(rows),
    accuracyChart(rows),
    confusion === undefined ? undefined : confusionChart(confusion.matrix, confusion.classNames),
    firstConvWeight === undefined ? undefined : filterGrid(firstConvWeight),
  ]);
  const classification: ClassificationReport | undefined =
    confusion === undefined ? undefined : classificationReport(confusion.matrix, confusion.classNames);

  const files: Array<[string, string | Uint8Array]> = [];
  const addChart = async (name: string, svg: string): Promise<void> => {
    if (format !== 'png') files.push([`${name}.svg`, svg]);
    if (format !== 'svg') files.push([`${name}.png`, await svgToPng(svg)]);
  };
  await addChart('loss', lossSvg);
  await addChart('accuracy', accuracySvg);
  if (confusionSvg !== undefined) await addChart('confusion', confusionSvg);
  if (filtersPng !== undefined) files.push(['filters.png', filtersPng]);
  const html = renderReportHtml({
    title,
    settings,
    history: rows,
    charts: { loss: lossSvg, accuracy: accuracySvg, ...(confusionSvg === undefined ? {} : { confusion: confusionSvg }) },
    ...(classification === undefined ? {} : { classification }),
    ...(filtersPng === undefined ? {} : { filtersPng }),
  });
  files.push(['report.html', html]);

  await mkdir(dir, { recursive: true });
  const written: string[] = [];
  for (const [name, data] of files) {
    const path = join(dir, name);
    await writeFileAtomic(path, typeof data === 'string' ? Buffer.from(data, 'utf8') : data);
    written.push(path);
  }
  return written;
}
