/**
 * Shared by the in-memory datasets (IDX, CIFAR): uint8 pixels to normalised float32, and the
 * option checks for per-channel mean/std.
 */
import { ArgumentError } from '../errors.js';

/** A mean or std given as one number (every channel) or one number per channel. */
export type ChannelStat = number | number[];

/** Expands a {@link ChannelStat} to `channels` values; checks finiteness (and positivity for std). */
export function channelStat(v: ChannelStat | undefined, channels: number, fallback: number, name: string): number[] {
  if (v === undefined) return new Array<number>(channels).fill(fallback);
  const arr = typeof v === 'number' ? new Array<number>(channels).fill(v) : v;
  if (!Array.isArray(arr) || (arr.length !== channels && arr.length !== 1) || !arr.every((x) => typeof x === 'number' && Number.isFinite(x))) {
    throw new ArgumentError(`Expected ${name} to be a finite number or ${channels} finite numbers but received ${JSON.stringify(v)}`);
  }
  const out = arr.length === 1 ? new Array<number>(channels).fill(arr[0]!) : [...arr];
  if (name.endsWith('std') && !out.every((x) => x > 0)) {
    throw new ArgumentError(`Expected ${name} to be positive but received ${JSON.stringify(v)}`);
  }
  return out;
}

/** In place: `x = (x - mean[c]) / std[c]` on a CHW array. */
export function normalizeInPlace(data: Float32Array, channels: number, mean: readonly number[], std: readonly number[]): void {
  const plane = data.length / channels;
  for (let c = 0; c < channels; c++) {
    const m = mean[c]!;
    const s = 1 / std[c]!;
    if (m === 0 && s === 1) continue;
    for (let i = c * plane, e = i + plane; i < e; i++) data[i] = (data[i]! - m) * s;
  }
}
