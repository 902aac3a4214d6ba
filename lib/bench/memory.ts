/**
 * Resident memory of the current process, for the benchmarks that run each row in a process of its
 * own: the peak (VmHWM, what getrusage reports as ru_maxrss) and the current size (VmRSS).
 */
import { readFileSync } from 'node:fs';

/** A field of /proc/self/status in MB, or null where there is no /proc (not Linux). */
function procStatusMb(field: 'VmHWM' | 'VmRSS'): number | null {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync('/proc/self/status', 'utf8'));
    return m === null ? null : Number(m[1]) / 1024;
  } catch {
    return null;
  }
}

/** Peak resident memory of this process in MB (VmHWM; getrusage's ru_maxrss elsewhere). */
export function peakRssMb(): number {
  return procStatusMb('VmHWM') ?? process.resourceUsage().maxRSS / 1024;
}

/** Current resident memory of this process in MB. */
export function rssMb(): number {
  return procStatusMb('VmRSS') ?? process.memoryUsage().rss / 2 ** 20;
}
