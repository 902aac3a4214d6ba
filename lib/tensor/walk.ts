/**
 * Walking a contiguous tensor in memory order while following a second, broadcast operand.
 *
 * The target shape is split into runs: the innermost dimension after size-1 dimensions are dropped
 * and neighbours the operand walks the same way are merged. Within a run the operand's stride is 0
 * (it is broadcast along the run) or 1 (it is read contiguously), so callers write one tight typed-
 * array loop per run and call {@link RunWalker.next} between runs. The expansion used by the backward
 * of every reduction ({@link broadcastTo}) and the backward of `max` are built on it.
 */
import { broadcastStrides, type Shape } from './shape.js';

/** The runs of a contiguous tensor of shape `shape` and the matching offsets in a broadcast operand. */
export class RunWalker {
  /** Elements per run. */
  readonly run: number;
  /** Number of runs (`run * runs` is the size of the target). */
  readonly runs: number;
  /** Stride of the operand inside a run: 0 (broadcast) or 1 (contiguous). */
  readonly inner: number;
  /** Offset of the current run's first element in the operand. */
  offset = 0;
  private readonly dims: number[];
  private readonly strides: number[];
  private readonly counter: number[];

  /** `from` must broadcast to `shape` (see {@link broadcastStrides}); both are contiguous. */
  constructor(from: Shape, shape: Shape) {
    const st = broadcastStrides(from, shape);
    const dims: number[] = [];
    const strides: number[] = [];
    let size = 1;
    for (let d = 0; d < shape.length; d++) {
      const n = shape[d] as number;
      size *= n;
      if (n === 1) continue;
      const s = st[d] as number;
      const last = dims.length - 1;
      if (last >= 0 && strides[last] === s * n) {
        dims[last] = (dims[last] as number) * n;
        strides[last] = s;
      } else {
        dims.push(n);
        strides.push(s);
      }
    }
    if (dims.length === 0) {
      dims.push(1);
      strides.push(0);
    }
    this.run = size === 0 ? 0 : (dims.pop() as number);
    this.inner = strides.pop() as number;
    this.runs = this.run === 0 ? 0 : size / this.run;
    this.dims = dims;
    this.strides = strides;
    this.counter = new Array<number>(dims.length).fill(0);
  }

  /** Moves {@link offset} to the next run. */
  next(): void {
    const dims = this.dims;
    const strides = this.strides;
    const counter = this.counter;
    for (let d = dims.length - 1; d >= 0; d--) {
      const c = (counter[d] as number) + 1;
      if (c < (dims[d] as number)) {
        counter[d] = c;
        this.offset += strides[d] as number;
        return;
      }
      counter[d] = 0;
      this.offset -= (c - 1) * (strides[d] as number);
    }
  }
}

/**
 * `src` (contiguous, shape `from`) broadcast to `shape` into a new buffer: the copy that
 * `expand`/`expandTo` return. Each run is a `fill` (operand broadcast along it) or a block copy.
 * `from` must broadcast to `shape`; the caller checks.
 */
export function broadcastTo(src: Float32Array, from: Shape, shape: Shape, out: Float32Array): Float32Array {
  const w = new RunWalker(from, shape);
  const n = w.run;
  if (w.inner === 0) {
    for (let r = 0, o = 0; r < w.runs; r++, o += n) {
      out.fill(src[w.offset] as number, o, o + n);
      w.next();
    }
  } else if (n >= 16) {
    for (let r = 0, o = 0; r < w.runs; r++, o += n) {
      out.set(src.subarray(w.offset, w.offset + n), o);
      w.next();
    }
  } else {
    for (let r = 0, o = 0; r < w.runs; r++, o += n) {
      const s = w.offset;
      for (let j = 0; j < n; j++) out[o + j] = src[s + j] as number;
      w.next();
    }
  }
  return out;
}
