import { checkActiveJobQuota, checkPoolQuota, coresInUse, coresOf, countsAgainstJobQuota, grantCores } from '../domain/quotas';
import type { PoolRecord } from '../domain/model';
import type { Runtime } from '../runtime';
import type { Stored } from '../storage/table';
import { withEtagRetry } from './retry';

/**
 * Account quotas (config quotaPools, quotaActiveJobs, quotaCores; arithmetic in domain/quotas.ts).
 * The checks count what exists at request time; two concurrent adds may both pass the last free
 * place (as two concurrent grows may share the last cores): the quotas are limits of one account,
 * not a transaction, and the next request sees the truth.
 */

/** pool add: 409 PoolQuotaReached when the account already has quotaPools pools (deleting ones count until gone). */
export async function ensurePoolQuota(rt: Runtime): Promise<void> {
  checkPoolQuota((await rt.pools.all()).length, rt.config.quotaPools);
}

/** job add: 409 ActiveJobAndScheduleQuotaReached when quotaActiveJobs jobs are not completed. */
export async function ensureActiveJobQuota(rt: Runtime): Promise<void> {
  const quota = rt.config.quotaActiveJobs;
  let active = 0;
  let continuation: string | undefined;
  do {
    const page = await rt.jobs.list("state ne 'completed' and state ne 'deleting'", 1000, continuation);
    active += page.items.filter((j) => countsAgainstJobQuota(j.value.state)).length;
    continuation = page.continuation;
  } while (continuation && active < quota);
  checkActiveJobQuota(active, quota);
}

/**
 * A growing pool asks for `wanted` new nodes: it gets what fits in the dedicated-core quota (every
 * node of the account counts, this pool's included). When it gets fewer, the shortfall is recorded
 * as the pool's resizeErrors (AccountCoreQuotaReached) for the resize of `generation`, and the
 * resize ends steady below its target.
 */
export async function grantNodes(rt: Runtime, pool: PoolRecord, wanted: number): Promise<number> {
  const all = (await rt.nodes.all()).map((n) => n.value);
  const grant = grantCores(rt.config.quotaCores, coresInUse(all), coresOf(pool.vmSize), wanted);
  if (grant.error) {
    const error = grant.error;
    await withEtagRetry(async () => {
      const cur: Stored<PoolRecord> | undefined = await rt.pools.get(pool.id);
      if (!cur || cur.value.resizeGeneration !== pool.resizeGeneration || cur.value.state !== 'active') return;
      await rt.pools.update({ ...cur.value, resizeErrors: [error] }, cur.etag);
    });
  }
  return grant.count;
}
