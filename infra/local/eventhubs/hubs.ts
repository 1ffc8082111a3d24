/**
 * The event hubs of one local endpoint and how a publish picks its partition:
 * explicit partition id > partition key (stable hash, see partition-key.ts) > round robin.
 * With a data dir, each hub lives in `<dataDir>/<hub>/` (`hub.json` + `<partition>.jsonl`).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PartitionLog } from './partition-log';
import { partitionIndexForKey } from './partition-key';

export interface HubSpec {
  name: string;
  partitionCount: number;
}

export interface HubStoreOptions {
  dataDir?: string;
  maxEventsPerPartition?: number;
  nowMs: number;
}

const HUB_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,255}$/;

export class Hub {
  private roundRobin = 0;

  constructor(
    readonly name: string,
    readonly createdAt: Date,
    readonly partitions: readonly PartitionLog[],
  ) {}

  get partitionIds(): string[] {
    return this.partitions.map((p) => p.id);
  }

  partition(id: string): PartitionLog | undefined {
    return /^\d+$/.test(id) ? this.partitions[Number(id)] : undefined;
  }

  /** Where a publish to the hub address goes. A whole batch goes to one partition. */
  route(partitionKey: string | undefined): PartitionLog {
    const n = this.partitions.length;
    const i = partitionKey !== undefined ? partitionIndexForKey(partitionKey, n) : this.roundRobin++ % n;
    return this.partitions[i]!;
  }
}

export class HubRegistry {
  private readonly byName = new Map<string, Hub>();

  constructor(specs: readonly HubSpec[], opts: HubStoreOptions) {
    for (const spec of specs) {
      if (!HUB_NAME.test(spec.name)) throw new Error(`invalid event hub name '${spec.name}'`);
      if (!Number.isInteger(spec.partitionCount) || spec.partitionCount < 1 || spec.partitionCount > 1024) {
        throw new Error(`invalid partitionCount ${spec.partitionCount} for hub '${spec.name}'`);
      }
      const key = spec.name.toLowerCase();
      if (this.byName.has(key)) throw new Error(`duplicate event hub '${spec.name}'`);
      this.byName.set(key, openHub(spec, opts));
    }
  }

  /** Hub names are case-insensitive, as in Azure. */
  get(name: string): Hub | undefined {
    return this.byName.get(name.toLowerCase());
  }

  close(): void {
    for (const hub of this.byName.values()) for (const p of hub.partitions) p.close();
  }
}

function openHub(spec: HubSpec, opts: HubStoreOptions): Hub {
  const dir = opts.dataDir === undefined ? undefined : join(opts.dataDir, spec.name);
  let createdAt = new Date(opts.nowMs);
  if (dir) {
    mkdirSync(dir, { recursive: true });
    const meta = join(dir, 'hub.json');
    if (existsSync(meta)) {
      const saved = (JSON.parse(readFileSync(meta, 'utf8')) as { createdAt?: unknown }).createdAt;
      if (typeof saved === 'string' && !Number.isNaN(Date.parse(saved))) createdAt = new Date(saved);
    } else {
      writeFileSync(meta, JSON.stringify({ name: spec.name, createdAt: createdAt.toISOString() }) + '\n');
    }
  }
  const partitions = Array.from({ length: spec.partitionCount }, (_, i) => {
    const id = String(i);
    return new PartitionLog({
      hub: spec.name,
      id,
      file: dir ? join(dir, `${id}.jsonl`) : undefined,
      maxEvents: opts.maxEventsPerPartition,
    });
  });
  return new Hub(spec.name, createdAt, partitions);
}
