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
