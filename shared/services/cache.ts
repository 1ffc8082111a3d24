import type { Runtime } from '../runtime';

/** A short-lived per-process cache entry; never the only copy of anything. */
export async function cached<T>(rt: Runtime, key: string, ttlMs: number, load: () => Promise<T>): Promise<T> {
  const hit = rt.cache.get(key);
  const now = rt.clock().getTime();
  if (hit && hit.until > now) return hit.value as T;
  const value = await load();
  rt.cache.set(key, { until: now + ttlMs, value });
  return value;
}

const inflight = new WeakMap<Runtime, Map<string, Promise<unknown>>>();

/** Runs `load` once for all callers that ask for `key` while it is in flight (single flight per process). */
export function sharedRead<T>(rt: Runtime, key: string, load: () => Promise<T>): Promise<T> {
  let byKey = inflight.get(rt);
  if (!byKey) inflight.set(rt, (byKey = new Map()));
  const running = byKey.get(key);
  if (running) return running as Promise<T>;
  const map = byKey;
  const read = (async () => {
    try {
      return await load();
    } finally {
      map.delete(key);
    }
  })();
  map.set(key, read);
  return read;
}
