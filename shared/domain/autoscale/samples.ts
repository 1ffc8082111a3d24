/**
 * Sample-data methods of metric variables ($ActiveTasks.GetSample(…) etc.).
 *
 * - One sample is expected every 30 s (GetSamplePeriod()); "a sample is 30 seconds worth of
 *   metrics data", and its time is the start of those 30 s. A window from lo to hi therefore holds
 *   the samples with lo <= time < hi and expects floor((hi - lo) / 30 s) of them: a full 10-minute
 *   window gives 20 samples, and `GetSample(1 * TimeInterval_Minute, 6 * TimeInterval_Minute)`
 *   gives 10, as in the seed.
 * - A timeinterval argument is a look-back from now; a timestamp is absolute. The two bounds may
 *   come in either order.
 * - GetSample(start, double p) and GetSample(start, end, p) fail the whole evaluation when less
 *   than p percent of the expected samples are present, with Azure's message
 *   `Insufficient data from data set: $RunningTasks wanted 70%, received 50%`.
 * - GetSample(count) returns the newest `count` samples; fewer than `count` is the same failure
 *   (`wanted 1, received 0`) — a brand-new pool has no data.
 * - Vectors are in time order, oldest first. Samples later than `now` are ignored.
 */
import type { Fail } from './operators';
import { SAMPLE_PERIOD_MS, dbl, interval, stamp, vec, type Sample, type Value } from './types';

export class MetricHistory {
  private readonly times: number[] = [];
  private readonly values: number[] = [];

  constructor(
    /** The variable as written, e.g. `$ActiveTasks`, for messages. */
    readonly label: string,
    samples: readonly Sample[] | undefined,
    now: number,
  ) {
    const valid: { t: number; v: number }[] = [];
    for (const s of samples ?? []) {
      const t = s.time instanceof Date ? s.time.getTime() : NaN;
      if (Number.isFinite(t) && t <= now && typeof s.value === 'number') valid.push({ t, v: s.value });
    }
    valid.sort((a, b) => a.t - b.t);
    for (const s of valid) {
      this.times.push(s.t);
      this.values.push(s.v);
    }
  }

  call(method: string, args: readonly Value[], now: number, fail: Fail): Value {
    switch (method) {
      case 'GetSample':
        return this.getSample(args, now, fail);
      case 'GetSamplePercent': {
        if (args.length < 1 || args.length > 2) fail('GetSamplePercent expects (start[, end])');
        const [lo, hi] = this.window(args[0], args[1], now, fail);
        return dbl(this.percent(lo, hi));
      }
      case 'GetSamplePeriod':
        if (args.length !== 0) fail('GetSamplePeriod expects no arguments');
        return interval(SAMPLE_PERIOD_MS);
      case 'Count':
        if (args.length !== 0) fail('Count expects no arguments');
        return dbl(this.times.length);
      case 'HistoryBeginTime': {
        if (args.length !== 0) fail('HistoryBeginTime expects no arguments');
        const first = this.times[0];
        if (first === undefined) return fail(`No samples are available for ${this.label}`);
        return stamp(first);
      }
      default:
        return fail(`Undefined method: ${this.label}.${method}`);
    }
  }

  private getSample(args: readonly Value[], now: number, fail: Fail): Value {
    const [a, b, c] = args;
    if (args.length === 1 && a?.type === 'double') {
      if (!(a.value >= 0) || !Number.isFinite(a.value)) fail('GetSample count must be a non-negative number');
      const n = Math.floor(a.value);
      if (n > this.values.length) fail(`Insufficient data from data set: ${this.label} wanted ${n}, received ${this.values.length}`);
      return vec(this.values.slice(this.values.length - n));
    }
    if (args.length < 1 || args.length > 3 || a?.type === 'double') {
      fail('GetSample expects (count), (start[, samplePercent]) or (start, end[, samplePercent])');
    }
    const endArg = b?.type === 'double' ? undefined : b;
    const pctArg = b?.type === 'double' ? b : c;
    if (args.length === 3 && (b?.type === 'double' || c?.type !== 'double')) fail('GetSample samplePercent must be a double');
    const [lo, hi] = this.window(a, endArg, now, fail);
    if (pctArg !== undefined) {
      const wanted = pctArg.value as number;
      if (!(wanted >= 0 && wanted <= 100)) fail('GetSample samplePercent must be between 0 and 100');
      const got = this.percent(lo, hi);
      if (got < wanted) {
        fail(`Insufficient data from data set: ${this.label} wanted ${wanted}%, received ${Math.floor(got)}%`);
      }
    }
    const [from, to] = this.range(lo, hi);
    return vec(this.values.slice(from, to));
  }

  private window(start: Value | undefined, end: Value | undefined, now: number, fail: Fail): [number, number] {
    const s = resolveTime(start, now, fail);
    const e = end === undefined ? now : resolveTime(end, now, fail);
    return s <= e ? [s, e] : [e, s];
  }

  /** Percentage (0–100) of the expected samples present in [lo, hi). */
  private percent(lo: number, hi: number): number {
    const [from, to] = this.range(lo, hi);
    const present = to - from;
    const expected = Math.floor((hi - lo) / SAMPLE_PERIOD_MS);
    if (expected <= 0) return present > 0 ? 100 : 0;
    return Math.min(100, (present * 100) / expected);
  }

  /** Index range [from, to) of samples with lo <= time < hi. */
  private range(lo: number, hi: number): [number, number] {
    return [lowerBound(this.times, lo), lowerBound(this.times, hi)];
  }
}

/** First index whose time is >= t. */
function lowerBound(times: readonly number[], t: number): number {
  let lo = 0;
  let hi = times.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((times[mid] as number) < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function resolveTime(v: Value | undefined, now: number, fail: Fail): number {
  if (v?.type === 'timeinterval') return now - v.value;
  if (v?.type === 'timestamp') return v.value;
  return fail(`A sample time must be a timestamp or timeinterval, not ${v?.type ?? 'missing'}`);
}
