// Hand-checked cases: scikit-learn is not installed here (no Debian python3-sklearn), so the
// expected values are worked out by hand below and the first table is sklearn's own documented
// example (classification_report docstring, y_true=[0,1,2,2,2], y_pred=[0,0,2,2,1]).
import { describe, expect, test } from 'vitest';
import { ArgumentError, ShapeError } from '../../lib/errors.js';
import {
  classificationReport,
  confusionMatrix,
  formatClassificationReport,
  formatFixed,
} from '../../lib/report/metrics.js';

describe('confusionMatrix', () => {
  test('rows are true classes, columns predictions', () => {
    expect(confusionMatrix([0, 0, 2, 2, 1], [0, 1, 2, 2, 2], 3)).toEqual([
      [1, 0, 0],
      [1, 0, 0],
      [0, 1, 2],
    ]);
  });

  test('accepts typed arrays and keeps absent classes as zero rows/columns', () => {
    expect(confusionMatrix(new Int32Array([1, 1]), new Float32Array([1, 0]), 4)).toEqual([
      [0, 1, 0, 0],
      [0, 1, 0, 0],
      [0, 0, 0, 0],
      [0, 0, 0, 0],
    ]);
    expect(confusionMatrix([], [], 2)).toEqual([
      [0, 0],
      [0, 0],
    ]);
  });

  test('rejects bad input with clear messages', () => {
    expect(() => confusionMatrix([0, 1], [0], 2)).toThrow(
      new ArgumentError('confusionMatrix: predicted has 2 entries but target has 1; they must pair up'),
    );
    expect(() => confusionMatrix([0, 3], [0, 1], 3)).toThrow(
      'confusionMatrix: predicted[1] is 3; expected an integer class index in [0, 3)',
    );
    expect(() => confusionMatrix([0, 1], [0.5, 1], 3)).toThrow('confusionMatrix: target[0] is 0.5');
    expect(() => confusionMatrix([0], [0], 0)).toThrow('Expected a positive integer for numClasses but received 0 of type number');
  });
});

describe('classificationReport', () => {
  test("sklearn's documented example", () => {
    const m = confusionMatrix([0, 0, 2, 2, 1], [0, 1, 2, 2, 2], 3);
    const r = classificationReport(m, ['class 0', 'class 1', 'class 2']);
    expect(r.classes.map((c) => [c.name, c.precision, c.recall, c.f1, c.support])).toEqual([
      ['class 0', 0.5, 1, 2 / 3, 1],
      ['class 1', 0, 0, 0, 1], // never predicted correctly: 0/1 precision, zero division nowhere
      ['class 2', 1, 2 / 3, 0.8, 3],
    ]);
    expect(r.accuracy).toBe(0.6);
    expect(r.total).toBe(5);
    expect(r.macroAvg.precision).toBeCloseTo(0.5, 15);
    expect(r.macroAvg.recall).toBeCloseTo((1 + 0 + 2 / 3) / 3, 15);
    expect(r.macroAvg.f1).toBeCloseTo((2 / 3 + 0 + 0.8) / 3, 15);
    expect(r.weightedAvg.precision).toBeCloseTo((0.5 + 0 + 3) / 5, 15);
    expect(r.weightedAvg.recall).toBeCloseTo(0.6, 15);
    expect(r.weightedAvg.f1).toBeCloseTo((2 / 3 + 0 + 2.4) / 5, 15);
    expect(formatClassificationReport(r)).toBe(
      [
        '              precision    recall  f1-score   support',
        '',
        '     class 0       0.50      1.00      0.67         1',
        '     class 1       0.00      0.00      0.00         1',
        '     class 2       1.00      0.67      0.80         3',
        '',
        '    accuracy                           0.60         5',
        '   macro avg       0.50      0.56      0.49         5',
        'weighted avg       0.70      0.60      0.61         5',
        '',
      ].join('\n'),
    );
  });

  // cat and dog: 5 right, 3 swapped each way -> precision = recall = F1 = 5/8 = 0.625 exactly.
  // bird: never occurs, predicted once (a fish) -> precision 0/1, recall 0/0 -> 0, F1 0.
  // fish: 1 of 2 right, predicted once -> precision 1, recall 0.5, F1 2/3.
  const matrix = [
    [5, 3, 0, 0],
    [3, 5, 0, 0],
    [0, 0, 0, 0],
    [0, 0, 1, 1],
  ];
  const names = ['cat', 'dog', 'bird', 'fish'];

  test('zero division gives 0 and absent classes count in the macro average', () => {
    const r = classificationReport(matrix, names);
    expect(r.classes.map((c) => [c.precision, c.recall, c.f1, c.support])).toEqual([
      [0.625, 0.625, 0.625, 8],
      [0.625, 0.625, 0.625, 8],
      [0, 0, 0, 0],
      [1, 0.5, 2 / 3, 2],
    ]);
    expect(r.accuracy).toBe(11 / 18);
    expect(r.macroAvg).toEqual({ precision: 2.25 / 4, recall: 1.75 / 4, f1: (1.25 + 2 / 3) / 4, support: 18 });
    expect(r.weightedAvg.precision).toBeCloseTo(12 / 18, 15);
    expect(r.weightedAvg.recall).toBeCloseTo(11 / 18, 15);
    expect(r.weightedAvg.f1).toBeCloseTo((10 + 4 / 3) / 18, 15);
  });

  test('text table rounds exact ties half to even, like Python', () => {
    // 0.625 prints as 0.62 (Python) not 0.63 (JS toFixed); 0.4375 -> 0.44; 0.5625 -> 0.56.
    expect(formatClassificationReport(classificationReport(matrix, names))).toBe(
      [
        '              precision    recall  f1-score   support',
        '',
        '         cat       0.62      0.62      0.62         8',
        '         dog       0.62      0.62      0.62         8',
        '        bird       0.00      0.00      0.00         0',
        '        fish       1.00      0.50      0.67         2',
        '',
        '    accuracy                           0.61        18',
        '   macro avg       0.56      0.44      0.48        18',
        'weighted avg       0.67      0.61      0.63        18',
        '',
      ].join('\n'),
    );
  });

  test('long class names widen the first column; digits=4', () => {
    const text = formatClassificationReport(classificationReport([[1, 0], [0, 1]], ['a-very-long-class-name', 'b']), 4);
    const lines = text.split('\n');
    expect(lines[2]).toBe('a-very-long-class-name     1.0000    1.0000    1.0000         1');
    expect(lines[3]).toBe(`${'b'.padStart(22)}     1.0000    1.0000    1.0000         1`);
  });

  test('an empty matrix reports zeros', () => {
    const r = classificationReport([[0, 0], [0, 0]], ['a', 'b']);
    expect(r.accuracy).toBe(0);
    expect(r.macroAvg).toEqual({ precision: 0, recall: 0, f1: 0, support: 0 });
    expect(r.weightedAvg).toEqual({ precision: 0, recall: 0, f1: 0, support: 0 });
  });

  test('rejects malformed matrices and names', () => {
    expect(() => classificationReport([[1, 2], [3]], ['a', 'b'])).toThrow(ShapeError);
    expect(() => classificationReport([[1, 2], [3]], ['a', 'b'])).toThrow('matrix must be square (2 × 2) but row 1 has 1 entries');
    expect(() => classificationReport([[1, -1], [0, 0]], ['a', 'b'])).toThrow('matrix[0][1] is -1; expected a non-negative integer count');
    expect(() => classificationReport([[1]], ['a', 'b'])).toThrow('classNames has 2 names but the confusion matrix has 1 classes');
    expect(() => classificationReport([[1, 0], [0, 1]], ['a', 'a'])).toThrow("classNames must be distinct; 'a' appears more than once");
  });
});

describe('formatFixed', () => {
  test.each([
    [0.625, 2, '0.62'],
    [0.375, 2, '0.38'],
    [0.125, 2, '0.12'],
    [0.875, 2, '0.88'],
    [0.145, 2, '0.14'], // not a tie: 0.145 is 0.14499999999999999001 in binary
    [2.5, 0, '2'],
    [3.5, 0, '4'],
    [0.5, 0, '0'],
    [-0.625, 2, '-0.62'],
    [2 / 3, 2, '0.67'],
    [1, 2, '1.00'],
  ])('formatFixed(%s, %s) = %s', (x, d, s) => {
    expect(formatFixed(x, d)).toBe(s);
  });
});
