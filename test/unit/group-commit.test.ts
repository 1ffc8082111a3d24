import { describe, expect, it } from 'vitest';
import { inGroup, type GroupCommitter } from '../../shared/services/group-commit';

interface Item {
  kind: string;
  n: number;
}

/** A committer that records its batches and resolves each when the test says so. */
function recorder(budget: number): { how: GroupCommitter<Item, string>; batches: Item[][]; release: (err?: Error) => void } {
  const batches: Item[][] = [];
  const gates: ((err?: Error) => void)[] = [];
  const how: GroupCommitter<Item, string> = {
    fits: (batch, next) => next.kind === batch[0]!.kind && batch.reduce((s, i) => s + i.n, 0) + next.n <= budget,
    commit: async (batch) => {
      batches.push(batch);
      await new Promise<void>((resolve, reject) => gates.push((err) => (err ? reject(err) : resolve())));
      return batch.map((i) => `${i.kind}${i.n}`);
    },
  };
  return { how, batches, release: (err) => gates.shift()!(err) };
}

const tick = (): Promise<void> => new Promise((r) => setTimeout(r, 0));

describe('group commit', () => {
  it('commits the first waiter alone, then everything that queued behind it together', async () => {
    const owner = {};
    const { how, batches, release } = recorder(10);
    const first = inGroup(owner, 'k', { kind: 'a', n: 1 }, how);
    const later = [2, 3, 4].map((n) => inGroup(owner, 'k', { kind: 'a', n }, how));
    await tick();
    expect(batches).toEqual([[{ kind: 'a', n: 1 }]]);
    release();
    expect(await first).toBe('a1');
    await tick();
    expect(batches[1]).toEqual([{ kind: 'a', n: 2 }, { kind: 'a', n: 3 }, { kind: 'a', n: 4 }]);
    release();
    expect(await Promise.all(later)).toEqual(['a2', 'a3', 'a4']);
  });

  it('waiters that do not fit keep their place for a later batch, in arrival order', async () => {
    const owner = {};
    const { how, batches, release } = recorder(5);
    const all = [inGroup(owner, 'k', { kind: 'a', n: 1 }, how)];
    await tick();
    all.push(...[{ kind: 'b', n: 1 }, { kind: 'a', n: 4 }, { kind: 'a', n: 2 }, { kind: 'b', n: 2 }].map((i) => inGroup(owner, 'k', i, how)));
    for (let i = 0; i < 4; i++) {
      release();
      await tick();
    }
    expect(await Promise.all(all)).toEqual(['a1', 'b1', 'a4', 'a2', 'b2']);
    // b1 heads the second batch (b2 joins it); a4 and a2 do not fit together (4 + 2 > 5).
    expect(batches.map((b) => b.map((i) => `${i.kind}${i.n}`))).toEqual([['a1'], ['b1', 'b2'], ['a4'], ['a2']]);
  });

  it('an error fails the waiters of its batch only; other keys and owners never wait for each other', async () => {
    const owner = {};
    const { how, batches, release } = recorder(10);
    const x = inGroup(owner, 'x', { kind: 'a', n: 1 }, how);
    const y = inGroup(owner, 'y', { kind: 'a', n: 2 }, how);
    const z = inGroup({}, 'x', { kind: 'a', n: 3 }, how);
    await tick();
    expect(batches).toHaveLength(3);
    release(new Error('boom'));
    release();
    release();
    await expect(x).rejects.toThrow('boom');
    expect(await y).toBe('a2');
    expect(await z).toBe('a3');
    // The failed key is free again.
    const again = inGroup(owner, 'x', { kind: 'a', n: 4 }, how);
    await tick();
    release();
    expect(await again).toBe('a4');
  });

  it('a fits that throws fails its batch; the waiters behind it are still served', async () => {
    const owner = {};
    const { how, release } = recorder(10);
    const throwing: GroupCommitter<Item, string> = {
      fits: (batch, next) => {
        if (next.kind === 'bad') throw new Error('bad fit');
        return how.fits(batch, next);
      },
      commit: (batch) => how.commit(batch),
    };
    const first = inGroup(owner, 'k', { kind: 'a', n: 1 }, throwing);
    await tick();
    const second = inGroup(owner, 'k', { kind: 'a', n: 2 }, throwing);
    const bad = inGroup(owner, 'k', { kind: 'bad', n: 1 }, throwing);
    release();
    expect(await first).toBe('a1');
    // The batch headed by `second` met `bad` while forming: it fails; `bad` then heads its own.
    await expect(second).rejects.toThrow('bad fit');
    await tick();
    release();
    expect(await bad).toBe('bad1');
  });
});
