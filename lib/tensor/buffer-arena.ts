/**
 * Output buffers kept from one forward pass to the next, for a loop that runs the same model again
 * and again (the Predictor's worker). A fresh 30 MB activation can cost more to fault in page by
 * page than the kernel that fills it (a 3x3 depthwise layer of MobileNetV2 at batch 16: 5 ms of
 * arithmetic, 15 to 70 ms with fresh pages, here), and a buffer a forward pass dropped is only
 * freed when V8 next collects garbage, so without reuse every batch pays the page faults again.
 *
 * While {@link BufferArena.run} runs, every tensor buffer the ops allocate (through `allocate` and
 * `allocateUninitialized`) is taken from the arena: a request for n floats gets a free buffer of n
 * floats the arena holds, or a new one it keeps. At the start of a run every buffer is free again.
 * Within a run, code that knows an activation is dead (`Sequential` between its children, the zoo's
 * residual blocks) hands it back with {@link releaseDead}, and the next request of its size reuses
 * it: a forward pass then cycles through a few buffers that stay in the caches instead of walking
 * through one buffer per layer (MobileNetV2 at batch 16 holds ~300 MB of activations, far past
 * the L3 cache, so every layer read its input and wrote its output through main memory).
 * Zeroed requests are zero-filled, which costs a memset of memory already mapped.
 *
 * The contract: nothing a run allocated may be used after the next run starts, and nothing handed
 * to {@link releaseDead} may be read again. The caller copies what it keeps (the logits) before
 * running again. A module that caches a tensor computed in its forward pass breaks that contract,
 * so the arena is for private inference copies, never for training or a user's live model.
 */
import type { Tensor } from './tensor.js';
import { OutOfMemoryError } from '../errors.js';
import { noteAllocation, takeRecycled } from './recycled-buffers.js';

/** Buffers held at most (bytes); requests beyond it get ordinary, unkept allocations. */
export const DEFAULT_ARENA_BYTES = 2 * 1024 ** 3;

let active: BufferArena | null = null;

export class BufferArena {
  /** Every buffer held, by size. */
  readonly #kept = new Map<number, Float32Array[]>();
  /** This run's free buffers, by size; the last released is handed out first (it is warm). */
  readonly #free = new Map<number, Float32Array[]>();
  /** Buffers handed out in this run and not released, by their ArrayBuffer. */
  readonly #inUse = new Map<ArrayBufferLike, Float32Array>();
  #bytes = 0;

  constructor(readonly maxBytes = DEFAULT_ARENA_BYTES) {}

  /** Bytes of the buffers the arena holds. */
  get bytes(): number {
    return this.#bytes;
  }

  /**
   * Runs `fn` with the arena serving the ops' output buffers (see the file comment). Nested calls
   * run inside the outer arena.
   */
  run<T>(fn: () => T): T {
    if (active !== null) return fn();
    this.#free.clear();
    this.#inUse.clear();
    // Reversed, so that a run making the same requests as the last one gets the same buffers.
    for (const [size, list] of this.#kept) this.#free.set(size, list.slice().reverse());
    active = this;
    try {
      return fn();
    } finally {
      active = null;
    }
  }

  /** Drops every buffer. */
  clear(): void {
    this.#kept.clear();
    this.#free.clear();
    this.#inUse.clear();
    this.#bytes = 0;
  }

  /** A buffer of `size` floats for this run, or null when the arena is full. */
  take(size: number): Float32Array | null {
    const free = this.#free.get(size);
    let buf = free?.pop();
    // A buffer transferred to another thread comes back detached (length 0): drop it.
    while (buf !== undefined && buf.length !== size) {
      const kept = this.#kept.get(size)!;
      kept.splice(kept.indexOf(buf), 1);
      this.#bytes -= size * 4;
      buf = free!.pop();
    }
    if (buf === undefined) {
      if (this.#bytes + size * 4 > this.maxBytes) return null;
      buf = uninitialized(size);
      let kept = this.#kept.get(size);
      if (kept === undefined) {
        kept = [];
        this.#kept.set(size, kept);
      }
      kept.push(buf);
      this.#bytes += size * 4;
    }
    this.#inUse.set(buf.buffer, buf);
    return buf;
  }

  /** Makes the run's buffer behind `data` free again (no-op for memory the arena did not hand out). */
  release(data: Float32Array): void {
    const buf = this.#inUse.get(data.buffer);
    if (buf === undefined) return;
    this.#inUse.delete(data.buffer);
    let free = this.#free.get(buf.length);
    if (free === undefined) {
      free = [];
      this.#free.set(buf.length, free);
    }
    free.push(buf);
  }
}

/**
 * Inside an arena run, hands the buffer of `dead` (an activation nothing will read again) back for
 * the run's next requests of its size; outside a run, does nothing. When one of `alive` (tensors
 * still in use: the dead one's consumer's output, a module's input) shares the buffer (a view, an
 * op that returned its input), nothing is released.
 */
export function releaseDead(dead: Tensor, ...alive: Tensor[]): void {
  if (active === null) return;
  const b = dead.data.buffer;
  for (const t of alive) if (t.data.buffer === b) return;
  active.release(dead.data);
}

/**
 * Inside an arena run, hands `data` (a buffer an op allocated in this run, which nothing will read
 * again) back for the run's next requests of its size; outside a run, does nothing. For code that
 * holds raw buffers rather than tensors (the blocked inference chains).
 */
export function releaseBuffer(data: Float32Array): void {
  active?.release(data);
}

function uninitialized(size: number): Float32Array {
  const b = Buffer.allocUnsafeSlow(size * 4);
  return new Float32Array(b.buffer, b.byteOffset, size);
}

/**
 * Allocates a zeroed output buffer (from the running arena, if any). A failed allocation (too large
 * for this process) becomes an {@link OutOfMemoryError} naming the op and the size instead of a
 * bare RangeError.
 */
export function allocate(size: number, op: string): Float32Array {
  try {
    const kept = active?.take(size);
    if (kept != null) return kept.fill(0);
    const recycled = takeRecycled(size);
    const out = recycled !== null ? recycled.fill(0) : new Float32Array(size);
    noteAllocation(out);
    return out;
  } catch (err) {
    throw new OutOfMemoryError(`${op}: cannot allocate ${size} float32 elements (${(err as Error).message})`);
  }
}

/**
 * A Float32Array whose contents are unspecified, for outputs a kernel writes in full: it skips the
 * zero fill (a memset of the whole buffer when the allocator reuses memory).
 */
export function allocateUninitialized(size: number, op: string): Float32Array {
  try {
    const kept = active?.take(size);
    if (kept != null) return kept;
    const out = takeRecycled(size) ?? uninitialized(size);
    noteAllocation(out);
    return out;
  } catch (err) {
    throw new OutOfMemoryError(`${op}: cannot allocate ${size} float32 elements (${(err as Error).message})`);
  }
}
