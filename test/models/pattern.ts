// The deterministic weights of scripts/golden/models.py, reproduced exactly: every floating
// state-dict entry (num_batches_tracked is an integer in torch and is skipped) is filled in order.
import type { Module } from '../../lib/nn/module.js';

export function pattern(n: number, k: number, salt: number): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = (((i * 7919 + k * 104729 + salt) % 2001) - 1000) / 1000;
  return out;
}

export function patternFill(model: Module): void {
  let k = 0;
  for (const [name, t] of model.stateDict()) {
    if (name.endsWith('num_batches_tracked')) continue;
    const p = pattern(t.size, k, 17);
    const d = t.data;
    if (name.endsWith('running_var')) for (let i = 0; i < p.length; i++) d[i] = 1 + 0.5 * Math.abs(p[i] as number);
    else if (name.endsWith('running_mean')) for (let i = 0; i < p.length; i++) d[i] = 0.1 * (p[i] as number);
    else if (t.ndim === 1 && name.endsWith('weight')) for (let i = 0; i < p.length; i++) d[i] = 1 + 0.2 * (p[i] as number);
    else if (t.ndim === 1) for (let i = 0; i < p.length; i++) d[i] = 0.1 * (p[i] as number);
    else {
      const scale = 1.7 / Math.sqrt(t.size / (t.shape[0] as number));
      for (let i = 0; i < p.length; i++) d[i] = (p[i] as number) * scale;
    }
    k++;
  }
}
