/**
 * Group commit: the writes of one key (a task partition) run one transaction at a time in this
 * process, and the writes that arrive while a transaction is in flight are committed together by
 * the next one. Under load the number of transactions falls as more writers wait, instead of
 * the writers queueing behind each other one by one (claims.ts, tasks.ts).
 *
 * A batch starts with the oldest waiter; `fits` then admits later waiters in arrival order (the
 * ones it refuses keep their place for a later batch). `commit` returns one result per waiter;
 * if it throws, every waiter of that batch gets the error.
 */
export interface GroupCommitter<T, R> {
  /** Whether `next` may join `batch` (which holds at least the head waiter). */
  fits(batch: readonly T[], next: T): boolean;
  commit(batch: T[]): Promise<R[]>;
}

interface Waiter<T, R> {
  item: T;
  resolve(r: R): void;
  reject(err: unknown): void;
}

interface Group {
  queue: Waiter<never, unknown>[];
}

const groups = new WeakMap<object, Map<string, Group>>();

/** Queues `item` on the group `key` of `owner` (a Runtime) and resolves with its result. */
export function inGroup<T, R>(owner: object, key: string, item: T, how: GroupCommitter<T, R>): Promise<R> {
  let byKey = groups.get(owner);
  if (!byKey) groups.set(owner, (byKey = new Map()));
  let g = byKey.get(key) as { queue: Waiter<T, R>[] } | undefined;
  const leader = !g;
  if (!g) byKey.set(key, (g = { queue: [] }) as Group);
  const group = g;
  const done = new Promise<R>((resolve, reject) => group.queue.push({ item, resolve, reject }));
  if (leader) void drain(byKey, key, group, how);
  return done;
}

async function drain<T, R>(byKey: Map<string, Group>, key: string, g: { queue: Waiter<T, R>[] }, how: GroupCommitter<T, R>): Promise<void> {
  try {
    while (g.queue.length) {
      const batch: Waiter<T, R>[] = [g.queue.shift()!];
      const items = [batch[0]!.item];
      try {
        // Inside the try: a `fits` that throws fails this batch instead of stranding its waiters.
        for (let i = 0; i < g.queue.length; ) {
          const w = g.queue[i]!;
          if (how.fits(items, w.item)) {
            items.push(w.item);
            batch.push(...g.queue.splice(i, 1));
          } else i++;
        }
        const results = await how.commit(items);
        batch.forEach((w, i) => w.resolve(results[i]!));
      } catch (err) {
        for (const w of batch) w.reject(err);
      }
    }
  } finally {
    if (byKey.get(key) === (g as unknown as Group)) byKey.delete(key);
  }
}
