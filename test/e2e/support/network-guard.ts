import dgram from 'node:dgram';
import dns from 'node:dns';
import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import net from 'node:net';

/**
 * Records every outbound connection of this process (net.Socket#connect, dgram, DNS lookups) and,
 * on Linux, samples the TCP sockets of this process and its descendants (Azurite, node agents) in
 * /proc/net/tcp{,6}. `stop()` restores the patches and returns what it saw.
 */
export interface NetworkReport {
  /** host:port or unix path of every connect() of this process. */
  connects: string[];
  /** Names passed to dns.lookup. */
  lookups: string[];
  /** Remote addresses of TCP sockets owned by the process tree. */
  remotes: string[];
  /** How many /proc samples were taken (0 where /proc is missing). */
  samples: number;
}

/** True for a loopback (or unspecified) address in the report's formats: `host:port`, `[v6]:port`, `unix:path`. */
export function isLoopback(address: string): boolean {
  if (address.startsWith('unix:')) return true;
  const h = address.replace(/:(\d+|undefined)$/, '').replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127\./.test(h) || /^::ffff:127\./.test(h) || h === '0.0.0.0' || h === '::';
}

type ConnectFn = (...args: unknown[]) => unknown;

export function startNetworkGuard(extraPids: () => number[] = () => []): { stop(): NetworkReport } {
  const report: NetworkReport = { connects: [], lookups: [], remotes: [], samples: 0 };
  const proto = net.Socket.prototype as unknown as { connect: ConnectFn };
  const connect = proto.connect;
  proto.connect = function (this: net.Socket, ...args: unknown[]) {
    report.connects.push(describeConnect(args));
    return connect.apply(this, args);
  };
  const udp = dgram.Socket.prototype as unknown as { send: ConnectFn; connect: ConnectFn };
  const [udpSend, udpConnect] = [udp.send, udp.connect];
  udp.send = function (this: dgram.Socket, ...args: unknown[]) {
    report.connects.push(`udp:${String(args.find((a) => typeof a === 'string' && a.includes('.')) ?? args.at(-2))}`);
    return udpSend.apply(this, args);
  };
  udp.connect = function (this: dgram.Socket, ...args: unknown[]) {
    report.connects.push(`udp:${String(args[1])}:${String(args[0])}`);
    return udpConnect.apply(this, args);
  };
  const lookup = dns.lookup;
  (dns as { lookup: unknown }).lookup = (host: string, ...rest: unknown[]) => {
    report.lookups.push(host);
    return (lookup as ConnectFn)(host, ...rest);
  };
  const plookup = dns.promises.lookup;
  (dns.promises as { lookup: unknown }).lookup = (host: string, ...rest: unknown[]) => {
    report.lookups.push(host);
    return (plookup as ConnectFn)(host, ...rest);
  };
  const timer = setInterval(() => sampleProc(report, extraPids()), 100);
  return {
    stop: () => {
      clearInterval(timer);
      sampleProc(report, extraPids());
      proto.connect = connect;
      udp.send = udpSend;
      udp.connect = udpConnect;
      (dns as { lookup: unknown }).lookup = lookup;
      (dns.promises as { lookup: unknown }).lookup = plookup;
      return report;
    },
  };
}

function describeConnect(args: unknown[]): string {
  const a = Array.isArray(args[0]) ? (args[0] as unknown[])[0] : args[0];
  if (a && typeof a === 'object') {
    const o = a as { host?: string; port?: number; path?: string };
    return o.path ? `unix:${o.path}` : `${o.host ?? 'localhost'}:${String(o.port)}`;
  }
  if (typeof a === 'string' && Number.isNaN(Number(a))) return `unix:${a}`;
  return `${typeof args[1] === 'string' ? args[1] : 'localhost'}:${String(a)}`;
}

/** The pids of this process, its descendants, and `extra`. */
function processTree(extra: number[]): Set<number> {
  const parent = new Map<number, number>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      parent.set(Number(d), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // gone
    }
  }
  const tree = new Set([process.pid, ...extra]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const [pid, ppid] of parent) if (tree.has(ppid) && !tree.has(pid)) grew = tree.add(pid) !== undefined;
  }
  return tree;
}

function sampleProc(report: NetworkReport, extra: number[]): void {
  if (!existsSync('/proc/net/tcp')) return;
  report.samples++;
  const inodes = new Set<string>();
  for (const pid of processTree(extra)) {
    try {
      for (const fd of readdirSync(`/proc/${pid}/fd`)) {
        const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
        if (m) inodes.add(m[1]!);
      }
    } catch {
      // exited or not ours to read
    }
  }
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    if (!existsSync(file)) continue;
    for (const line of readFileSync(file, 'utf8').split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 10 || !inodes.has(f[9]!)) continue;
      const remote = decodeAddress(f[2]!);
      if (remote) report.remotes.push(remote);
    }
  }
}

/** `0100007F:1F90` / 32-hex IPv6 → printable address (undefined for an unconnected socket). */
export function decodeAddress(hexAddr: string): string | undefined {
  const [upper, port] = hexAddr.split(':');
  const hex = upper?.toLowerCase();
  if (!hex || /^0+$/.test(hex)) return undefined;
  const words = hex.match(/.{8}/g)!.map((w) => w.match(/../g)!.reverse().join(''));
  const p = parseInt(port ?? '0', 16);
  if (words.length === 1) return `${words[0]!.match(/../g)!.map((b) => parseInt(b, 16)).join('.')}:${p}`;
  const full = words.join('');
  if (full.startsWith('00000000000000000000ffff')) return `::ffff:${full.slice(24).match(/../g)!.map((b) => parseInt(b, 16)).join('.')}:${p}`;
  if (full === '00000000000000000000000000000001') return `::1:${p}`;
  return `[${full.match(/.{4}/g)!.join(':')}]:${p}`;
}
