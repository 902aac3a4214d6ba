import { mkdtempSync, readdirSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import sharp from 'sharp';
import { afterAll, describe, expect, test } from 'vitest';
import { ArgumentError } from '../../lib/errors.js';
import type { HistoryRow } from '../../lib/report/charts.js';
import { escapeHtml, inlineSvg, renderReportHtml } from '../../lib/report/html.js';
import { writeReport } from '../../lib/report/write-report.js';
import { Tensor } from '../../lib/tensor/tensor.js';
import { assertWellFormedXml, svgSize } from './svg.js';

const root = mkdtempSync(join(tmpdir(), 'convkit-report-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let dirs = 0;
const freshDir = (): string => join(root, `r${dirs++}`);

const history: HistoryRow[] = [
  { epoch: 1, trainLoss: 1.2, trainAccuracy: 0.55, valLoss: 1.3, valAccuracy: 0.5, lr: 0.1 },
  { epoch: 2, trainLoss: 0.8, trainAccuracy: 0.7, valLoss: 0.9, valAccuracy: 0.66, lr: 0.05 },
];
const confusion = {
  matrix: [
    [5, 1],
    [2, 7],
  ],
  classNames: ['cat', '<b>dog</b>'],
};
const firstConvWeight = new Tensor(Float32Array.from({ length: 8 * 3 * 3 * 3 }, (_, i) => Math.sin(i)), [8, 3, 3, 3]);
const settings = {
  model: 'tiny-cnn',
  epochs: 2,
  optimizer: { name: 'sgd', momentum: 0.9 },
  note: '<script>alert("x")</script> & more',
};

describe('writeReport', () => {
  test("format 'both' writes exactly the listed files, PNGs at twice the SVG size", async () => {
    const dir = freshDir();
    const files = await writeReport(dir, { history, confusion, firstConvWeight, settings, format: 'both' });
    expect(files.map((f) => basename(f))).toEqual([
      'loss.svg',
      'loss.png',
      'accuracy.svg',
      'accuracy.png',
      'confusion.svg',
      'confusion.png',
      'filters.png',
      'report.html',
    ]);
    expect(files.every((f) => f.startsWith(dir))).toBe(true);
    expect(readdirSync(dir).sort()).toEqual(files.map((f) => basename(f)).sort()); // no temp files left
    for (const name of ['loss', 'accuracy', 'confusion']) {
      const svg = readFileSync(join(dir, `${name}.svg`), 'utf8');
      assertWellFormedXml(svg);
      const { width, height } = svgSize(svg);
      const meta = await sharp(join(dir, `${name}.png`)).metadata();
      expect([name, meta.format, meta.width, meta.height]).toEqual([name, 'png', 2 * width, 2 * height]);
    }
    const filters = await sharp(join(dir, 'filters.png')).metadata();
    expect([filters.format, filters.width, filters.height]).toEqual(['png', 3 * 39 + 4, 3 * 39 + 4]);
  });

  test("format 'svg' / 'png' without optional parts", async () => {
    const a = freshDir();
    expect((await writeReport(a, { history, settings: {}, format: 'svg' })).map((f) => basename(f))).toEqual([
      'loss.svg',
      'accuracy.svg',
      'report.html',
    ]);
    expect(readdirSync(a).sort()).toEqual(['accuracy.svg', 'loss.svg', 'report.html']);
    const b = freshDir();
    expect((await writeReport(b, { history, confusion, settings: {}, format: 'png' })).map((f) => basename(f))).toEqual([
      'loss.png',
      'accuracy.png',
      'confusion.png',
      'report.html',
    ]);
    expect(readdirSync(b).sort()).toEqual(['accuracy.png', 'confusion.png', 'loss.png', 'report.html']);
  });

  test('the HTML is self-contained, escapes caller text and inlines the charts', async () => {
    const dir = freshDir();
    await writeReport(dir, { history, confusion, firstConvWeight, settings, title: 'Run <1> & "2"', format: 'svg' });
    const html = readFileSync(join(dir, 'report.html'), 'utf8');
    // inline SVGs: the three charts, with the same marks as the files
    expect(html.match(/<svg\b/g)).toHaveLength(3);
    for (const name of ['loss', 'accuracy', 'confusion']) {
      const svg = readFileSync(join(dir, `${name}.svg`), 'utf8');
      const points = (s: string): number => s.match(/aria-roledescription="(point|rect mark)"/g)?.length ?? 0;
      const figure = new RegExp(`<figure id="${name}-chart">([\\s\\S]*?)</figure>`).exec(html)?.[1] ?? '';
      expect(points(figure)).toBe(points(svg));
      expect(points(figure)).toBeGreaterThan(0);
      assertWellFormedXml(figure);
    }
    // nothing loads from outside; no scripts at all
    expect(html).not.toMatch(/https?:|\/\/[a-z]/i);
    expect(html).not.toMatch(/<script|<link|<iframe|@import/i);
    expect(html).toContain(`Content-Security-Policy" content="default-src 'none'`);
    // escaped settings, title and class names
    expect(html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; more');
    expect(html).toContain('<title>Run &lt;1&gt; &amp; &quot;2&quot;</title>');
    expect(html).toContain('{&quot;name&quot;:&quot;sgd&quot;,&quot;momentum&quot;:0.9}');
    expect(html).toContain('<td>&lt;b&gt;dog&lt;/b&gt;</td>');
    expect(html).not.toContain('<b>dog');
    // classification report: cat precision 5/7, recall 5/6; accuracy 12/15
    expect(html).toMatch(/<td>cat<\/td><td class="num">0\.714<\/td><td class="num">0\.833<\/td>/);
    expect(html).toMatch(/<td>accuracy<\/td><td class="num"><\/td><td class="num"><\/td><td class="num">0\.800<\/td><td class="num">15<\/td>/);
    // history table has the lr column
    expect(html).toContain('<th>lr</th>');
    const cells = ['2', '0.8', '0.7', '0.9', '0.66', '0.05'].map((v) => `<td class="num">${v}</td>`).join('');
    expect(html).toContain(`<tr>${cells}</tr>`);
    // the filter picture is a data: URI holding a PNG of the grid
    const uri = /<img class="filters"[^>]* src="data:image\/png;base64,([A-Za-z0-9+/=]+)"/.exec(html)?.[1];
    expect(uri).toBeDefined();
    const meta = await sharp(Buffer.from(uri as string, 'base64')).metadata();
    expect([meta.format, meta.width]).toEqual(['png', 3 * 39 + 4]);
    // ids are unique across the inlined charts
    const ids = [...html.matchAll(/\bid="([^"]*)"/g)].map((m) => m[1]);
    expect(new Set(ids).size).toBe(ids.length);
  });

  test('a failed render writes nothing; a second run replaces the files', async () => {
    const dir = freshDir();
    const nan = new Tensor(new Float32Array([Number.NaN, 1, 2, 3]), [1, 1, 2, 2]);
    await expect(writeReport(dir, { history, settings, firstConvWeight: nan, format: 'both' })).rejects.toThrow(ArgumentError);
    expect(existsSync(dir)).toBe(false);
    await writeReport(dir, { history, settings, format: 'svg' });
    const first = readFileSync(join(dir, 'report.html'), 'utf8');
    await writeReport(dir, { history: history.slice(0, 1), settings, format: 'svg' });
    expect(readFileSync(join(dir, 'report.html'), 'utf8')).not.toBe(first);
    expect(readdirSync(dir).sort()).toEqual(['accuracy.svg', 'loss.svg', 'report.html']);
  });

  test('argument errors', async () => {
    const dir = freshDir();
    await expect(writeReport(dir, { history, settings, format: 'jpeg' as 'png' })).rejects.toThrow(
      "Expected one of 'png', 'svg', 'both' for options.format but received 'jpeg' of type string",
    );
    await expect(writeReport(dir, { history: [], settings, format: 'png' })).rejects.toThrow(ArgumentError);
    await expect(writeReport(dir, { history, settings: null as unknown as Record<string, unknown>, format: 'png' })).rejects.toThrow(
      'Expected an object of named settings for options.settings but received null',
    );
    await expect(writeReport('', { history, settings, format: 'png' })).rejects.toThrow('for dir');
  });
});

describe('html helpers', () => {
  test('escapeHtml', () => {
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
  });

  test('inlineSvg prefixes ids and their references and drops namespace URLs', () => {
    const svg =
      '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"><defs><linearGradient id="g0"/></defs>' +
      '<rect fill="url(#g0)"/><use xlink:href="#g0"/></svg>';
    expect(inlineSvg(svg, 'c')).toBe('<svg><defs><linearGradient id="c-g0"/></defs><rect fill="url(#c-g0)"/><use xlink:href="#c-g0"/></svg>');
  });

  test('renderReportHtml shows settings of every type', () => {
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    const html = renderReportHtml({
      title: 't',
      settings: { n: 3, b: false, nil: null, big: 10n, list: [1, 'a'], circular, fn: function lr() {} },
      history,
      charts: { loss: '<svg></svg>', accuracy: '<svg></svg>' },
    });
    for (const cell of ['<td>n</td><td>3</td>', '<td>false</td>', '<td>null</td>', '<td>10n</td>', '<td>[1,&quot;a&quot;]</td>', '<td>[object Object]</td>', '<td>[function lr]</td>']) {
      expect(html).toContain(cell);
    }
    expect(html).not.toContain('Evaluation');
  });
});
