/**
 * The self-contained HTML training report: charts as inline SVG, images as `data:` URIs, a
 * Content-Security-Policy that forbids loading anything, and every piece of caller text escaped.
 */
import type { HistoryRow } from './charts.js';
import { formatFixed, type ClassificationReport, type ClassScores } from './metrics.js';

/** What {@link renderReportHtml} puts on the page. */
export interface ReportHtmlInput {
  title: string;
  /** Run settings (hyper-parameters, dataset, model...), shown as a two-column table. */
  settings: Record<string, unknown>;
  /** Per-epoch metrics, shown as a table. */
  history: readonly HistoryRow[];
  /** SVG documents (as {@link lossChart} etc. return them), inlined in this order. */
  charts: { loss: string; accuracy: string; confusion?: string };
  /** The classification report table (shown under the confusion chart). */
  classification?: ClassificationReport;
  /** PNG bytes of the first layer's filters (see {@link filterGrid}). */
  filtersPng?: Uint8Array;
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escapes `& < > " '` so text is safe in HTML element content and quoted attributes. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => ESCAPES[ch] as string);
}

/**
 * Prepares an SVG document for inlining in HTML: drops any XML prolog and the namespace
 * declarations (the HTML parser puts `<svg>` in the SVG namespace itself), and prefixes every `id`
 * and its references (`url(#…)`, `href="#…"`) with `prefix-` so that two charts' gradients or clip
 * paths cannot collide on one page.
 */
export function inlineSvg(svg: string, prefix: string): string {
  return svg
    .replace(/^\s*<\?xml[^>]*\?>\s*/, '')
    .replace(/\s+xmlns(:xlink)?="[^"]*"/g, '')
    .replace(/\bid="([^"]*)"/g, (_m, id: string) => `id="${prefix}-${id}"`)
    .replace(/url\(#([^)]*)\)/g, (_m, id: string) => `url(#${prefix}-${id})`)
    .replace(/\bhref="#([^"]*)"/g, (_m, id: string) => `href="#${prefix}-${id}"`);
}

/** A setting's value as display text: strings as they are, everything else as JSON where possible. */
export function formatSetting(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || value === null || value === undefined) return String(value);
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'function') return `[function ${value.name || 'anonymous'}]`;
  try {
    const json = JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v));
    return json ?? String(value);
  } catch {
    return String(value); // circular structures
  }
}

function formatMetric(v: number | null | undefined): string {
  if (v === undefined || v === null) return '';
  return Number.isFinite(v) ? String(Number(v.toPrecision(5))) : String(v);
}

function table(head: readonly string[], rows: readonly (readonly string[])[], numericFrom = 1): string {
  const th = head.map((h) => `<th>${escapeHtml(h)}</th>`).join('');
  const body = rows
    .map((r) => `<tr>${r.map((c, i) => `<td${i >= numericFrom ? ' class="num"' : ''}>${escapeHtml(c)}</td>`).join('')}</tr>`)
    .join('\n');
  return `<table>\n<thead><tr>${th}</tr></thead>\n<tbody>\n${body}\n</tbody>\n</table>`;
}

function historyTable(history: readonly HistoryRow[]): string {
  const has = (key: keyof HistoryRow): boolean => history.some((r) => r[key] !== undefined && r[key] !== null);
  const columns: Array<[string, keyof HistoryRow]> = [
    ['epoch', 'epoch'],
    ['train loss', 'trainLoss'],
    ['train accuracy', 'trainAccuracy'],
  ];
  if (has('valLoss')) columns.push(['val loss', 'valLoss']);
  if (has('valAccuracy')) columns.push(['val accuracy', 'valAccuracy']);
  if (has('lr')) columns.push(['lr', 'lr']);
  return table(
    columns.map(([h]) => h),
    history.map((r) => columns.map(([, k]) => formatMetric(r[k]))),
    0,
  );
}

function classificationTable(report: ClassificationReport): string {
  const scores = (name: string, s: ClassScores): string[] => [
    name,
    formatFixed(s.precision, 3),
    formatFixed(s.recall, 3),
    formatFixed(s.f1, 3),
    String(s.support),
  ];
  const rows = report.classes.map((c) => scores(c.name, c));
  rows.push(['accuracy', '', '', formatFixed(report.accuracy, 3), String(report.total)]);
  rows.push(scores('macro avg', report.macroAvg));
  rows.push(scores('weighted avg', report.weightedAvg));
  return table(['class', 'precision', 'recall', 'f1-score', 'support'], rows);
}

const STYLE = `body{font-family:system-ui,sans-serif;margin:2em;color:#222;max-width:1200px}
h1{font-size:1.6em}h2{font-size:1.25em;margin-top:1.6em;border-bottom:1px solid #ddd}
.charts{display:flex;flex-wrap:wrap;gap:1.5em;align-items:flex-start}
figure{margin:0}svg{max-width:100%;height:auto}
table{border-collapse:collapse;font-size:.9em;margin:.6em 0}
th,td{border:1px solid #ddd;padding:.25em .6em;text-align:left;vertical-align:top}
td.num{text-align:right;font-variant-numeric:tabular-nums}th{background:#f4f4f4}
td{white-space:pre-wrap;word-break:break-word}
img.filters{image-rendering:pixelated;border:1px solid #ddd}`;

/**
 * Renders the report page. Nothing on it is fetched from anywhere: the charts are inline SVG, the
 * filter picture is a `data:` URI, the style is inline, and a Content-Security-Policy meta tag
 * blocks any other load. The title, settings, class names and all other caller text are escaped.
 */
export function renderReportHtml(input: ReportHtmlInput): string {
  const parts: string[] = [];
  parts.push(
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; style-src 'unsafe-inline'">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeHtml(input.title)}</title>`,
    `<style>${STYLE}</style>`,
    '</head>',
    '<body>',
    `<h1>${escapeHtml(input.title)}</h1>`,
    '<h2>Training</h2>',
    '<div class="charts">',
    `<figure id="loss-chart">${inlineSvg(input.charts.loss, 'loss')}</figure>`,
    `<figure id="accuracy-chart">${inlineSvg(input.charts.accuracy, 'accuracy')}</figure>`,
    '</div>',
    historyTable(input.history),
  );
  if (input.charts.confusion !== undefined || input.classification !== undefined) {
    parts.push('<h2>Evaluation</h2>', '<div class="charts">');
    if (input.charts.confusion !== undefined) {
      parts.push(`<figure id="confusion-chart">${inlineSvg(input.charts.confusion, 'confusion')}</figure>`);
    }
    if (input.classification !== undefined) {
      parts.push(`<div id="classification-report">${classificationTable(input.classification)}</div>`);
    }
    parts.push('</div>');
  }
  if (input.filtersPng !== undefined) {
    const uri = `data:image/png;base64,${Buffer.from(input.filtersPng).toString('base64')}`;
    parts.push(
      '<h2>First-layer filters</h2>',
      `<img class="filters" alt="first convolution layer filters, one tile per output channel" src="${uri}">`,
    );
  }
  parts.push(
    '<h2>Settings</h2>',
    table(
      ['setting', 'value'],
      Object.entries(input.settings).map(([k, v]) => [k, formatSetting(v)]),
      2,
    ),
    '</body>',
    '</html>',
    '',
  );
  return parts.join('\n');
}
