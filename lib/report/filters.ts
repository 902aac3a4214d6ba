/**
 * A picture of a convolution's filters: one tile per output channel, laid out in a near-square
 * grid, encoded as PNG with sharp.
 */
import sharp from 'sharp';
import { ArgumentError, ShapeError, invalidArgument } from '../errors.js';
import { Tensor } from '../tensor/tensor.js';

/** Options of {@link filterGrid}. */
export interface FilterGridOptions {
  /** Integer upscale factor (nearest neighbour); default: about 40 px per tile side. */
  scale?: number;
  /** Pixels between tiles and around the grid (default 1). */
  gap?: number;
}

/** The pixel layout {@link filterGrid} uses, for callers that need to find a tile. */
export interface FilterGridLayout {
  columns: number;
  rows: number;
  /** Upscale factor: each weight is a `scale × scale` block. */
  scale: number;
  gap: number;
  /** 3 (RGB, when the weight has 3 input channels) or 1 (grey). */
  channels: 1 | 3;
  width: number;
  height: number;
}

/** Value of the gap pixels (white). */
const GAP_VALUE = 255;

/**
 * Computes the grid layout for a weight of shape [O, I, kh, kw]: `ceil(sqrt(O))` columns, as many
 * rows as needed.
 * @throws ShapeError when `shape` is not 4-D with positive sizes.
 */
export function filterGridLayout(shape: readonly number[], options: FilterGridOptions = {}): FilterGridLayout {
  if (shape.length !== 4 || shape.some((d) => d < 1)) {
    throw new ShapeError(`filterGrid: expected a convolution weight [out, in, kh, kw] with positive sizes but got shape [${shape.join(', ')}]`);
  }
  const [o, i, kh, kw] = shape as [number, number, number, number];
  const scale = options.scale ?? Math.max(1, Math.round(40 / Math.max(kh, kw)));
  if (!Number.isInteger(scale) || scale < 1 || scale > 256) {
    throw invalidArgument('options.scale', 'an integer in [1, 256]', options.scale);
  }
  const gap = options.gap ?? 1;
  if (!Number.isInteger(gap) || gap < 0 || gap > 64) throw invalidArgument('options.gap', 'an integer in [0, 64]', options.gap);
  const columns = Math.ceil(Math.sqrt(o));
  const rows = Math.ceil(o / columns);
  return {
    columns,
    rows,
    scale,
    gap,
    channels: i === 3 ? 3 : 1,
    width: columns * kw * scale + (columns + 1) * gap,
    height: rows * kh * scale + (rows + 1) * gap,
  };
}

/**
 * Renders a convolution weight [O, I, kh, kw] (normally the first layer's) as a PNG: one tile per
 * output channel, row-major in a grid of `ceil(sqrt(O))` columns, separated and framed by `gap`
 * white pixels. With I = 3 a tile is RGB (input channels 0, 1, 2 as red, green, blue); otherwise it
 * is grey and shows input channel 0 only. Each tile is min-max normalised on its own (over all the
 * channels it shows): its smallest weight becomes 0, its largest 255; a constant filter is mid-grey
 * (128). Tiles are upscaled by `scale` with nearest-neighbour so 3×3 kernels stay visible.
 * @returns the PNG bytes (8-bit, 1 or 3 channels; see {@link filterGridLayout} for its size).
 * @throws ShapeError for a weight that is not 4-D, ArgumentError for NaN or infinite weights.
 */
export async function filterGrid(weight: Tensor, options: FilterGridOptions = {}): Promise<Buffer> {
  if (!(weight instanceof Tensor)) throw invalidArgument('weight', 'a Tensor of shape [out, in, kh, kw]', weight);
  const layout = filterGridLayout(weight.shape, options);
  const [o, i, kh, kw] = weight.shape as [number, number, number, number];
  const { columns, scale, gap, channels, width, height } = layout;
  const data = weight.data;
  const pixels = Buffer.alloc(width * height * channels, GAP_VALUE);
  const plane = kh * kw;
  for (let f = 0; f < o; f++) {
    const base = f * i * plane;
    // The values this tile shows: channels 0..2 for RGB, channel 0 for grey.
    const shown = channels * plane;
    let lo = Infinity;
    let hi = -Infinity;
    for (let k = 0; k < shown; k++) {
      const v = data[base + k] as number;
      if (!Number.isFinite(v)) {
        throw new ArgumentError(`filterGrid: weight of output channel ${f} holds ${v} (at flat index ${base + k}); cannot draw non-finite weights`);
      }
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    const range = hi - lo;
    const x0 = gap + (f % columns) * (kw * scale + gap);
    const y0 = gap + Math.floor(f / columns) * (kh * scale + gap);
    for (let y = 0; y < kh; y++) {
      for (let x = 0; x < kw; x++) {
        for (let c = 0; c < channels; c++) {
          const v = data[base + c * plane + y * kw + x] as number;
          const byte = range > 0 ? Math.round(((v - lo) / range) * 255) : 128;
          for (let dy = 0; dy < scale; dy++) {
            let p = ((y0 + y * scale + dy) * width + x0 + x * scale) * channels + c;
            for (let dx = 0; dx < scale; dx++, p += channels) pixels[p] = byte;
          }
        }
      }
    }
  }
  const image = sharp(pixels, { raw: { width, height, channels } });
  // Without an explicit colour space sharp writes one-channel input as an RGB PNG.
  return (channels === 1 ? image.toColourspace('b-w') : image).png().toBuffer();
}
