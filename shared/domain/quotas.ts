/**
 * Account quota arithmetic (seed §1.14: 20 dedicated cores, 20 pools, 20 active jobs + job
 * schedules by default). Pure: the service counts what exists and asks these functions.
 *
 * "A quota is a credit limit, not a capacity guarantee": pool and job adds over quota are refused
 * (409), while the core quota never refuses a request — "The Batch service will create nodes only
 * up to that core limit", and the pool records a resize error instead.
 */
import { BatchError } from '../errors';
import type { JobState, ResizeError } from './model';
import { findVmSize } from './vmsizes';

/** Cores of one node of a VM size (unknown sizes count one core). */
export function coresOf(vmSize: string): number {
  return findVmSize(vmSize)?.cores ?? 1;
}

/** Dedicated cores held by these nodes (every node counts until its row is gone). */
export function coresInUse(nodes: readonly { vmSize: string; isDedicated: boolean }[]): number {
  return nodes.reduce((sum, n) => sum + (n.isDedicated ? coresOf(n.vmSize) : 0), 0);
}

export interface CoreGrant {
  /** Nodes that may be created now. */
  count: number;
  /** Set when fewer than wanted: the pool's resizeError. */
  error?: ResizeError;
}

/** How many of `wanted` new nodes of `coresPerNode` fit in the quota given the cores in use. */
export function grantCores(quota: number, usedCores: number, coresPerNode: number, wanted: number): CoreGrant {
  const per = Math.max(1, coresPerNode);
  const fits = Math.max(0, Math.floor((quota - usedCores) / per));
  const count = Math.max(0, Math.min(wanted, fits));
  if (count >= wanted) return { count };
  return {
    count,
    error: {
      code: 'AccountCoreQuotaReached',
      message: `The specified account has reached VM core quota: ${usedCores + count * per} of ${quota} dedicated cores are allocated, so ${wanted - count} of the requested nodes could not be allocated. Reduce the number of nodes or request a quota increase.`,
      values: [{ name: 'CoreQuota', value: String(quota) }, { name: 'CoresRequested', value: String(wanted * per) }],
    },
  };
}

/** A job counts against the quota until it completes (completed jobs are not limited). */
export function countsAgainstJobQuota(state: JobState): boolean {
  return state !== 'completed' && state !== 'deleting';
}

export function checkPoolQuota(existingPools: number, quota: number): void {
  if (existingPools >= quota) {
    throw new BatchError('PoolQuotaReached', `Pool quota for the account has been reached (${quota} pools).`, [{ key: 'PoolQuota', value: String(quota) }]);
  }
}

export function checkActiveJobQuota(activeJobs: number, quota: number): void {
  if (activeJobs >= quota) {
    throw new BatchError('ActiveJobAndScheduleQuotaReached', `Active job and schedule quota for the account has been reached (${quota}).`, [{ key: 'ActiveJobAndJobScheduleQuota', value: String(quota) }]);
  }
}
