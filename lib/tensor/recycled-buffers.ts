/**
 * Gradient buffers the reverse sweep has finished with, handed to the next allocations instead of
 * being left to V8's garbage collector.
 *
 * A training step drops every intermediate gradient as soon as the op that produced it has been
 * backpropagated through, but V8 frees an ArrayBuffer only when it next collects garbage, which it
 * does by the volume of its own heap (small here) and of outside memory (tens of MB). So between two
 * collections up to ~60 MB of dead gradients pile up; the C allocator's heap grows to the largest
 * such pile it has seen, and resident memory climbs step after step towards that high-water mark.
 * Recycling the gradients removes half of the pile (the other half is the forward activations,
 * which user code may still hold, so they are left to the collector).
 *
 * Safety rests on ownership, which the engine (lib/autograd/backward.ts) tracks: only a buffer
 * allocated during the current backward pass ({@link recordAllocations}), whose every gradient
 * view has been consumed, and which no leaf adopted as its `.grad`, is handed to {@link recycle}.
 * Such a buffer is unreachable from user code: backward functions return gradients and keep none.
 */

/** Bytes held at most; a buffer that would exceed it is left to the garbage collector. */
export const RECYCLED_BYTES_LIMIT = 256 * 1024 ** 2;

const bySize = new Map<number, Float32Array[]>();
let heldBytes = 0;
let recording: Set<ArrayBufferLike> | null = null;

/**
 * Runs `fn` with every buffer that {@link noteAllocation} reports collected into the set it
 * receives (the buffers a backward pass allocated). Nested calls get their own set.
 */
export function recordAllocations<T>(fn: (allocated: ReadonlySet<ArrayBufferLike>) => T): T {
  const outer = recording;
  const mine = new Set<ArrayBufferLike>();
  recording = mine;
  try {
    return fn(mine);
  } finally {
    recording = outer;
  }
}

/** Reports a freshly allocated buffer (or a recycled one handed out again) to the recording pass. */
export function noteAllocation(data: Float32Array): void {
  if (recording !== null) recording.add(data.buffer);
}

/**
 * Keeps a dead gradient buffer for reuse. The caller guarantees nothing can reach it any more (see
 * the file comment).
 */
export function recycle(buffer: ArrayBufferLike): void {
  const bytes = buffer.byteLength;
  if (bytes === 0 || bytes % 4 !== 0 || heldBytes + bytes > RECYCLED_BYTES_LIMIT) return;
  const size = bytes / 4;
  let list = bySize.get(size);
  if (list === undefined) {
    list = [];
    bySize.set(size, list);
  }
  list.push(new Float32Array(buffer));
  heldBytes += bytes;
}

/** A recycled buffer of exactly `size` floats (contents unspecified), or null. */
export function takeRecycled(size: number): Float32Array | null {
  const list = bySize.get(size);
  const kept = list?.pop();
  if (kept === undefined) return null;
  heldBytes -= size * 4;
  return kept;
}

/** Bytes of the buffers held for reuse. */
export function recycledBytes(): number {
  return heldBytes;
}

/** Drops every buffer held for reuse (the garbage collector frees them). */
export function releaseRecycledBuffers(): void {
  bySize.clear();
  heldBytes = 0;
}
