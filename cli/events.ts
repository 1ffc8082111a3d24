import { connect } from 'node:net';
import { EventHubConsumerClient, earliestEventPosition, type ReceivedEventData } from '@azure/event-hubs';
import { SERVICE_LOG_HUB } from '../shared/events/records';
import { formatRecord, matches, recordsOf, type EventFilter } from './format';

/**
 * `batchplane events`: reads service-log events with an EventHubConsumerClient from every
 * partition (from --since, or the earliest retained event), filters and prints one line per event.
 * Without --follow it stops once it has read, in every partition, up to the last event enqueued
 * when it started; the backlog is printed in event-time order, live events as they arrive.
 */
export interface EventsOptions extends EventFilter {
  connectionString: string;
  consumerGroup: string;
  follow: boolean;
  json: boolean;
}

/** What a running stack prints; the local endpoint's default port is 5672 (BATCHPLANE_EVENTHUBS_PORT). */
export function defaultConnectionString(env: NodeJS.ProcessEnv): string {
  const cs = env.BATCHPLANE_EVENTHUBS_CONNECTION_STRING?.trim();
  if (cs) return cs;
  const port = env.BATCHPLANE_EVENTHUBS_PORT ?? '5672';
  return `Endpoint=sb://127.0.0.1:${port}/;SharedAccessKeyName=local;SharedAccessKey=bG9jYWw=;UseDevelopmentEmulator=true;EntityPath=${SERVICE_LOG_HUB}`;
}

/** The AMQP endpoint of a connection string (port 5671, or 5672 with UseDevelopmentEmulator=true). */
export function endpointOf(cs: string): { host: string; port: number; local: boolean } | undefined {
  const m = /(?:^|;)\s*Endpoint=sb:\/\/([^/:;]+)(?::(\d+))?/i.exec(cs);
  if (!m) return undefined;
  const local = /(?:^|;)\s*UseDevelopmentEmulator=true/i.test(cs);
  return { host: m[1]!, port: m[2] ? Number(m[2]) : local ? 5672 : 5671, local };
}

/** Fails in seconds (instead of the SDK's long retries) when nothing listens at the endpoint. */
async function assertReachable(cs: string, timeoutMs = 5_000): Promise<void> {
  const ep = endpointOf(cs);
  if (!ep) return;
  const ok = await new Promise<boolean>((resolve) => {
    const socket = connect({ host: ep.host, port: ep.port });
    const done = (v: boolean): void => {
      socket.destroy();
      resolve(v);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
  if (!ok) throw new Error(`cannot reach Event Hubs at ${ep.host}:${ep.port}${ep.local ? ' (is `npm start` running? set BATCHPLANE_EVENTHUBS_PORT or --connection-string)' : ''}`);
}

/** Events whose enqueue time is this much before --since are still read (publishing lags the event). */
const SINCE_SLACK_MS = 60_000;

interface Line {
  time: string;
  partition: string;
  seq: number;
  text: string;
}

/** Streams events to `out`; resolves with the number of lines printed. */
export async function streamEvents(o: EventsOptions, out: (line: string) => void, signal?: AbortSignal, err: (line: string) => void = () => undefined): Promise<number> {
  await assertReachable(o.connectionString);
  const consumer = new EventHubConsumerClient(o.consumerGroup, o.connectionString, { retryOptions: { maxRetries: 2, timeoutInMs: 10_000 } });
  const from = o.since ? new Date(o.since.getTime() - SINCE_SLACK_MS) : undefined;
  let printed = 0;
  try {
    // 1. Where "caught up" is: the last sequence number of each partition with something to read.
    const targets = new Map<string, number>();
    for (const id of await consumer.getPartitionIds({ abortSignal: signal })) {
      const p = await consumer.getPartitionProperties(id, { abortSignal: signal });
      if (!p.isEmpty && !(from && p.lastEnqueuedOnUtc.getTime() < from.getTime())) targets.set(id, p.lastEnqueuedSequenceNumber);
    }
    // 2. Read every partition; hold the backlog until caught up, then print it in time order.
    let backlog: Line[] | undefined = targets.size > 0 ? [] : undefined;
    const emit = (l: Line): void => {
      out(l.text);
      printed++;
    };
    let finished!: () => void;
    const done = new Promise<void>((resolve) => (finished = resolve));
    const catchUp = (partitionId: string, seq: number): void => {
      const target = targets.get(partitionId);
      if (target === undefined || seq < target) return;
      targets.delete(partitionId);
      if (targets.size > 0 || !backlog) return;
      backlog.sort((a, b) => a.time.localeCompare(b.time) || a.partition.localeCompare(b.partition) || a.seq - b.seq).forEach(emit);
      backlog = undefined;
      if (!o.follow) finished();
    };
    const errors = new Set<string>();
    const sub = consumer.subscribe(
      {
        processEvents: async (events: ReceivedEventData[], ctx) => {
          for (const e of events) {
            for (const r of recordsOf(e.body)) {
              if (!matches(r, o)) continue;
              const line = { time: r.time, partition: ctx.partitionId, seq: e.sequenceNumber, text: o.json ? JSON.stringify(r) : formatRecord(r) };
              if (backlog) backlog.push(line);
              else emit(line);
            }
            catchUp(ctx.partitionId, e.sequenceNumber);
          }
        },
        processError: async (e) => {
          const m = e instanceof Error ? e.message : String(e);
          if (!errors.has(m)) err(`batchplane events: ${m}`);
          errors.add(m);
        },
      },
      { startPosition: from ? { enqueuedOn: from } : earliestEventPosition, maxBatchSize: 500, maxWaitTimeInSeconds: 1 },
    );
    if (!backlog && !o.follow) finished();
    signal?.addEventListener('abort', () => finished(), { once: true });
    if (signal?.aborted) finished();
    await done;
    await sub.close();
  } finally {
    await consumer.close();
  }
  return printed;
}
