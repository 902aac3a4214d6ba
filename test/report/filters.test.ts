import sharp from 'sharp';
import { describe, expect, test } from 'vitest';
import { ArgumentError, ShapeError } from '../../lib/errors.js';
import { filterGrid, filterGridLayout } from '../../lib/report/filters.js';
import { Tensor } from '../../lib/tensor/tensor.js';

/** Decodes a PNG to raw pixels with the PNG's own channel count (sharp expands grey to RGB on output). */
async function decode(png: Buffer): Promise<{ data: Buffer; width: number; height: number; channels: number }> {
  const meta = await sharp(png).metadata();
  const img = meta.channels === 1 ? sharp(png).extractChannel(0) : sharp(png);
  const { data, info } = await img.raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height, channels: meta.channels ?? 0 };
}

function weight(shape: [number, number, number, number], fill: (o: number, i: number, y: number, x: number) => number): Tensor {
  const [O, I, H, W] = shape;
  const data = new Float32Array(O * I * H * W);
  let k = 0;
  for (let o = 0; o < O; o++) for (let i = 0; i < I; i++) for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) data[k++] = fill(o, i, y, x);
  return new Tensor(data, shape);
}

describe('filterGrid', () => {
  test('a ramp filter becomes a 0..255 ramp tile framed by 1-px white gaps', async () => {
    // values -1, 0, 1, 2, 3, 4 -> 0, 51, 102, 153, 204, 255
    const png = await filterGrid(weight([1, 1, 2, 3], (_o, _i, y, x) => y * 3 + x - 1), { scale: 1 });
    const img = await decode(png);
    expect([img.width, img.height, img.channels]).toEqual([5, 4, 1]);
    expect([...img.data]).toEqual([
      255, 255, 255, 255, 255,
      255, 0, 51, 102, 255,
      255, 153, 204, 255, 255,
      255, 255, 255, 255, 255,
    ]);
  });

  test('nearest upscaling repeats each weight in a scale × scale block', async () => {
    const png = await filterGrid(weight([1, 1, 1, 2], (_o, _i, _y, x) => x), { scale: 3, gap: 0 });
    const img = await decode(png);
    expect([img.width, img.height]).toEqual([6, 3]);
    for (let y = 0; y < 3; y++) expect([...img.data.subarray(y * 6, y * 6 + 6)]).toEqual([0, 0, 0, 255, 255, 255]);
  });

  test('RGB when there are 3 input channels, normalised jointly over the three', async () => {
    // channel c holds the value c (everywhere) for filter 0; min 0 -> 0, max 2 -> 255, 1 -> 128
    const png = await filterGrid(weight([1, 3, 2, 2], (_o, i) => i * 10 - 7), { scale: 1 });
    const img = await decode(png);
    expect([img.width, img.height, img.channels]).toEqual([4, 4, 3]);
    const px = (x: number, y: number): number[] => [...img.data.subarray((y * 4 + x) * 3, (y * 4 + x) * 3 + 3)];
    expect(px(1, 1)).toEqual([0, 128, 255]);
    expect(px(2, 2)).toEqual([0, 128, 255]);
    expect(px(0, 0)).toEqual([255, 255, 255]);
  });

  test('each tile is normalised on its own; a constant filter is mid-grey', async () => {
    const w = weight([3, 1, 1, 2], (o, _i, _y, x) => (o === 2 ? 5 : (o + 1) * 100 * x));
    const img = await decode(await filterGrid(w, { scale: 1 }));
    // 3 filters -> 2 columns, 2 rows; tiles 2×1 px: width 2*2+3 = 7, height 2*1+3 = 5
    expect([img.width, img.height]).toEqual([7, 5]);
    const at = (x: number, y: number): number => img.data[y * 7 + x] as number;
    expect([at(1, 1), at(2, 1)]).toEqual([0, 255]); // filter 0: 0, 100
    expect([at(4, 1), at(5, 1)]).toEqual([0, 255]); // filter 1: 0, 200
    expect([at(1, 3), at(2, 3)]).toEqual([128, 128]); // filter 2: constant
    expect([at(4, 3), at(5, 3)]).toEqual([255, 255]); // empty slot stays background
  });

  test('grey tiles show input channel 0 only when I is not 3', async () => {
    // channel 1 holds huge values that must not affect the normalisation of channel 0
    const w = weight([1, 4, 1, 3], (_o, i, _y, x) => (i === 0 ? x : 1000 * (i + x)));
    const img = await decode(await filterGrid(w, { scale: 1 }));
    expect(img.channels).toBe(1);
    expect([...img.data.subarray(5 + 1, 5 + 4)]).toEqual([0, 128, 255]);
  });

  test('layout: about square, default scale makes tiles ~40 px', () => {
    expect(filterGridLayout([64, 3, 3, 3])).toEqual({ columns: 8, rows: 8, scale: 13, gap: 1, channels: 3, width: 8 * 39 + 9, height: 8 * 39 + 9 });
    expect(filterGridLayout([6, 1, 5, 5])).toMatchObject({ columns: 3, rows: 2, scale: 8, channels: 1 });
    expect(filterGridLayout([96, 3, 11, 11])).toMatchObject({ columns: 10, rows: 10, scale: 4 });
  });

  test('the PNG has the layout size', async () => {
    const w = weight([10, 3, 3, 3], (o, i, y, x) => Math.sin(o + i * 3 + y * 7 + x * 11));
    const meta = await sharp(await filterGrid(w)).metadata();
    const layout = filterGridLayout(w.shape);
    expect([meta.format, meta.width, meta.height, meta.channels]).toEqual(['png', layout.width, layout.height, 3]);
  });

  test('errors', async () => {
    await expect(filterGrid(new Tensor(new Float32Array(9), [1, 3, 3]))).rejects.toThrow(ShapeError);
    await expect(filterGrid(new Tensor(new Float32Array(9), [1, 3, 3]))).rejects.toThrow(
      'filterGrid: expected a convolution weight [out, in, kh, kw] with positive sizes but got shape [1, 3, 3]',
    );
    const bad = weight([2, 1, 1, 2], () => 0);
    bad.data[3] = Number.NaN;
    await expect(filterGrid(bad)).rejects.toThrow(
      new ArgumentError('filterGrid: weight of output channel 1 holds NaN (at flat index 3); cannot draw non-finite weights'),
    );
    await expect(filterGrid(weight([1, 1, 1, 1], () => 0), { scale: 0 })).rejects.toThrow('Expected an integer in [1, 256] for options.scale');
    await expect(filterGrid([1, 2] as unknown as Tensor)).rejects.toThrow(ArgumentError);
  });
});
