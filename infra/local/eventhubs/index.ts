/**
 * Local Event Hubs–compatible endpoint: the development stand-in for an Event Hubs namespace, in
 * the role Azurite plays for storage. Plain AMQP 1.0 over TCP on 127.0.0.1 (rhea server), SASL
 * ANONYMOUS or PLAIN, every CBS token accepted. The real `EventHubProducerClient` /
 * `EventHubConsumerClient` connect with `connectionString(hub)` (`UseDevelopmentEmulator=true`
 * switches them to plain TCP on the endpoint's port).
 *
 * Emulated: hub/partition properties, publishing by partition id, partition key (Event Hubs'
 * hash) or round robin, batches, per-partition sequence numbers/offsets/enqueued times, receiving
 * from earliest/latest/sequence number/offset/enqueued time, live tail, runtime metrics, optional
 * persistence and retention by count. Not emulated: token validation, idempotent publishing,
 * epoch stealing, consumer-group existence, size-based retention, checkpoint stores.
 *
 * Modules: hubs.ts / partition-log.ts (storage), amqp-sections.ts (message bytes),
 * request-response.ts ($cbs, $management), publish-links.ts, consume-links.ts + addresses.ts
 * (links and filters), router.ts (rhea events).
 */
import type { Socket } from 'node:net';
import * as rhea from 'rhea';
import { HubRegistry } from './hubs';
import { wireContainer } from './router';

export interface LocalEventHubsOptions {
  /** TCP port on 127.0.0.1; 0 picks a free port. */
  port: number;
  hubs: { name: string; partitionCount: number }[];
  /** keep events across restarts: append-only JSON-lines files per partition under this dir */
  dataDir?: string;
  retention?: { maxEventsPerPartition?: number };
}

export interface LocalEventHubs {
  port: number;
  /** `Endpoint=sb://127.0.0.1:<port>/;SharedAccessKeyName=local;SharedAccessKey=bG9jYWw=;UseDevelopmentEmulator=true;EntityPath=<hub>` */
  connectionString(hub: string): string;
  /** Destroys open connections, stops listening and closes the partition files. */
  close(): Promise<void>;
}

export const LOCAL_HOST = '127.0.0.1';

export function localConnectionString(port: number, hub: string): string {
  return `Endpoint=sb://${LOCAL_HOST}:${port}/;SharedAccessKeyName=local;SharedAccessKey=bG9jYWw=;UseDevelopmentEmulator=true;EntityPath=${hub}`;
}

interface SaslServerMechanisms {
  enable_anonymous(): void;
  enable_plain(check: (user: string, password: string) => boolean): void;
}

export async function startLocalEventHubs(opts: LocalEventHubsOptions): Promise<LocalEventHubs> {
  const nowMs = (): number => Date.now();
  const hubs = new HubRegistry(opts.hubs, {
    dataDir: opts.dataDir,
    maxEventsPerPartition: opts.retention?.maxEventsPerPartition,
    nowMs: nowMs(),
  });
  const container = rhea.create_container({ id: 'batchplane-local-eventhubs', autoaccept: false });
  const sasl = container.sasl_server_mechanisms as SaslServerMechanisms;
  sasl.enable_anonymous();
  sasl.enable_plain(() => true);
  const router = wireContainer(container, hubs, nowMs);

  const server = container.listen({ port: opts.port, host: LOCAL_HOST });
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    socket.setNoDelay(true); // without it every small send waits ~40 ms for Nagle + delayed ACK
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('listening', resolve);
      server.once('error', reject);
    });
  } catch (err) {
    router.close();
    hubs.close();
    throw err;
  }
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : opts.port;

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closing ??= new Promise<void>((resolve) => {
      // server.close() alone waits for every client to hang up, so end the sockets ourselves.
      for (const s of sockets) s.destroy();
      server.close(() => {
        router.close();
        hubs.close();
        resolve();
      });
    }));

  return { port, connectionString: (hub) => localConnectionString(port, hub), close };
}
