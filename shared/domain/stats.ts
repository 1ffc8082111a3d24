/**
 * Statistics arithmetic (pure): task statistics of one run, the job counter deltas a finished run
 * adds, and the REST shapes of TaskStatistics, JobStatistics, PoolStatistics and pool usage metrics
 * (api-version 2022-10-01.16.0).
 *
 * Units: counters keep milliseconds and bytes; the wire shows ISO 8601 durations and GiB.
 * - Task waitTime: creation of the task → start of its most recent run (Azure's definition).
 * - Job waitTime: the sum, over every run, of the time it waited in the queue (claim − active since).
 * - readIOps/writeIOps: read/write system calls of the task's processes (Linux keeps no per-process
 *   disk operation count); readIOGiB/writeIOGiB: bytes the processes read from / wrote to storage.
 * - Pool usageStats.dedicatedCoreTime: Σ over dedicated node lifetimes of (end − allocation) × cores.
 * - Pool resourceStats: from the lifetime figures each node's agent reports (see NodeUsage): averages
 *   weighted by the time each node covered, peaks as maxima, IO and network as sums.
 */
import type { NodeUsage } from '../nodes/protocol';
import type { TaskCounts, TaskStats } from './model';

const GIB = 2 ** 30;
const HOUR_MS = 3_600_000;

/** Milliseconds → ISO 8601 duration (`PT12.345S`; whole seconds carry no fraction). */
export function isoDuration(ms: number): string {
  const v = Number.isFinite(ms) && ms > 0 ? Math.round(ms) : 0;
  const s = Math.floor(v / 1000);
  const frac = v % 1000;
  return `PT${s}${frac ? `.${String(frac).padStart(3, '0').replace(/0+$/, '')}` : ''}S`;
}

/** What a finished run measured (the agent's completion report). */
export interface RunReport {
  startTime: string;
  endTime: string;
  stats?: { userCpuMs: number; kernelCpuMs: number; readBytes?: number; writeBytes?: number; readOps?: number; writeOps?: number };
}

/** Wait figures of the run, from its claim token (ms; absent for runs claimed before they were recorded). */
export interface RunWaits {
  /** Time the run waited in the queue. */
  w?: number;
  /** Time from the task's creation to the run's start. */
  q?: number;
}

const nonNegative = (n: number | undefined): number => (n !== undefined && Number.isFinite(n) && n > 0 ? n : 0);

export function wallMsOf(r: RunReport): number {
  return nonNegative(Date.parse(r.endTime) - Date.parse(r.startTime));
}

/** The TaskStatistics figures of one run (stored on the task row; url/startTime/lastUpdateTime added on the wire). */
export function taskRunStats(r: RunReport, waits: RunWaits): TaskStats {
  const s = r.stats;
  return {
    wallClockTime: isoDuration(wallMsOf(r)),
    userCPUTime: isoDuration(nonNegative(s?.userCpuMs)),
    kernelCPUTime: isoDuration(nonNegative(s?.kernelCpuMs)),
    readIOps: nonNegative(s?.readOps),
    writeIOps: nonNegative(s?.writeOps),
    readIOGiB: nonNegative(s?.readBytes) / GIB,
    writeIOGiB: nonNegative(s?.writeBytes) / GIB,
    waitTime: isoDuration(nonNegative(waits.q)),
  };
}

/** The job-statistics counter delta of one finished run (`retried`: it goes back to the queue for a retry). */
export function runStatsDelta(r: RunReport, waits: RunWaits, retried: boolean): Partial<TaskCounts> {
  const s = r.stats;
  return {
    retries: retried ? 1 : 0,
    waitMs: nonNegative(waits.w),
    wallMs: wallMsOf(r),
    userCpuMs: nonNegative(s?.userCpuMs),
    kernelCpuMs: nonNegative(s?.kernelCpuMs),
    readOps: nonNegative(s?.readOps),
    writeOps: nonNegative(s?.writeOps),
    readBytes: nonNegative(s?.readBytes),
    writeBytes: nonNegative(s?.writeBytes),
  };
}

/** REST TaskStatistics. */
export function taskStatsJson(url: string, startTime: string, lastUpdateTime: string, s: TaskStats): Record<string, unknown> {
  return { url, startTime, lastUpdateTime, ...s };
}

/** REST JobStatistics from the job's summed counters. */
export function jobStatsJson(url: string, startTime: string, lastUpdateTime: string, c: TaskCounts): Record<string, unknown> {
  return {
    url,
    startTime,
    lastUpdateTime,
    userCPUTime: isoDuration(c.userCpuMs),
    kernelCPUTime: isoDuration(c.kernelCpuMs),
    wallClockTime: isoDuration(c.wallMs),
    readIOps: c.readOps,
    writeIOps: c.writeOps,
    readIOGiB: c.readBytes / GIB,
    writeIOGiB: c.writeBytes / GIB,
    numSucceededTasks: c.succeeded,
    numFailedTasks: c.failed,
    numTaskRetries: c.retries,
    waitTime: isoDuration(c.waitMs),
  };
}

/** One node's life in a pool: closed (a usage row) or open (a live node, `end` = now). */
export interface NodeLifetime {
  poolId: string;
  nodeId: string;
  vmSize: string;
  cores: number;
  dedicated: boolean;
  /** Allocation and removal (or now), ms since the epoch. */
  start: number;
  end: number;
  /** The latest lifetime figures its agent reported. */
  usage?: NodeUsage;
}

/** Core-milliseconds of a lifetime inside [from, to). */
export function coreMsWithin(l: NodeLifetime, from: number, to: number): number {
  return Math.max(0, Math.min(l.end, to) - Math.max(l.start, from)) * l.cores;
}

export interface PoolStatsInput {
  url: string;
  /** Pool creation (ms): lifetimes before it belong to an earlier pool of the same id. */
  since: number;
  now: number;
  lifetimes: readonly NodeLifetime[];
}

/** REST PoolStatistics. */
export function poolStatsJson(p: PoolStatsInput): Record<string, unknown> {
  const startTime = new Date(p.since).toISOString();
  const lastUpdateTime = new Date(p.now).toISOString();
  const dedicatedCoreMs = p.lifetimes.filter((l) => l.dedicated).reduce((n, l) => n + coreMsWithin(l, p.since, p.now), 0);
  return {
    url: p.url,
    startTime,
    lastUpdateTime,
    usageStats: { startTime, lastUpdateTime, dedicatedCoreTime: isoDuration(dedicatedCoreMs) },
    resourceStats: { startTime, lastUpdateTime, ...resourceStats(p.lifetimes.map((l) => l.usage).filter((u): u is NodeUsage => u !== undefined)) },
  };
}

/** The resourceStats figures over the nodes' reported lifetime usage. */
export function resourceStats(usages: readonly NodeUsage[]): Record<string, number> {
  let weight = 0;
  let cpu = 0;
  let memory = 0;
  let disk = 0;
  let diskWeight = 0;
  const sum = (k: keyof NodeUsage): number => usages.reduce((n, u) => n + nonNegative(u[k]), 0);
  const max = (k: keyof NodeUsage): number => usages.reduce((n, u) => Math.max(n, nonNegative(u[k])), 0);
  for (const u of usages) {
    const w = nonNegative(u.upMs);
    weight += w;
    cpu += nonNegative(u.cpuPercentAvg) * w;
    memory += nonNegative(u.memoryBytesAvg) * w;
    if (u.diskBytesAvg !== undefined) {
      disk += nonNegative(u.diskBytesAvg) * w;
      diskWeight += w;
    }
  }
  return {
    avgCPUPercentage: weight > 0 ? cpu / weight : 0,
    avgMemoryGiB: weight > 0 ? memory / weight / GIB : 0,
    peakMemoryGiB: max('memoryBytesPeak') / GIB,
    avgDiskGiB: diskWeight > 0 ? disk / diskWeight / GIB : 0,
    peakDiskGiB: max('diskBytesPeak') / GIB,
    diskReadIOps: sum('diskReadOpsTotal'),
    diskWriteIOps: sum('diskWriteOpsTotal'),
    diskReadGiB: sum('diskReadBytesTotal') / GIB,
    diskWriteGiB: sum('diskWriteBytesTotal') / GIB,
    networkReadGiB: sum('networkInBytesTotal') / GIB,
    networkWriteGiB: sum('networkOutBytesTotal') / GIB,
  };
}

/** One entry of GET /poolusagemetrics. */
export interface PoolUsageMetric {
  poolId: string;
  startTime: string;
  endTime: string;
  vmSize: string;
  totalCoreHours: number;
}

export function hourStart(ms: number): number {
  return Math.floor(ms / HOUR_MS) * HOUR_MS;
}

/**
 * Per pool, VM size and hour: the core hours the lifetimes used in that hour (dedicated and
 * low-priority alike), for every hour that overlaps [from, to) and has usage. Sorted by pool, then time.
 */
export function hourlyUsage(lifetimes: readonly NodeLifetime[], from: number, to: number): PoolUsageMetric[] {
  const buckets = new Map<string, { poolId: string; vmSize: string; hour: number; coreMs: number }>();
  for (const l of lifetimes) {
    const first = hourStart(Math.max(l.start, from));
    const last = Math.min(l.end, to);
    for (let h = first; h < last; h += HOUR_MS) {
      const coreMs = coreMsWithin(l, h, h + HOUR_MS);
      if (coreMs <= 0) continue;
      const vmSize = l.vmSize.toLowerCase();
      const key = `${l.poolId}\u0000${vmSize}\u0000${h}`;
      const b = buckets.get(key) ?? { poolId: l.poolId, vmSize, hour: h, coreMs: 0 };
      b.coreMs += coreMs;
      buckets.set(key, b);
    }
  }
  return [...buckets.values()]
    .sort((a, b) => (a.poolId < b.poolId ? -1 : a.poolId > b.poolId ? 1 : a.hour - b.hour || (a.vmSize < b.vmSize ? -1 : 1)))
    .map((b) => ({
      poolId: b.poolId,
      startTime: new Date(b.hour).toISOString(),
      endTime: new Date(b.hour + HOUR_MS).toISOString(),
      vmSize: b.vmSize,
      totalCoreHours: Math.round((b.coreMs / HOUR_MS) * 1e6) / 1e6,
    }));
}
