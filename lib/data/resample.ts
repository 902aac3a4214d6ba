/**
 * Bilinear resampling of CHW float32 images, with PyTorch's conventions so results can be checked
 * against torchvision:
 * - {@link resizeBilinear} is `F.interpolate(mode='bilinear', align_corners=False, antialias=False)`
 *   (torchvision's tensor `resize` / `resized_crop` in 0.14): source coordinate
 *   `max(0, (dst + 0.5) * in / out - 0.5)`, neighbours clamped to the edge.
 * - {@link affineBilinear} is `grid_sample(mode='bilinear', padding_mode='zeros',
 *   align_corners=False)` over torchvision's affine grid: coordinates are taken relative to the
 *   image centre `((W-1)/2, (H-1)/2)` (pixel centres at integers), and a neighbour outside the
 *   image contributes zero.
 */

/** [C, H, W]. */
export type ImageShape = [number, number, number];

/** A crop box in pixels. */
export interface Box {
  top: number;
  left: number;
  height: number;
  width: number;
}

/**
 * Resizes the `box` region of a CHW image to `outH` x `outW` (bilinear, align_corners=False, no
 * antialiasing). The box must lie inside the image.
 */
export function resizeBilinear(
  src: Float32Array,
  shape: ImageShape,
  box: Box,
  outH: number,
  outW: number,
): Float32Array {
  const [c, h, w] = shape;
  const out = new Float32Array(c * outH * outW);
  const sy = box.height / outH;
  const sx = box.width / outW;
  const x0 = new Int32Array(outW);
  const x1 = new Int32Array(outW);
  const lx = new Float32Array(outW);
  for (let j = 0; j < outW; j++) {
    const x = Math.max(0, (j + 0.5) * sx - 0.5);
    const i0 = Math.min(Math.floor(x), box.width - 1);
    x0[j] = box.left + i0;
    x1[j] = box.left + Math.min(i0 + 1, box.width - 1);
    lx[j] = x - i0;
  }
  for (let ch = 0; ch < c; ch++) {
    const plane = ch * h * w;
    const o = ch * outH * outW;
    for (let i = 0; i < outH; i++) {
      const y = Math.max(0, (i + 0.5) * sy - 0.5);
      const r0 = Math.min(Math.floor(y), box.height - 1);
      const ly = y - r0;
      const row0 = plane + (box.top + r0) * w;
      const row1 = plane + (box.top + Math.min(r0 + 1, box.height - 1)) * w;
      for (let j = 0; j < outW; j++) {
        const a = x0[j]!;
        const b = x1[j]!;
        const t = lx[j]!;
        const top = src[row0 + a]! * (1 - t) + src[row0 + b]! * t;
        const bot = src[row1 + a]! * (1 - t) + src[row1 + b]! * t;
        out[o + i * outW + j] = top * (1 - ly) + bot * ly;
      }
    }
  }
  return out;
}

/**
 * Samples a CHW image through an affine map: output pixel (x, y), taken relative to the centre,
 * reads the input at `(m[0]x + m[1]y + m[2], m[3]x + m[4]y + m[5])` (also relative to the centre),
 * bilinearly, with zeros outside the image. `m` is the inverse map (output → input), as
 * torchvision's `_get_inverse_affine_matrix` returns it.
 */
export function affineBilinear(src: Float32Array, shape: ImageShape, m: readonly number[]): Float32Array {
  const [c, h, w] = shape;
  const out = new Float32Array(src.length);
  const cx = (w - 1) / 2;
  const cy = (h - 1) / 2;
  const [m0, m1, m2, m3, m4, m5] = m as [number, number, number, number, number, number];
  for (let i = 0; i < h; i++) {
    const y = i - cy;
    for (let j = 0; j < w; j++) {
      const x = j - cx;
      const px = m0 * x + m1 * y + m2 + cx;
      const py = m3 * x + m4 * y + m5 + cy;
      sampleZeros(src, c, h, w, px, py, out, i * w + j);
    }
  }
  return out;
}

/**
 * Bilinear sample at (px, py) (pixel coordinates) of every channel, zeros outside the image;
 * writes channel k's value to `out[at + k * H * W]`.
 */
export function sampleZeros(
  src: Float32Array,
  c: number,
  h: number,
  w: number,
  px: number,
  py: number,
  out: Float32Array,
  at: number,
): void {
  const plane = h * w;
  const xf = Math.floor(px);
  const yf = Math.floor(py);
  const tx = px - xf;
  const ty = py - yf;
  const inX0 = xf >= 0 && xf < w;
  const inX1 = xf + 1 >= 0 && xf + 1 < w;
  const inY0 = yf >= 0 && yf < h;
  const inY1 = yf + 1 >= 0 && yf + 1 < h;
  const w00 = inY0 && inX0 ? (1 - tx) * (1 - ty) : 0;
  const w01 = inY0 && inX1 ? tx * (1 - ty) : 0;
  const w10 = inY1 && inX0 ? (1 - tx) * ty : 0;
  const w11 = inY1 && inX1 ? tx * ty : 0;
  if (w00 === 0 && w01 === 0 && w10 === 0 && w11 === 0) {
    for (let k = 0; k < c; k++) out[at + k * plane] = 0;
    return;
  }
  const base = yf * w + xf;
  for (let k = 0; k < c; k++) {
    const p = k * plane + base;
    let v = 0;
    if (w00 !== 0) v += w00 * src[p]!;
    if (w01 !== 0) v += w01 * src[p + 1]!;
    if (w10 !== 0) v += w10 * src[p + w]!;
    if (w11 !== 0) v += w11 * src[p + w + 1]!;
    out[at + k * plane] = v;
  }
}
