/**
 * Where the data path's randomness comes from. Every random choice is a pure function of the
 * loader's seed, the epoch and (for augmentation) the sample's dataset index, never of the order in
 * which samples happen to be processed, so one seed gives the same batches with any number of
 * worker threads and any scheduling.
 *
 * The hash: `mix` is SplitMix64's finaliser (Steele, Lea and Flood) on 64-bit words,
 *
 *   shuffleSeed(seed, epoch)       = mix(mix(seed ^ TAG_SHUFFLE) ^ epoch)
 *   sampleSeed(seed, epoch, index) = mix(mix(mix(seed ^ TAG_SAMPLE) ^ epoch) ^ index)
 *
 * with the two tags constants below; each result seeds a fresh {@link Generator} (xoshiro128**).
 */
import { ArgumentError } from '../errors.js';
import { Generator } from '../tensor/random.js';

const MASK64 = (1n << 64n) - 1n;
/** Tag mixed into shuffling seeds ("shuffle" in ASCII, as a number). */
const TAG_SHUFFLE = 0x73687566666c65n;
/** Tag mixed into per-sample augmentation seeds ("sample"). */
const TAG_SAMPLE = 0x73616d706c65n;

/** SplitMix64's output function: a bijective 64-bit mix. */
export function mix64(x: bigint): bigint {
  let z = (x + 0x9e3779b97f4a7c15n) & MASK64;
  z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & MASK64;
  z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & MASK64;
  return z ^ (z >> 31n);
}

function word(v: number | bigint, name: string): bigint {
  if (typeof v === 'bigint') return BigInt.asUintN(64, v);
  if (!Number.isSafeInteger(v)) throw new ArgumentError(`Expected a safe integer for ${name} but received ${String(v)}`);
  return BigInt.asUintN(64, BigInt(v));
}

/** The seed of epoch `epoch`'s shuffle (see the module comment). */
export function shuffleSeed(seed: number | bigint, epoch: number): bigint {
  return mix64(mix64(word(seed, 'seed') ^ TAG_SHUFFLE) ^ word(epoch, 'epoch'));
}

/** The seed of sample `index`'s augmentation in epoch `epoch` (see the module comment). */
export function sampleSeed(seed: number | bigint, epoch: number, index: number): bigint {
  return mix64(mix64(mix64(word(seed, 'seed') ^ TAG_SAMPLE) ^ word(epoch, 'epoch')) ^ word(index, 'index'));
}

/** A generator for sample `index` of epoch `epoch`. */
export function sampleGenerator(seed: number | bigint, epoch: number, index: number): Generator {
  return new Generator(sampleSeed(seed, epoch, index));
}

/**
 * The order of epoch `epoch`: 0..n-1 shuffled by Fisher–Yates (from the end, j uniform in [0, i]
 * from one float64 draw) with a generator seeded by {@link shuffleSeed}.
 */
export function epochPermutation(n: number, seed: number | bigint, epoch: number): Uint32Array {
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  const g = new Generator(shuffleSeed(seed, epoch));
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(g.nextDouble() * (i + 1));
    const t = order[i]!;
    order[i] = order[j]!;
    order[j] = t;
  }
  return order;
}
