import type { Timer } from '@azure/functions';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { nextOccurrence, parseSchedule, previousOccurrence, TimerRunner } from '../../infra/local/host/timer-trigger';

function runs(expr: string, from: string, n: number): string[] {
  const s = parseSchedule(expr);
  const out: string[] = [];
  let d: Date | null = new Date(from);
  for (let i = 0; i < n && d; i++) {
    d = nextOccurrence(s, d);
    if (d) out.push(d.toISOString());
  }
  return out;
}

describe('local host timer schedules', () => {
  it('NCRONTAB combines day-of-month AND day-of-week: 0 0 0 13 * Fri is Friday the 13th only', () => {
    const fri13 = runs('0 0 0 13 * Fri', '2026-01-01T00:00:00Z', 3);
    expect(fri13).toEqual(['2026-02-13T00:00:00.000Z', '2026-03-13T00:00:00.000Z', '2026-11-13T00:00:00.000Z']);
    for (const iso of fri13) expect(new Date(iso).getUTCDay()).toBe(5);
  });

  it('evaluates six-field expressions with seconds, in UTC', () => {
    expect(runs('*/10 * * * * *', '2026-01-01T00:00:03Z', 3)).toEqual([
      '2026-01-01T00:00:10.000Z',
      '2026-01-01T00:00:20.000Z',
      '2026-01-01T00:00:30.000Z',
    ]);
    expect(runs('0 30 9 * Jan Mon', '2026-01-01T00:00:00Z', 2)).toEqual(['2026-01-05T09:30:00.000Z', '2026-01-12T09:30:00.000Z']);
    expect(runs('0 0 0 * * 0', '2026-01-01T00:00:00Z', 1)).toEqual(['2026-01-04T00:00:00.000Z']);
    expect(runs('5,8 * * * * *', '2026-01-01T00:00:06Z', 2)).toEqual(['2026-01-01T00:00:08.000Z', '2026-01-01T00:01:05.000Z']);
  });

  it('accepts TimeSpan schedules as fixed intervals', () => {
    const s = parseSchedule('00:00:30');
    expect(s).toMatchObject({ kind: 'interval', intervalMs: 30_000 });
    expect(nextOccurrence(s, new Date('2026-01-01T00:00:00Z'))?.toISOString()).toBe('2026-01-01T00:00:30.000Z');
    expect(previousOccurrence(s, new Date('2026-01-01T00:00:30Z'))?.toISOString()).toBe('2026-01-01T00:00:00.000Z');
    expect(parseSchedule('01:00:00')).toMatchObject({ intervalMs: 3_600_000 });
  });

  it('rejects invalid schedules with a readable message', () => {
    expect(() => parseSchedule('0 */5 * * *')).toThrow(/6 fields/);
    expect(() => parseSchedule('bogus')).toThrow(/neither a TimeSpan/);
    expect(() => parseSchedule('0 0 0 31 2 *')).toThrow();
    expect(() => parseSchedule('61 * * * * *')).toThrow(/invalid NCRONTAB/);
    expect(() => parseSchedule('00:00:00')).toThrow(/greater than zero/);
  });

  it('previousOccurrence gives the occurrence before', () => {
    const s = parseSchedule('0 */5 * * * *');
    expect(previousOccurrence(s, new Date('2026-01-01T00:10:00Z'))?.toISOString()).toBe('2026-01-01T00:05:00.000Z');
  });
});

describe('local host TimerRunner (fake timers)', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  function runner(schedule: string, runOnStartup = false) {
    const calls: Timer[] = [];
    const logs: string[] = [];
    let release: () => void = () => {};
    const r = new TimerRunner({
      functionName: 'tick',
      schedule: parseSchedule(schedule),
      runOnStartup,
      log: (_level, m) => logs.push(m),
      invoke: (t) => {
        calls.push(t);
        return new Promise<void>((resolve) => (release = resolve));
      },
    });
    return { r, calls, logs, release: () => release() };
  }

  it('fires on schedule, passes schedule status, never overlaps, and stops cleanly', async () => {
    vi.useFakeTimers({ now: new Date('2026-01-01T00:00:00.000Z') });
    const { r, calls, logs, release } = runner('*/1 * * * * *');
    r.start();
    expect(calls).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1000);
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({
      isPastDue: false,
      scheduleStatus: { last: '2026-01-01T00:00:00.000Z', next: '2026-01-01T00:00:02.000Z', lastUpdated: '2026-01-01T00:00:01.000Z' },
    });
    await vi.advanceTimersByTimeAsync(1000); // first run still going → skipped
    expect(calls).toHaveLength(1);
    expect(logs.some((l) => l.includes('skipping'))).toBe(true);
    release();
    await vi.advanceTimersByTimeAsync(1000);
    expect(calls).toHaveLength(2);
    expect(calls[1]!.scheduleStatus.last).toBe('2026-01-01T00:00:01.000Z');
    release();
    await r.stop();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('runOnStartup fires at once; a missed occurrence is reported as isPastDue', async () => {
    vi.useFakeTimers({ now: new Date('2026-01-01T00:00:00.000Z') });
    const { r, calls, release } = runner('00:00:30', true);
    r.start();
    expect(calls).toHaveLength(1);
    expect(calls[0]!.isPastDue).toBe(false);
    release();
    vi.setSystemTime(new Date('2026-01-01T00:01:00.000Z')); // the clock jumps, timers do not
    await vi.advanceTimersByTimeAsync(30_000);
    expect(calls).toHaveLength(2);
    expect(calls[1]!.isPastDue).toBe(true);
    release();
    await r.stop();
    expect(vi.getTimerCount()).toBe(0);
  });
});
