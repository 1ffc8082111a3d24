/**
 * Cheap node usage for autoscale metrics: CPU from os.cpus() time deltas, memory in use from
 * /proc/meminfo (MemTotal - MemAvailable, falling back to os.freemem), disk space used on the
 * node root's file system (statfs), disk and network counters from /proc deltas (best effort,
 * omitted where /proc is unreadable). Each take() covers the time since the previous take(), and
 * also carries the sampler's lifetime figures (averages, peaks, cumulative counters since it
 * started) from which the control plane computes pool statistics.
 */
import { readdirSync, readFileSync, statfsSync } from 'node:fs';
import * as os from 'node:os';
import type { NodeUsage } from '../shared/nodes/protocol';

interface Counters {
  cpuBusy: number;
  cpuTotal: number;
  disk?: { readBytes: number; writeBytes: number; readOps: number; writeOps: number };
  net?: { inBytes: number; outBytes: number };
}

interface Lifetime {
  startedAt: number;
  lastAt: number;
  first: Counters;
  weightMs: number;
  memoryIntegral: number;
  diskIntegral: number;
  memoryPeak: number;
  diskPeak: number;
}

export class UsageSampler {
  private last: Counters;
  private readonly blockDevices: Set<string> | undefined;
  private readonly life: Lifetime;

  constructor(private readonly rootDir: string, private readonly clock: () => number = Date.now) {
    this.blockDevices = listBlockDevices();
    this.last = this.counters();
    const t = clock();
    this.life = { startedAt: t, lastAt: t, first: this.last, weightMs: 0, memoryIntegral: 0, diskIntegral: 0, memoryPeak: 0, diskPeak: 0 };
  }

  take(): NodeUsage {
    const now = this.counters();
    const prev = this.last;
    this.last = now;
    const usage = this.interval(now, prev);
    return { ...usage, ...this.lifetime(now, usage) };
  }

  /** Lifetime figures: memory and disk weighted by the time each take() covers; counters since the start. */
  private lifetime(now: Counters, usage: NodeUsage): Partial<NodeUsage> {
    const l = this.life;
    const t = this.clock();
    const dt = Math.max(0, t - l.lastAt);
    l.lastAt = t;
    l.weightMs += dt;
    l.memoryIntegral += usage.memoryBytes * dt;
    l.memoryPeak = Math.max(l.memoryPeak, usage.memoryBytes);
    if (usage.diskBytes !== undefined) {
      l.diskIntegral += usage.diskBytes * dt;
      l.diskPeak = Math.max(l.diskPeak, usage.diskBytes);
    }
    const cpuTotal = now.cpuTotal - l.first.cpuTotal;
    const out: Partial<NodeUsage> = {
      upMs: t - l.startedAt,
      cpuPercentAvg: cpuTotal > 0 ? round2((100 * (now.cpuBusy - l.first.cpuBusy)) / cpuTotal) : 0,
      memoryBytesAvg: l.weightMs > 0 ? Math.round(l.memoryIntegral / l.weightMs) : usage.memoryBytes,
      memoryBytesPeak: l.memoryPeak,
    };
    if (l.diskPeak > 0) {
      out.diskBytesAvg = l.weightMs > 0 ? Math.round(l.diskIntegral / l.weightMs) : l.diskPeak;
      out.diskBytesPeak = l.diskPeak;
    }
    if (now.disk && l.first.disk) {
      out.diskReadBytesTotal = Math.max(0, now.disk.readBytes - l.first.disk.readBytes);
      out.diskWriteBytesTotal = Math.max(0, now.disk.writeBytes - l.first.disk.writeBytes);
      out.diskReadOpsTotal = Math.max(0, now.disk.readOps - l.first.disk.readOps);
      out.diskWriteOpsTotal = Math.max(0, now.disk.writeOps - l.first.disk.writeOps);
    }
    if (now.net && l.first.net) {
      out.networkInBytesTotal = Math.max(0, now.net.inBytes - l.first.net.inBytes);
      out.networkOutBytesTotal = Math.max(0, now.net.outBytes - l.first.net.outBytes);
    }
    return out;
  }

  private interval(now: Counters, prev: Counters): NodeUsage {
    const total = now.cpuTotal - prev.cpuTotal;
    const usage: NodeUsage = {
      cpuPercent: total > 0 ? round2((100 * (now.cpuBusy - prev.cpuBusy)) / total) : 0,
      memoryBytes: memoryInUse(),
    };
    const disk = diskUsed(this.rootDir);
    if (disk !== undefined) usage.diskBytes = disk;
    if (now.disk && prev.disk) {
      usage.diskReadBytes = Math.max(0, now.disk.readBytes - prev.disk.readBytes);
      usage.diskWriteBytes = Math.max(0, now.disk.writeBytes - prev.disk.writeBytes);
      usage.diskReadOps = Math.max(0, now.disk.readOps - prev.disk.readOps);
      usage.diskWriteOps = Math.max(0, now.disk.writeOps - prev.disk.writeOps);
    }
    if (now.net && prev.net) {
      usage.networkInBytes = Math.max(0, now.net.inBytes - prev.net.inBytes);
      usage.networkOutBytes = Math.max(0, now.net.outBytes - prev.net.outBytes);
    }
    return usage;
  }

  private counters(): Counters {
    let busy = 0;
    let total = 0;
    for (const cpu of os.cpus()) {
      const t = cpu.times;
      busy += t.user + t.nice + t.sys + t.irq;
      total += t.user + t.nice + t.sys + t.irq + t.idle;
    }
    return { cpuBusy: busy, cpuTotal: total, disk: readDiskStats(this.blockDevices), net: readNetDev() };
  }
}

function round2(n: number): number {
  return Math.round(n * 100) / 100;
}

function memoryInUse(): number {
  try {
    const text = readFileSync('/proc/meminfo', 'latin1');
    const total = /MemTotal:\s+(\d+)/.exec(text);
    const avail = /MemAvailable:\s+(\d+)/.exec(text);
    if (total && avail) return (Number(total[1]) - Number(avail[1])) * 1024;
  } catch {
    // not Linux
  }
  return os.totalmem() - os.freemem();
}

function diskUsed(dir: string): number | undefined {
  try {
    const s = statfsSync(dir);
    return (s.blocks - s.bfree) * s.bsize;
  } catch {
    return undefined;
  }
}

/** Whole disks (not partitions, loop, ram, device-mapper or zram devices), to avoid double counting. */
function listBlockDevices(): Set<string> | undefined {
  try {
    return new Set(readdirSync('/sys/block').filter((d) => !/^(loop|ram|dm-|zram|md)/.test(d)));
  } catch {
    return undefined;
  }
}

function readDiskStats(devices: Set<string> | undefined): Counters['disk'] {
  if (!devices) return undefined;
  try {
    const c = { readBytes: 0, writeBytes: 0, readOps: 0, writeOps: 0 };
    for (const line of readFileSync('/proc/diskstats', 'latin1').split('\n')) {
      const f = line.trim().split(/\s+/);
      if (f.length < 10 || !devices.has(f[2] as string)) continue;
      c.readOps += Number(f[3]);
      c.readBytes += Number(f[5]) * 512;
      c.writeOps += Number(f[7]);
      c.writeBytes += Number(f[9]) * 512;
    }
    return c;
  } catch {
    return undefined;
  }
}

function readNetDev(): Counters['net'] {
  try {
    const c = { inBytes: 0, outBytes: 0 };
    for (const line of readFileSync('/proc/net/dev', 'latin1').split('\n').slice(2)) {
      const [name, rest] = line.split(':');
      if (!rest || name?.trim() === 'lo') continue;
      const f = rest.trim().split(/\s+/);
      c.inBytes += Number(f[0]) || 0;
      c.outBytes += Number(f[8]) || 0;
    }
    return c;
  } catch {
    return undefined;
  }
}
