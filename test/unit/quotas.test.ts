import { describe, expect, it } from 'vitest';
import { checkActiveJobQuota, checkPoolQuota, coresInUse, coresOf, countsAgainstJobQuota, grantCores } from '../../shared/domain/quotas';
import { BatchError } from '../../shared/errors';

function codeAndStatus(fn: () => void): [string, number] | undefined {
  try {
    fn();
    return undefined;
  } catch (err) {
    if (err instanceof BatchError) return [err.code, err.status];
    throw err;
  }
}

describe('core quota arithmetic', () => {
  it('counts the cores of dedicated nodes by VM size (unknown sizes count one)', () => {
    expect(coresOf('standard_d2s_v3')).toBe(2);
    expect(coresOf('Standard_A1_v2')).toBe(1);
    expect(coresOf('Standard_Unknown')).toBe(1);
    expect(coresInUse([{ vmSize: 'Standard_D2s_v3', isDedicated: true }, { vmSize: 'Standard_D4s_v3', isDedicated: true }, { vmSize: 'Standard_D4s_v3', isDedicated: false }])).toBe(6);
  });

  it('grants every node that fits', () => {
    expect(grantCores(20, 4, 2, 3)).toEqual({ count: 3 });
    expect(grantCores(20, 14, 2, 3)).toEqual({ count: 3 });
  });

  it('allocates up to the quota and explains the shortfall', () => {
    const g = grantCores(20, 15, 2, 4);
    expect(g.count).toBe(2);
    expect(g.error?.code).toBe('AccountCoreQuotaReached');
    expect(g.error?.values).toEqual([{ name: 'CoreQuota', value: '20' }, { name: 'CoresRequested', value: '8' }]);
  });

  it('grants nothing when the quota is used up or already exceeded', () => {
    expect(grantCores(6, 6, 1, 2).count).toBe(0);
    expect(grantCores(6, 9, 1, 2).count).toBe(0);
    expect(grantCores(6, 0, 8, 1)).toMatchObject({ count: 0, error: { code: 'AccountCoreQuotaReached' } });
  });

  it('never grants a negative count', () => {
    expect(grantCores(20, 0, 2, 0)).toEqual({ count: 0 });
  });
});

describe('pool and job quotas', () => {
  it('refuses the pool beyond the quota with 409 PoolQuotaReached', () => {
    expect(codeAndStatus(() => checkPoolQuota(19, 20))).toBeUndefined();
    expect(codeAndStatus(() => checkPoolQuota(20, 20))).toEqual(['PoolQuotaReached', 409]);
  });

  it('refuses the job beyond the quota with 409 ActiveJobAndScheduleQuotaReached', () => {
    expect(codeAndStatus(() => checkActiveJobQuota(2, 3))).toBeUndefined();
    expect(codeAndStatus(() => checkActiveJobQuota(3, 3))).toEqual(['ActiveJobAndScheduleQuotaReached', 409]);
  });

  it('counts jobs until they complete', () => {
    expect(['active', 'disabling', 'disabled', 'enabling', 'terminating'].every((s) => countsAgainstJobQuota(s as 'active'))).toBe(true);
    expect(countsAgainstJobQuota('completed')).toBe(false);
    expect(countsAgainstJobQuota('deleting')).toBe(false);
  });
});
