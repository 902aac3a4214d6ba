/**
 * Output buffers kept from one forward pass to the next, for a loop that runs the same model again
 * and again (the Predictor's worker). A fresh 30 MB activation can cost more to fault in page by
 * page than the kernel that fills it (a 3x3 depthwise layer of MobileNetV2 at batch 16: 5 ms of
 * arithmetic, 15 to 70 ms with fresh pages, here), and a buffer a forward pass dropped is only
 * freed when V8 next collects garbage, so without reuse every batch pays the page faults again.
 *
 * While {@link BufferArena.run} runs, every tensor buffer the ops allocate (through `allocate` and
 * `allocateUninitialized`) is taken from the arena: the k-th request for n floats in a run gets the
 * k-th buffer of n floats the arena holds, so a run that repeats the previous one's allocations
 * reuses all of them, and a run of a new shape (a smaller last batch) adds its own. Zeroed requests
 * are zero-filled, which costs a memset of memory already mapped.
 *
 * The contract: nothing a run allocated may be used after the next run starts. The caller copies
 * what it keeps (the logits) before running again. A module that caches a tensor computed in its
 * forward pass breaks that contract, so the arena is for private inference copies, never for
 * training or a user's live model.
 */
import { OutOfMemoryError } from '../errors.js';
import { noteAllocation, takeRecycled } from './recycled-buffers.js';

/** Buffers held at most (bytes); requests beyond it get ordinary, unkept allocations. */
export const DEFAULT_ARENA_BYTES = 2 * 1024 ** 3;

let active: BufferArena | null = null;

export class BufferArena {
  readonly #bySize = new Map<number, Float32Array[]>();
  readonly #taken = new Map<number, number>();
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
    this.#taken.clear();
    active = this;
    try {
      return fn();
    } finally {
      active = null;
    }
  }

  /** Drops every buffer. */
  clear(): void {
    this.#bySize.clear();
    this.#taken.clear();
    this.#bytes = 0;
  }

  /** A buffer of `size` floats for this run, or null when the arena is full. */
  take(size: number): Float32Array | null {
    const k = this.#taken.get(size) ?? 0;
    this.#taken.set(size, k + 1);
    let list = this.#bySize.get(size);
    if (list === undefined) {
      list = [];
      this.#bySize.set(size, list);
    }
    const kept = list[k];
    // A buffer transferred to another thread comes back detached (length 0): replace it.
    if (kept !== undefined && kept.length === size) return kept;
    if (kept === undefined && this.#bytes + size * 4 > this.maxBytes) return null;
    const fresh = uninitialized(size);
    if (kept === undefined) {
      list.push(fresh);
      this.#bytes += size * 4;
    } else {
      list[k] = fresh;
    }
    return fresh;
  }
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
