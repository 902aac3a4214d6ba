/**
 * Classification metrics from a confusion matrix, with scikit-learn's definitions.
 *
 * `classificationReport(confusionMatrix(pred, target, n), names)` gives the same numbers as
 * `sklearn.metrics.classification_report(target, pred, labels=range(n), target_names=names,
 * zero_division=0)`, and {@link formatClassificationReport} prints the same text table (same
 * column widths, Python's round-half-even on exact ties).
 */
import { ArgumentError, ShapeError, invalidArgument } from '../errors.js';

/** Precision, recall, F1 and support of one class or one average. */
export interface ClassScores {
  /** TP / (TP + FP); 0 when the class is never predicted. */
  precision: number;
  /** TP / (TP + FN); 0 when the class never occurs. */
  recall: number;
  /** 2·TP / (2·TP + FP + FN), the harmonic mean of precision and recall; 0 when both are 0. */
  f1: number;
  /** How many samples truly belong to the class (for an average: all samples). */
  support: number;
}

/** {@link ClassScores} for one named class. */
export interface ClassReport extends ClassScores {
  name: string;
}

/** What {@link classificationReport} returns. */
export interface ClassificationReport {
  /** One row per class, in matrix order. */
  classes: ClassReport[];
  /** trace / total (0 for an empty matrix). */
  accuracy: number;
  /** Unweighted mean of the per-class scores over every class (absent classes count as 0). */
  macroAvg: ClassScores;
  /** Mean of the per-class scores weighted by support. */
  weightedAvg: ClassScores;
  /** Number of samples (sum of the matrix). */
  total: number;
}

function isClassIndex(v: number, numClasses: number): boolean {
  return Number.isInteger(v) && v >= 0 && v < numClasses;
}

/**
 * Counts (true class, predicted class) pairs. `matrix[t][p]` is the number of samples of true
 * class `t` predicted as `p` (rows = true class, columns = prediction, like sklearn's
 * `confusion_matrix`).
 * @param predicted predicted class indices (for example an argmax over logits).
 * @param target true class indices, same length as `predicted`.
 * @param numClasses the matrix is `numClasses × numClasses`.
 * @throws ArgumentError for mismatched lengths, a bad `numClasses`, or an index that is not an
 *   integer in `[0, numClasses)`.
 */
export function confusionMatrix(predicted: ArrayLike<number>, target: ArrayLike<number>, numClasses: number): number[][] {
  if (!Number.isInteger(numClasses) || numClasses < 1) {
    throw invalidArgument('numClasses', 'a positive integer', numClasses);
  }
  if (predicted === null || typeof predicted !== 'object' || typeof predicted.length !== 'number') {
    throw invalidArgument('predicted', 'an array of class indices', predicted);
  }
  if (target === null || typeof target !== 'object' || typeof target.length !== 'number') {
    throw invalidArgument('target', 'an array of class indices', target);
  }
  if (predicted.length !== target.length) {
    throw new ArgumentError(
      `confusionMatrix: predicted has ${predicted.length} entries but target has ${target.length}; they must pair up`,
    );
  }
  const matrix: number[][] = Array.from({ length: numClasses }, () => new Array<number>(numClasses).fill(0));
  for (let i = 0; i < predicted.length; i++) {
    const p = predicted[i] as number;
    const t = target[i] as number;
    if (!isClassIndex(p, numClasses)) {
      throw new ArgumentError(`confusionMatrix: predicted[${i}] is ${p}; expected an integer class index in [0, ${numClasses})`);
    }
    if (!isClassIndex(t, numClasses)) {
      throw new ArgumentError(`confusionMatrix: target[${i}] is ${t}; expected an integer class index in [0, ${numClasses})`);
    }
    (matrix[t] as number[])[p] = ((matrix[t] as number[])[p] as number) + 1;
  }
  return matrix;
}

/**
 * Checks that `matrix` is a square array of non-negative integer counts and returns its size.
 * @throws ShapeError / ArgumentError naming the bad row or cell.
 */
export function checkConfusionMatrix(matrix: readonly (readonly number[])[], name = 'matrix'): number {
  if (!Array.isArray(matrix) || matrix.length === 0) {
    throw invalidArgument(name, 'a non-empty square array of counts', matrix);
  }
  const n = matrix.length;
  for (let r = 0; r < n; r++) {
    const row = matrix[r];
    if (!Array.isArray(row) || row.length !== n) {
      throw new ShapeError(
        `${name} must be square (${n} × ${n}) but row ${r} has ${Array.isArray(row) ? row.length : 'no'} entries`,
      );
    }
    for (let c = 0; c < n; c++) {
      const v = row[c] as number;
      if (!Number.isInteger(v) || v < 0) {
        throw new ArgumentError(`${name}[${r}][${c}] is ${String(v)}; expected a non-negative integer count`);
      }
    }
  }
  return n;
}

/** Checks that `classNames` has one distinct string per class. */
export function checkClassNames(classNames: readonly string[], n: number): void {
  if (!Array.isArray(classNames) || classNames.some((c) => typeof c !== 'string')) {
    throw invalidArgument('classNames', 'an array of strings', classNames);
  }
  if (classNames.length !== n) {
    throw new ArgumentError(`classNames has ${classNames.length} names but the confusion matrix has ${n} classes`);
  }
  const seen = new Set<string>();
  for (const name of classNames) {
    if (seen.has(name)) throw new ArgumentError(`classNames must be distinct; '${name}' appears more than once`);
    seen.add(name);
  }
}

const ratio = (num: number, den: number): number => (den === 0 ? 0 : num / den);

/**
 * Per-class precision, recall, F1 and support, accuracy, and the macro and weighted averages, as
 * sklearn's `classification_report` defines them with `zero_division=0`: a ratio whose
 * denominator is 0 is 0. Every class of the matrix is reported, including classes that neither
 * occur nor are predicted (they count as 0 in the macro average, as with sklearn's `labels=`).
 * @param matrix square counts, rows = true class, columns = prediction (see {@link confusionMatrix}).
 * @param classNames one distinct name per class.
 */
export function classificationReport(matrix: readonly (readonly number[])[], classNames: readonly string[]): ClassificationReport {
  const n = checkConfusionMatrix(matrix);
  checkClassNames(classNames, n);
  const predictedCount = new Array<number>(n).fill(0);
  let total = 0;
  let correct = 0;
  for (let t = 0; t < n; t++) {
    for (let p = 0; p < n; p++) {
      const v = (matrix[t] as readonly number[])[p] as number;
      predictedCount[p] = (predictedCount[p] as number) + v;
      total += v;
    }
    correct += (matrix[t] as readonly number[])[t] as number;
  }
  const classes: ClassReport[] = [];
  for (let k = 0; k < n; k++) {
    const row = matrix[k] as readonly number[];
    const tp = row[k] as number;
    const support = row.reduce((a, b) => a + b, 0);
    const predicted = predictedCount[k] as number;
    // FP = predicted - tp, FN = support - tp, so 2TP + FP + FN = predicted + support.
    classes.push({
      name: classNames[k] as string,
      precision: ratio(tp, predicted),
      recall: ratio(tp, support),
      f1: ratio(2 * tp, predicted + support),
      support,
    });
  }
  const average = (weight: (c: ClassReport) => number): ClassScores => {
    const wsum = classes.reduce((a, c) => a + weight(c), 0);
    const mean = (key: 'precision' | 'recall' | 'f1'): number =>
      ratio(classes.reduce((a, c) => a + weight(c) * c[key], 0), wsum);
    return { precision: mean('precision'), recall: mean('recall'), f1: mean('f1'), support: total };
  };
  return {
    classes,
    accuracy: ratio(correct, total),
    macroAvg: average(() => 1),
    weightedAvg: average((c) => c.support),
    total,
  };
}

/**
 * `x.toFixed(digits)` rounded like Python's `format(x, '.{digits}f')`: both round the exact binary
 * value correctly, but on an exact tie (0.625 to 2 digits) Python rounds half to even ('0.62')
 * where JS rounds up ('0.63').
 */
export function formatFixed(x: number, digits: number): string {
  const js = x.toFixed(digits);
  if (!Number.isFinite(x) || Math.abs(x) >= 1e21) return js;
  const exact = Math.abs(x).toFixed(100);
  const dot = exact.indexOf('.');
  const rest = exact.slice(dot + 1 + digits);
  if (!/^50*$/.test(rest)) return js;
  const kept = exact.slice(0, dot + 1 + digits).replace(/\.$/, '');
  const lastDigit = Number(kept[kept.length - 1]);
  if (lastDigit % 2 === 1) return js; // round up to even: what toFixed did
  return (x < 0 ? '-' : '') + kept;
}

/**
 * The text table sklearn's `classification_report(..., digits=digits)` prints: one row per class,
 * then accuracy, macro avg and weighted avg.
 * @param digits decimals of the scores (default 2, like sklearn).
 */
export function formatClassificationReport(report: ClassificationReport, digits = 2): string {
  if (!Number.isInteger(digits) || digits < 0 || digits > 20) {
    throw invalidArgument('digits', 'an integer in [0, 20]', digits);
  }
  const width = Math.max(...report.classes.map((c) => c.name.length), 'weighted avg'.length, digits);
  const col = (s: string): string => ` ${s.padStart(9)}`;
  const row = (name: string, s: ClassScores): string =>
    `${name.padStart(width)} ${col(formatFixed(s.precision, digits))}${col(formatFixed(s.recall, digits))}` +
    `${col(formatFixed(s.f1, digits))}${col(String(s.support))}\n`;
  let out = `${''.padStart(width)} ${['precision', 'recall', 'f1-score', 'support'].map(col).join('')}\n\n`;
  for (const c of report.classes) out += row(c.name, c);
  out += '\n';
  out += `${'accuracy'.padStart(width)} ${col('')}${col('')}${col(formatFixed(report.accuracy, digits))}${col(String(report.total))}\n`;
  out += row('macro avg', report.macroAvg);
  out += row('weighted avg', report.weightedAvg);
  return out;
}
