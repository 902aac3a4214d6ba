/**
 * Training reports and evaluation metrics: confusion matrix and sklearn-style classification
 * report, Vega-Lite loss/accuracy/confusion charts (headless SVG), a PNG grid of first-layer
 * filters, and `writeReport`, which writes them all with one self-contained `report.html`.
 */
export {
  confusionMatrix,
  classificationReport,
  formatClassificationReport,
  type ClassScores,
  type ClassReport,
  type ClassificationReport,
} from './metrics.js';
export {
  lossChart,
  accuracyChart,
  confusionChart,
  oneBasedEpochs,
  type HistoryRow,
  type ChartOptions,
  type ConfusionChartOptions,
} from './charts.js';
export { filterGrid, filterGridLayout, type FilterGridOptions, type FilterGridLayout } from './filters.js';
export { svgToPng } from './raster.js';
export { renderReportHtml, escapeHtml, type ReportHtmlInput } from './html.js';
export { writeReport, type ReportOptions, type ReportFormat } from './write-report.js';
