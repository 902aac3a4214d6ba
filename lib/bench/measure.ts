/**
 * Timing for benchmarks. Machines are shared and noisy, so every figure is a median over repeated
 * runs after a warm-up, and every comparison is a ratio against a peer measured in the same run.
 */

export interface Timing {
  /** Median seconds per call. */
  median: number;
  /** Number of timed calls. */
  runs: number;
}

/**
 * Calls `fn` once to warm up, then repeatedly until `minSeconds` have passed (at least `minRuns`,
 * at most `maxRuns` calls), and returns the median. Same policy as the Python peers.
 */
export function measure(fn: () => void, minSeconds = 0.5, minRuns = 5, maxRuns = 200): Timing {
  fn();
  const times: number[] = [];
  let total = 0;
  while (times.length < minRuns || (total < minSeconds && times.length < maxRuns)) {
    const t0 = process.hrtime.bigint();
    fn();
    const dt = Number(process.hrtime.bigint() - t0) * 1e-9;
    times.push(dt);
    total += dt;
  }
  times.sort((a, b) => a - b);
  return { median: times[Math.floor(times.length / 2)]!, runs: times.length };
}
