/**
 * Storage-queue plumbing shared by queue triggers and queue output bindings: app-setting resolution
 * (`%NAME%` expressions and connection names: opts.settings, then process.env, then the
 * `AzureWebJobs<name>` fallback), cached `QueueClient`s with create-if-missing, message encoding
 * per host.json `messageEncoding`, and flushing `output.storageQueue` extra/return outputs.
 */
import type { FunctionOutput, InvocationContext } from '@azure/functions';
import { QueueClient } from '@azure/storage-queue';
import type { FunctionSpec } from './invocation';

/** Default connection app-setting name, as in the real host. */
export const DEFAULT_CONNECTION = 'AzureWebJobsStorage';

/** Throws unless `name` is a valid storage queue name (3–63 of a-z, 0-9, single dashes inside). */
export function validateQueueName(name: string): string {
  if (!/^[a-z0-9](?:[a-z0-9]|-(?!-)){1,61}[a-z0-9]$/.test(name)) {
    throw new Error(`invalid queue name '${name}': use 3-63 lower-case letters, digits and single dashes`);
  }
  return name;
}

/** Message text as put on the queue: JSON for objects, UTF-8 text/bytes, then base64 if configured. */
export function encodeMessage(value: unknown, encoding: 'base64' | 'none'): string {
  let bytes: Buffer;
  if (typeof value === 'string') bytes = Buffer.from(value, 'utf8');
  else if (value instanceof Uint8Array) bytes = Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  else if (value instanceof ArrayBuffer) bytes = Buffer.from(value);
  else bytes = Buffer.from(JSON.stringify(value) ?? 'null', 'utf8');
  return encoding === 'base64' ? bytes.toString('base64') : bytes.toString('utf8');
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Message text as the handler sees it before JSON parsing. Throws when base64 text is not valid base64. */
export function decodeMessage(text: string, encoding: 'base64' | 'none'): string {
  if (encoding === 'none') return text;
  const compact = text.replace(/\s+/g, '');
  if (!BASE64.test(compact)) throw new Error('message is not valid base64 (host.json messageEncoding is "base64")');
  return Buffer.from(compact, 'base64').toString('utf8');
}

/** The trigger payload: parsed JSON when the text parses, else the text itself. */
export function parsePayload(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/** Queue access for one host instance. */
export class QueueIo {
  private readonly queues = new Map<string, QueueClient>();
  private readonly ensured = new WeakMap<QueueClient, Promise<void>>();

  constructor(
    private readonly settings: Record<string, string>,
    readonly encoding: 'base64' | 'none',
    /** Called after this process sent a message to a queue (the in-process wake-up fast path). */
    private readonly onSent: (queueName: string) => void = () => {},
  ) {}

  /** An app setting: opts.settings first, then process.env. */
  setting(name: string): string | undefined {
    return this.settings[name] ?? process.env[name];
  }

  /** Expands `%NAME%` app-setting references (binding expressions) in a binding property. */
  expand(text: string): string {
    return text.replace(/%([^%]+)%/g, (_, name: string) => {
      const v = this.setting(name);
      if (v === undefined) throw new Error(`app setting '${name}' (referenced as %${name}%) is not set`);
      return v;
    });
  }

  /** Resolves a connection name (default `AzureWebJobsStorage`) to a connection string; throws when unset. */
  connectionString(connection?: string): string {
    const name = connection || DEFAULT_CONNECTION;
    const value = this.setting(name) ?? this.setting(`AzureWebJobs${name}`);
    if (!value) throw new Error(`connection '${name}': no app setting or environment variable with a connection string`);
    return value;
  }

  /** A cached client for a queue. Requests retry briefly: the pollers add their own back-off. */
  client(connection: string | undefined, queueName: string): QueueClient {
    const cs = this.connectionString(connection);
    const key = `${cs}\n${queueName}`;
    let client = this.queues.get(key);
    if (!client) {
      client = new QueueClient(cs, queueName, { retryOptions: { maxTries: 3, retryDelayInMs: 200, maxRetryDelayInMs: 2000 } });
      this.queues.set(key, client);
    }
    return client;
  }

  /** Creates the queue once per host (a failed attempt is retried by the next call). */
  ensure(client: QueueClient): Promise<void> {
    let p = this.ensured.get(client);
    if (!p) {
      p = client.createIfNotExists().then(
        () => undefined,
        (e: unknown) => {
          this.ensured.delete(client);
          throw e;
        },
      );
      this.ensured.set(client, p);
    }
    return p;
  }

  /** Sends one message per value (an array means several messages), creating the queue if missing. */
  async send(connection: string | undefined, queueName: string, value: unknown): Promise<void> {
    const client = this.client(connection, queueName);
    await this.ensure(client);
    const values = Array.isArray(value) ? (value as unknown[]) : [value];
    for (const v of values) await client.sendMessage(encodeMessage(v, this.encoding));
    if (values.length) this.onSent(queueName);
  }

  /** Sends the queue outputs an invocation set: `extraOutputs` of type `queue`, and a queue `return` binding. */
  async flushOutputs(ctx: InvocationContext, spec: FunctionSpec, result: unknown): Promise<void> {
    const pending: Array<[FunctionOutput, unknown]> = spec.extraOutputs
      .filter((o) => o.type === 'queue')
      .map((o) => [o, ctx.extraOutputs.get(o)]);
    if (spec.returnBinding?.type === 'queue') pending.push([spec.returnBinding, result]);
    for (const [binding, value] of pending) {
      if (value === undefined || value === null) continue;
      const queueName = this.expand(String(binding.queueName ?? ''));
      await this.send(binding.connection as string | undefined, queueName, value);
    }
  }
}
