/**
 * Printing tensors, in PyTorch's layout: one row per line, values right-aligned, and large
 * tensors summarised with `...` (the first and last 3 entries of each long dimension).
 */
import { formatShape, stridesOf } from './shape.js';
import type { Tensor } from './tensor.js';

/** Tensors with more elements than this are summarised. */
const SUMMARY_THRESHOLD = 1000;
/** Entries shown at each end of a summarised dimension. */
const EDGE_ITEMS = 3;

function formatNumber(v: number): string {
  if (Number.isNaN(v)) return 'nan';
  if (v === Infinity) return 'inf';
  if (v === -Infinity) return '-inf';
  if (Number.isInteger(v) && Math.abs(v) < 1e16) return String(v);
  return String(Number(v.toPrecision(5)));
}

/** `tensor([[1, 2], [3, 4]])` over several lines; see the module comment. */
export function formatTensor(t: Tensor): string {
  const prefix = 'tensor(';
  if (t.shape.length === 0) return `${prefix}${formatNumber(t.data[0] as number)})`;
  if (t.size === 0) return `${prefix}[], shape=${formatShape(t.shape)})`;
  const summarise = t.size > SUMMARY_THRESHOLD;
  const strides = stridesOf(t.shape);
  const indices = (dim: number): (number | null)[] => {
    const n = t.shape[dim] as number;
    if (!summarise || n <= 2 * EDGE_ITEMS) return Array.from({ length: n }, (_, i) => i);
    const head = Array.from({ length: EDGE_ITEMS }, (_, i) => i);
    const tail = Array.from({ length: EDGE_ITEMS }, (_, i) => n - EDGE_ITEMS + i);
    return [...head, null, ...tail];
  };
  // First pass: the widest printed value, so columns line up.
  let width = 0;
  const visit = (dim: number, offset: number): void => {
    for (const i of indices(dim)) {
      if (i === null) continue;
      const o = offset + i * (strides[dim] as number);
      if (dim === t.shape.length - 1) width = Math.max(width, formatNumber(t.data[o] as number).length);
      else visit(dim + 1, o);
    }
  };
  visit(0, 0);
  const render = (dim: number, offset: number, indent: string): string => {
    const parts: string[] = [];
    const last = dim === t.shape.length - 1;
    for (const i of indices(dim)) {
      if (i === null) {
        parts.push('...');
        continue;
      }
      const o = offset + i * (strides[dim] as number);
      parts.push(last ? formatNumber(t.data[o] as number).padStart(width) : render(dim + 1, o, `${indent} `));
    }
    if (last) return `[${parts.join(', ')}]`;
    const gap = '\n'.repeat(t.shape.length - dim - 1);
    return `[${parts.join(`,${gap}${indent} `)}]`;
  };
  const body = render(0, 0, ' '.repeat(prefix.length));
  return `${prefix}${body}${summarise ? `, shape=${formatShape(t.shape)}` : ''})`;
}
