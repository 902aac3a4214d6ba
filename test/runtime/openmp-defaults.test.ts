// The OpenMP spin count convkit sets before its addon loads (lib/native.ts), and that a user's own
// setting wins.
import { describe, expect, it } from 'vitest';
import { applyOpenMpDefaults, DEFAULT_GOMP_SPINCOUNT } from '../../lib/native.js';

describe('OpenMP defaults', () => {
  it('set a short spin count when the user chose none', () => {
    const env: Record<string, string | undefined> = { PATH: '/usr/bin' };
    applyOpenMpDefaults(env);
    expect(env['GOMP_SPINCOUNT']).toBe(DEFAULT_GOMP_SPINCOUNT);
  });

  it("keep the user's spin count or wait policy", () => {
    const spin: Record<string, string | undefined> = { GOMP_SPINCOUNT: '300000' };
    applyOpenMpDefaults(spin);
    expect(spin['GOMP_SPINCOUNT']).toBe('300000');
    const policy: Record<string, string | undefined> = { OMP_WAIT_POLICY: 'ACTIVE' };
    applyOpenMpDefaults(policy);
    expect(policy['GOMP_SPINCOUNT']).toBeUndefined();
  });
});
