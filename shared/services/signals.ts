import { idKey } from '../storage/keys';

/**
 * In-process wake-ups: "pool P may have work" and "node N has a command". They only shorten
 * waits (long polls); correctness never depends on them, because every wait also times out and
 * re-reads storage (other instances of the app cannot signal this one).
 */
export class Signals {
  private readonly waiters = new Map<string, Set<() => void>>();

  notify(key: string): void {
    const set = this.waiters.get(key);
    if (!set) return;
    this.waiters.delete(key);
    for (const w of set) w();
  }

  /** Resolves true when notified, false on timeout or abort. */
  wait(key: string, ms: number, abort?: AbortSignal): Promise<boolean> {
    return new Promise((resolve) => {
      let set = this.waiters.get(key);
      if (!set) this.waiters.set(key, (set = new Set()));
      const done = (v: boolean): void => {
        clearTimeout(timer);
        set!.delete(wake);
        abort?.removeEventListener('abort', onAbort);
        resolve(v);
      };
      const wake = (): void => done(true);
      const onAbort = (): void => done(false);
      const timer = setTimeout(() => done(false), ms);
      set.add(wake);
      abort?.addEventListener('abort', onAbort);
    });
  }
}

export const poolWorkKey = (poolId: string): string => `pool:${idKey(poolId)}`;
export const nodeKey = (poolId: string, nodeId: string): string => `node:${idKey(poolId)}/${idKey(nodeId)}`;
