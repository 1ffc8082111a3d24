/**
 * Best-effort statistics of a task process, sampled from /proc while it runs (Node reaps children
 * without their rusage, so the final numbers are not available at exit). CPU includes the waited-
 * for children (cutime/cstime), so `/bin/bash -c "..."` counts the commands bash ran and reaped.
 * A task that ends before its first sample has no stats.
 */
import { readFileSync } from 'node:fs';

export interface ProcStats {
  userCpuMs: number;
  kernelCpuMs: number;
  maxRssBytes: number;
  readBytes?: number;
  writeBytes?: number;
  /** Read and write system calls (/proc/<pid>/io syscr, syscw): Linux keeps no per-process disk operation count. */
  readOps?: number;
  writeOps?: number;
}

/** Clock ticks per second of /proc/<pid>/stat; 100 on every mainstream Linux build. */
const CLK_TCK = 100;

export function sampleProcess(pid: number, previous?: ProcStats): ProcStats | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch {
    return previous;
  }
  // Fields after "(comm)": state is field 3; utime 14, stime 15, cutime 16, cstime 17 (1-based).
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = (i: number): number => Number(f[i - 3] ?? 0) || 0;
  const stats: ProcStats = {
    userCpuMs: Math.max(((ticks(14) + ticks(16)) * 1000) / CLK_TCK, previous?.userCpuMs ?? 0),
    kernelCpuMs: Math.max(((ticks(15) + ticks(17)) * 1000) / CLK_TCK, previous?.kernelCpuMs ?? 0),
    maxRssBytes: Math.max(readHwm(pid), previous?.maxRssBytes ?? 0),
  };
  const io = readIo(pid);
  if (io) {
    stats.readBytes = Math.max(io.read, previous?.readBytes ?? 0);
    stats.writeBytes = Math.max(io.write, previous?.writeBytes ?? 0);
    if (io.readOps !== undefined && io.writeOps !== undefined) {
      stats.readOps = Math.max(io.readOps, previous?.readOps ?? 0);
      stats.writeOps = Math.max(io.writeOps, previous?.writeOps ?? 0);
    }
  } else if (previous?.readBytes !== undefined) {
    stats.readBytes = previous.readBytes;
    stats.writeBytes = previous.writeBytes ?? 0;
    if (previous.readOps !== undefined) stats.readOps = previous.readOps;
    if (previous.writeOps !== undefined) stats.writeOps = previous.writeOps;
  }
  return stats;
}

function readHwm(pid: number): number {
  try {
    const m = /VmHWM:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'latin1'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

function readIo(pid: number): { read: number; write: number; readOps?: number; writeOps?: number } | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/io`, 'latin1');
    const read = /read_bytes:\s+(\d+)/.exec(text);
    const write = /write_bytes:\s+(\d+)/.exec(text);
    if (!read || !write) return undefined;
    const syscr = /syscr:\s+(\d+)/.exec(text);
    const syscw = /syscw:\s+(\d+)/.exec(text);
    return { read: Number(read[1]), write: Number(write[1]), ...(syscr && syscw ? { readOps: Number(syscr[1]), writeOps: Number(syscw[1]) } : {}) };
  } catch {
    return undefined;
  }
}
