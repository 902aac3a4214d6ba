import sharp from 'sharp';
import { describe, expect, test } from 'vitest';
import { ArgumentError, ShapeError } from '../../lib/errors.js';
import { accuracyChart, confusionChart, lossChart, type HistoryRow } from '../../lib/report/charts.js';
import { svgToPng } from '../../lib/report/raster.js';
import { assertWellFormedXml, pointLabels, svgSize, texts } from './svg.js';

const full: HistoryRow[] = [
  { epoch: 1, trainLoss: 2.25, trainAccuracy: 0.25, valLoss: 2.5, valAccuracy: 0.2, lr: 0.1 },
  { epoch: 2, trainLoss: 1.5, trainAccuracy: 0.5, valLoss: 1.75, valAccuracy: 0.45, lr: 0.1 },
  { epoch: 3, trainLoss: 0.75, trainAccuracy: 0.75, valLoss: 1.25, valAccuracy: 0.6, lr: 0.01 },
];

/** Points of the line path of one colour: `M x,y L x,y ...` -> number of vertices. */
function linePathVertices(svg: string): number[] {
  return [...svg.matchAll(/aria-roledescription="line mark" d="([^"]*)"/g)].map((m) => (m[1] as string).split(/[ML]/).filter(Boolean).length);
}

describe('lossChart / accuracyChart', () => {
  test('loss: valid SVG with titles, one point per epoch and series, one line per series', async () => {
    const svg = await lossChart(full);
    assertWellFormedXml(svg);
    const t = texts(svg);
    for (const title of ['Loss', 'epoch', 'loss', 'train', 'validation']) expect(t).toContain(title);
    expect(pointLabels(svg).sort()).toEqual(
      [
        'epoch: 1; loss: 2.25; series: train',
        'epoch: 2; loss: 1.5; series: train',
        'epoch: 3; loss: 0.75; series: train',
        'epoch: 1; loss: 2.5; series: validation',
        'epoch: 2; loss: 1.75; series: validation',
        'epoch: 3; loss: 1.25; series: validation',
      ].sort(),
    );
    expect(linePathVertices(svg)).toEqual([3, 3]);
    // x axis ticks are whole epochs
    expect(t).toEqual(expect.arrayContaining(['1', '2', '3']));
  });

  test('accuracy uses the accuracy fields and titles', async () => {
    const svg = await accuracyChart(full);
    assertWellFormedXml(svg);
    expect(texts(svg)).toEqual(expect.arrayContaining(['Accuracy', 'epoch', 'accuracy', 'train', 'validation']));
    expect(pointLabels(svg)).toContain('epoch: 3; accuracy: 0.75; series: train');
    expect(pointLabels(svg)).toContain('epoch: 2; accuracy: 0.45; series: validation');
    expect(pointLabels(svg)).toHaveLength(6);
  });

  test('missing validation values are skipped; no validation at all means no validation legend entry', async () => {
    const partial = full.map((r, i) => (i === 1 ? { epoch: r.epoch, trainLoss: r.trainLoss, trainAccuracy: r.trainAccuracy } : r));
    const svg = await lossChart(partial);
    expect(pointLabels(svg)).toHaveLength(5);
    expect(pointLabels(svg).filter((l) => l.endsWith('validation'))).toEqual([
      'epoch: 1; loss: 2.5; series: validation',
      'epoch: 3; loss: 1.25; series: validation',
    ]);
    const trainOnly = full.map(({ epoch, trainLoss, trainAccuracy }) => ({ epoch, trainLoss, trainAccuracy }));
    const svg2 = await accuracyChart(trainOnly);
    assertWellFormedXml(svg2);
    expect(pointLabels(svg2)).toHaveLength(3);
    expect(texts(svg2)).not.toContain('validation');
  });

  test('a single epoch draws its points with the epoch on the axis', async () => {
    const svg = await lossChart([{ epoch: 1, trainLoss: 0.9, trainAccuracy: 0.6, valLoss: 1.1 }]);
    assertWellFormedXml(svg);
    expect(pointLabels(svg).sort()).toEqual(['epoch: 1; loss: 0.9; series: train', 'epoch: 1; loss: 1.1; series: validation']);
    expect(texts(svg)).toContain('1');
  });

  test('rows are sorted by epoch; NaN losses are left out', async () => {
    const svg = await lossChart([
      { epoch: 2, trainLoss: Number.NaN, trainAccuracy: 0.1 },
      { epoch: 1, trainLoss: 1, trainAccuracy: 0.1 },
      { epoch: 3, trainLoss: 0.5, trainAccuracy: 0.1 },
    ]);
    expect(pointLabels(svg)).toEqual(['epoch: 1; loss: 1; series: train', 'epoch: 3; loss: 0.5; series: train']);
  });

  test('options set the plot size', async () => {
    const small = svgSize(await lossChart(full, { width: 200, height: 100 }));
    const large = svgSize(await lossChart(full, { width: 400, height: 300 }));
    expect(large.width - small.width).toBe(200);
    expect(large.height).toBeGreaterThan(300); // plot height plus title and axis
    expect(small.height).toBeLessThan(large.height - 150);
  });

  test('bad histories throw ArgumentError', async () => {
    expect(() => lossChart([])).toThrow(ArgumentError);
    expect(() => lossChart([full[0] as HistoryRow, full[0] as HistoryRow])).toThrow(
      'history has epoch 1 more than once (rows must be one per epoch)',
    );
    expect(() => lossChart([{ epoch: 1, trainLoss: '1' as unknown as number, trainAccuracy: 0 }])).toThrow(
      "Expected a number for history[0].trainLoss but received '1' of type string",
    );
    expect(() => lossChart(full, { width: 0 })).toThrow('options.width');
  });

  test('rasterises to a PNG of twice the SVG size', async () => {
    const svg = await lossChart(full);
    const { width, height } = svgSize(svg);
    const meta = await sharp(await svgToPng(svg)).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['png', width * 2, height * 2]);
  });
});

describe('confusionChart', () => {
  const matrix = [
    [5, 1, 0],
    [2, 7, 1],
    [0, 0, 9],
  ];

  test('valid SVG heatmap: one cell and one count per entry, class names on both axes', async () => {
    const svg = await confusionChart(matrix, ['cat', 'dog', 'bird']);
    assertWellFormedXml(svg);
    const cells = [...svg.matchAll(/aria-roledescription="rect mark"/g)];
    expect(cells).toHaveLength(9);
    const counts = [...svg.matchAll(/aria-roledescription="text mark"[^>]*>(\d+)<\/text>/g)].map((m) => Number(m[1]));
    expect(counts.sort((a, b) => a - b)).toEqual(matrix.flat().sort((a, b) => a - b));
    const t = texts(svg);
    for (const s of ['Confusion matrix', 'predicted', 'true', 'cat', 'dog', 'bird']) expect(t).toContain(s);
    expect(t.filter((s) => s === 'bird')).toHaveLength(2);
  });

  test('class names are escaped', async () => {
    const svg = await confusionChart([[1, 0], [0, 1]], ['<script>x</script>', 'a&b"c']);
    assertWellFormedXml(svg);
    expect(svg).not.toContain('<script');
    expect(texts(svg)).toContain('&lt;script&gt;x&lt;/script&gt;');
    expect(texts(svg)).toContain('a&amp;b"c');
  });

  test('many classes: small cells without counts', async () => {
    const n = 40;
    const big = Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => (i === j ? 10 : 0)));
    const svg = await confusionChart(big, Array.from({ length: n }, (_, i) => `c${i}`));
    assertWellFormedXml(svg);
    expect([...svg.matchAll(/aria-roledescription="rect mark"/g)]).toHaveLength(n * n);
    expect(svg).not.toContain('aria-roledescription="text mark"');
  });

  test('rejects bad matrices', () => {
    expect(() => confusionChart([[1, 2]], ['a'])).toThrow(ShapeError);
    expect(() => confusionChart([[1]], ['a', 'b'])).toThrow(ArgumentError);
  });
});
