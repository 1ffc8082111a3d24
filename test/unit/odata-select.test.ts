import { describe, expect, it } from 'vitest';
import { BatchError } from '../../shared/errors';
import { EXPANDABLE, SELECTABLE, applySelect, effectiveExpand, parseExpand, parseSelect, wantsStats } from '../../shared/api/odata';

function errorOf(fn: () => unknown): BatchError {
  try {
    fn();
  } catch (err) {
    if (err instanceof BatchError) return err;
    throw err;
  }
  throw new Error('expected a BatchError');
}

describe('parseSelect', () => {
  it.each([
    ['id', ['id']],
    ['id,state', ['id', 'state']],
    [' id , state ,stateTransitionTime ', ['id', 'state', 'stateTransitionTime']],
    ['id,id,state', ['id', 'state']],
    ['stats,id', ['stats', 'id']],
  ] as [string, string[]][])('%j → %j', (text, expected) => {
    expect(parseSelect(text, SELECTABLE.tasks)).toEqual(expected);
  });

  it('absent or blank means every property', () => {
    expect(parseSelect(undefined, SELECTABLE.tasks)).toBeUndefined();
    expect(parseSelect('', SELECTABLE.tasks)).toBeUndefined();
    expect(parseSelect('  ', SELECTABLE.tasks)).toBeUndefined();
  });

  it.each([
    ['State', 1, /'State'.*case-sensitive.*'state'/],
    ['id,bogus', 4, /'bogus'/],
    ['id, bogus', 5, /'bogus'/],
    ['id,,state', 4, /empty/],
    ['id,', 4, /empty/],
    [',id', 1, /empty/],
    ['executionInfo/exitCode', 1, /not supported/],
    ['*', 1, /not supported/],
  ] as [string, number, RegExp][])('%j → 400 at position %i', (text, position, reason) => {
    const err = errorOf(() => parseSelect(text, SELECTABLE.tasks));
    expect(err.code).toBe('InvalidQueryParameterValue');
    expect(err.status).toBe(400);
    expect(err.message).toContain(`position ${position}:`);
    expect(err.values).toEqual([
      { key: 'QueryParameterName', value: '$select' },
      { key: 'QueryParameterValue', value: text },
      { key: 'Reason', value: expect.stringMatching(reason) },
    ]);
  });

  it('rejects stats where the entity has none', () => {
    expect(() => parseSelect('id,stats', SELECTABLE.nodes)).toThrow(BatchError);
    expect(() => parseSelect('id,stats', SELECTABLE.certificates)).toThrow(BatchError);
  });
});

describe('parseExpand', () => {
  it('accepts stats only', () => {
    expect(parseExpand('stats', EXPANDABLE.tasks)).toEqual(['stats']);
    expect(parseExpand(' stats ', EXPANDABLE.jobs)).toEqual(['stats']);
    expect(parseExpand(undefined, EXPANDABLE.pools)).toEqual([]);
    expect(parseExpand('', EXPANDABLE.pools)).toEqual([]);
    const err = errorOf(() => parseExpand('stats,nodeInfo', EXPANDABLE.tasks));
    expect(err.values[0]).toEqual({ key: 'QueryParameterName', value: '$expand' });
    expect(err.message).toContain('position 7:');
    expect(() => parseExpand('Stats', EXPANDABLE.tasks)).toThrow(/case-sensitive/);
    expect(() => parseExpand('stats', [])).toThrow(BatchError);
  });
});

describe('stats via $select or $expand', () => {
  it.each([
    [undefined, [], false, []],
    [undefined, ['stats'], true, ['stats']],
    [['id'], [], false, []],
    [['id', 'stats'], [], true, ['stats']],
    [['id', 'stats'], ['stats'], true, ['stats']],
  ] as [string[] | undefined, string[], boolean, string[]][])('select %j expand %j', (select, expand, stats, effective) => {
    expect(wantsStats(select, expand)).toBe(stats);
    expect(effectiveExpand(select, expand)).toEqual(effective);
  });
  it('effectiveExpand only lifts expandable names', () => {
    expect(effectiveExpand(['id', 'state'], [], ['stats'])).toEqual([]);
    expect(effectiveExpand(['id', 'stats'], [], [])).toEqual([]);
  });
});

describe('applySelect', () => {
  const pool = {
    id: 'p1',
    state: 'active',
    allocationState: 'steady',
    vmSize: 'standard_d2s_v3',
    stats: { usageStats: { dedicatedCoreTime: 'PT0S' } },
    metadata: undefined,
  };

  it('keeps only the selected properties; the others are absent, not null', () => {
    const out = applySelect(pool, ['id', 'state']);
    expect(out).toEqual({ id: 'p1', state: 'active' });
    expect('allocationState' in out).toBe(false);
    expect('vmSize' in out).toBe(false);
    expect(out.allocationState).toBeUndefined();
    expect(JSON.parse(JSON.stringify(out))).toEqual({ id: 'p1', state: 'active' });
  });

  it('follows the entity order, skips selected properties the entity lacks or leaves undefined', () => {
    expect(Object.keys(applySelect(pool, ['state', 'id', 'displayName', 'metadata']))).toEqual(['id', 'state']);
  });

  it('returns a shallow copy of everything without a select, and never mutates the entity', () => {
    const all = applySelect(pool, undefined);
    expect(all).toEqual(pool);
    expect(all).not.toBe(pool);
    applySelect(pool, ['id']);
    expect(Object.keys(pool)).toHaveLength(6);
  });

  it('includes stats when selected and present', () => {
    expect(applySelect(pool, ['id', 'stats'])).toEqual({ id: 'p1', stats: pool.stats });
  });

  it('an empty selection yields an empty object', () => {
    expect(applySelect(pool, [])).toEqual({});
  });
});
