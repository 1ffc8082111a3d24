import { describe, expect, it } from 'vitest';
import { chunkTime, orderBuckets, SAME_AGE_MS } from '../../shared/domain/bucket-order';
import { chunkKey } from '../../shared/storage/keys';

const T = 1_700_000_000_000;
const head = (bucket: number, ms: number, seq = 0): { bucket: number; head: string } => ({ bucket, head: chunkKey(ms, seq, 'abc') });

describe('orderBuckets: the order in which a claim visits a job’s buckets', () => {
  it('reads the queue time back from a chunk key', () => {
    expect(chunkTime(chunkKey(T, 42, 'ff'))).toBe(T);
    expect(chunkTime(chunkKey(0, 1, 'ff'))).toBe(0);
  });

  it('is FIFO by head age when nothing is preferred (ties by queue sequence, then bucket)', () => {
    expect(orderBuckets([head(3, T + 5000), head(1, T), head(2, T, 1), head(0, T + 9000)])).toEqual([1, 2, 3, 0]);
  });

  it('among heads within SAME_AGE_MS of the oldest, the bucket claimed from last goes first, then a preferred one', () => {
    const heads = [head(0, T), head(1, T + 500), head(2, T + SAME_AGE_MS), head(3, T + SAME_AGE_MS + 1)];
    expect(orderBuckets(heads, 2)).toEqual([2, 0, 1, 3]);
    expect(orderBuckets(heads, undefined, (b) => b === 1)).toEqual([1, 0, 2, 3]);
    expect(orderBuckets(heads, 2, (b) => b === 1)).toEqual([2, 1, 0, 3]);
  });

  it('never lets a newer head jump an older one beyond SAME_AGE_MS (no starvation)', () => {
    const heads = [head(0, T), head(5, T + SAME_AGE_MS + 1)];
    expect(orderBuckets(heads, 5, () => true)).toEqual([0, 5]);
  });

  it('a job manager retried at the front of the queue (time 0) comes first whatever was claimed last', () => {
    expect(orderBuckets([head(4, T), head(6, 0)], 4, (b) => b === 4)).toEqual([6, 4]);
  });

  it('buckets with only exhausted chunks come last (a claim removes them); none → empty', () => {
    expect(orderBuckets([{ bucket: 7 }, head(2, T), { bucket: 1 }])).toEqual([2, 1, 7]);
    expect(orderBuckets([])).toEqual([]);
  });
});
