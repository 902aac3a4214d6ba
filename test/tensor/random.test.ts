/**
 * The seedable RNG: reference vectors of the published algorithms, reproducibility, state
 * save/restore, and the distributions of rand/randn (tolerances stated next to each check).
 */
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_SEED,
  Generator,
  defaultGenerator,
  manualSeed,
  rand,
  randn,
  type GeneratorState,
} from '../../lib/index.js';

const N = 100_000;

describe('Generator algorithms match published reference vectors', () => {
  it('xoshiro128** from state (1, 2, 3, 4)', () => {
    // Expected outputs from the rand_xoshiro crate's test, produced with Blackman and Vigna's
    // reference xoshiro128starstar.c (v1.1).
    const g = new Generator(0).setState({ algorithm: 'xoshiro128**', state: [1, 2, 3, 4], spareNormal: null });
    const out = Array.from({ length: 10 }, () => g.nextUint32());
    expect(out).toEqual([
      11520, 0, 5927040, 70819200, 2031721883, 1637235492, 1287239034, 3734860849, 3729100597, 4258142804,
    ]);
    expect(g.getState().state).toEqual([939045227, 1864939416, 1451579149, 2199351389]);
  });

  it('seeding is SplitMix64 (little-endian words, as rand_xoshiro seed_from_u64)', () => {
    // SplitMix64 seeded with 1477776061723855037 outputs 1985237415132408290, 2979275885539914483
    // (rand_xoshiro's test vector from the reference splitmix64.c).
    const outputs = [1985237415132408290n, 2979275885539914483n];
    const words = outputs.flatMap((x) => [Number(x & 0xffffffffn), Number(x >> 32n)]);
    expect(new Generator(1477776061723855037n).getState().state).toEqual(words);
  });

  it('derives floats from the top bits', () => {
    const g = new Generator(0).setState({ algorithm: 'xoshiro128**', state: [1, 2, 3, 4], spareNormal: null });
    const h = new Generator(0).setState({ algorithm: 'xoshiro128**', state: [1, 2, 3, 4], spareNormal: null });
    for (let i = 0; i < 10; i++) expect(g.nextFloat()).toBe((h.nextUint32() >>> 8) / 2 ** 24);
    const x = g.nextDouble();
    expect(x).toBe(((h.nextUint32() >>> 5) * 2 ** 26 + (h.nextUint32() >>> 6)) / 2 ** 53);
  });
});

describe('reproducibility', () => {
  it('the same seed gives identical tensors; different seeds differ', () => {
    const a = rand([4, 5], { seed: 42 });
    const b = rand([4, 5], { seed: 42 });
    const c = rand([4, 5], { seed: 43 });
    expect(Array.from(a.data)).toEqual(Array.from(b.data));
    expect(Array.from(a.data)).not.toEqual(Array.from(c.data));
    const n1 = randn([3, 7], { generator: new Generator(7) });
    const n2 = randn([3, 7], { generator: new Generator(7) });
    const n3 = randn([3, 7], { generator: new Generator(8) });
    expect(Array.from(n1.data)).toEqual(Array.from(n2.data));
    expect(Array.from(n1.data)).not.toEqual(Array.from(n3.data));
    expect(n1.shape).toEqual([3, 7]);
  });

  it('manualSeed reseeds the default generator', () => {
    const g = manualSeed(5);
    expect(g).toBe(defaultGenerator());
    expect(g.initialSeed).toBe(5);
    const a = rand([10]);
    manualSeed(5);
    const b = rand(10);
    expect(Array.from(a.data)).toEqual(Array.from(b.data));
    expect(Array.from(rand([10], { seed: 5 }).data)).toEqual(Array.from(a.data));
  });

  it('a seed option does not touch the default generator', () => {
    manualSeed(9);
    const expected = Array.from(randn([6]).data);
    manualSeed(9);
    randn([100], { seed: 1 });
    expect(Array.from(randn([6]).data)).toEqual(expected);
  });

  it('an explicit generator advances; split draws continue one stream', () => {
    const g = new Generator(11);
    const whole = randn([7], { generator: new Generator(11) });
    const first = randn([3], { generator: g }); // leaves a spare Box–Muller value pending
    const second = randn([4], { generator: g });
    expect([...first.data, ...second.data]).toEqual(Array.from(whole.data));
  });

  it('the default seed is PyTorch’s, so unseeded code is reproducible', () => {
    expect(DEFAULT_SEED).toBe(67280421310721);
    expect(new Generator().getState()).toEqual(new Generator(DEFAULT_SEED).getState());
  });

  it('negative seeds wrap to 64 bits', () => {
    expect(new Generator(-1).getState()).toEqual(new Generator(2n ** 64n - 1n).getState());
    expect(new Generator(-1).getState()).not.toEqual(new Generator(1).getState());
  });

  it('rand/randn give exactly what repeated nextFloat()/nextNormal() give', () => {
    for (const n of [0, 1, 2, 7, 1000]) {
      const g = new Generator(31);
      const floats = Array.from({ length: n }, () => Math.fround(g.nextFloat()));
      const normals = Array.from({ length: n }, () => Math.fround(g.nextNormal()));
      const h = new Generator(31);
      expect(Array.from(rand([n], { generator: h }).data)).toEqual(floats);
      expect(Array.from(randn([n], { generator: h }).data)).toEqual(normals);
      expect(h.getState()).toEqual(g.getState());
    }
  });

  it('seed() restarts the stream', () => {
    const g = new Generator(3);
    const a = [g.nextUint32(), g.nextNormal()];
    g.seed(3);
    expect([g.nextUint32(), g.nextNormal()]).toEqual(a);
  });
});

describe('state save / restore', () => {
  it('setState(getState()) resumes the sequence, including a pending normal', () => {
    const g = new Generator(123);
    randn([5], { generator: g }); // odd count: a spare normal is pending
    const state = g.getState();
    expect(state.spareNormal).not.toBeNull();
    const a = randn([9], { generator: g });
    const b = rand([4], { generator: g });
    g.setState(state);
    expect(Array.from(randn([9], { generator: g }).data)).toEqual(Array.from(a.data));
    expect(Array.from(rand([4], { generator: g }).data)).toEqual(Array.from(b.data));
  });

  it('the state is plain JSON and restores into another generator', () => {
    const g = new Generator(77);
    g.nextNormal();
    const saved = JSON.parse(JSON.stringify(g.getState())) as GeneratorState;
    const h = new Generator(1).setState(saved);
    for (let i = 0; i < 20; i++) expect(h.nextNormal()).toBe(g.nextNormal());
  });

  it('getState returns a copy', () => {
    const g = new Generator(5);
    const s = g.getState();
    s.state[0] = 0;
    expect(g.getState().state[0]).not.toBe(0);
  });
});

describe('distributions (100k samples)', () => {
  it('rand is in [0, 1) and uniform: mean 0.5 ± 0.005, each tenth holds 10% ± 0.5%', () => {
    // Standard errors: mean sqrt(1/12/N) = 0.0009, a decile's share sqrt(0.09/N) = 0.00095; bounds ~5 SE.
    const x = rand([N], { seed: 2024 }).data;
    let min = Infinity;
    let maxv = -Infinity;
    let s = 0;
    const bins = new Array<number>(10).fill(0);
    for (const v of x) {
      min = Math.min(min, v);
      maxv = Math.max(maxv, v);
      s += v;
      bins[Math.floor(v * 10)]! += 1;
    }
    expect(min).toBeGreaterThanOrEqual(0);
    expect(maxv).toBeLessThan(1);
    expect(Math.abs(s / N - 0.5)).toBeLessThan(0.005);
    for (const b of bins) expect(Math.abs(b / N - 0.1)).toBeLessThan(0.005);
  });

  it('randn has mean 0 ± 0.02, std 1 ± 0.02 and a normal CDF (± 0.01 at -2, -1, 0, 1, 2)', () => {
    // Standard errors: mean 1/sqrt(N) = 0.0032, std 1/sqrt(2N) = 0.0022, CDF <= 0.0016; bounds >= 6 SE.
    const x = randn([N], { seed: 2025 }).data;
    let s = 0;
    let s2 = 0;
    for (const v of x) {
      s += v;
      s2 += v * v;
    }
    const mean = s / N;
    const std = Math.sqrt(s2 / N - mean * mean);
    expect(Math.abs(mean)).toBeLessThan(0.02);
    expect(Math.abs(std - 1)).toBeLessThan(0.02);
    const phi: [number, number][] = [
      [-2, 0.022750131948179],
      [-1, 0.158655253931457],
      [0, 0.5],
      [1, 0.841344746068543],
      [2, 0.977249868051821],
    ];
    for (const [z, p] of phi) {
      let below = 0;
      for (const v of x) if (v < z) below++;
      expect(Math.abs(below / N - p), `CDF at ${z}`).toBeLessThan(0.01);
    }
    expect(x.every((v) => Number.isFinite(v))).toBe(true);
  });
});
