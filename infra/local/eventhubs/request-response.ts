/**
 * `$cbs` and `$management` request/response.
 *
 * The client attaches a sender to `$cbs` / `$management` and a receiver whose link name (and
 * target address) is the `reply_to` of its requests. Each reply goes back on that receiver with
 * `correlation_id = request.message_id` and `application_properties['status-code']`.
 * - CBS `put-token`: every token is accepted (202).
 * - `$management` READ `com.microsoft:eventhub` / `com.microsoft:partition`: hub and partition
 *   runtime info. Unknown hub → 404 `amqp:not-found`; unknown partition → 400.
 */
import type { Connection, Message, Sender } from 'rhea';
import type { HubRegistry } from './hubs';

interface Reply {
  status: number;
  description: string;
  condition?: string;
  body?: unknown;
}

const notFound = (what: string): Reply => ({
  status: 404,
  description: `The messaging entity '${what}' could not be found.`,
  condition: 'amqp:not-found',
});

/** Answers one request. `kind` is the address the request arrived on. */
export function answer(kind: 'cbs' | 'management', request: Message, hubs: HubRegistry): Reply {
  const props = (request.application_properties ?? {}) as Record<string, unknown>;
  if (kind === 'cbs') {
    if (props.operation !== 'put-token') return { status: 400, description: `Unsupported $cbs operation '${String(props.operation)}'.` };
    return { status: 202, description: 'Accepted' };
  }
  if (props.operation !== 'READ') {
    return { status: 501, description: `Unsupported operation '${String(props.operation)}'.`, condition: 'amqp:not-implemented' };
  }
  const hub = typeof props.name === 'string' ? hubs.get(props.name) : undefined;
  if (!hub) return notFound(String(props.name));
  if (props.type === 'com.microsoft:eventhub') {
    return {
      status: 200,
      description: 'OK',
      body: {
        name: hub.name,
        type: 'com.microsoft:eventhub',
        created_at: hub.createdAt,
        partition_count: hub.partitions.length,
        partition_ids: hub.partitionIds,
      },
    };
  }
  if (props.type === 'com.microsoft:partition') {
    const p = hub.partition(String(props.partition));
    if (!p) {
      return {
        status: 400,
        description: `The specified partition is invalid for an EventHub partition sender or receiver. It should be between 0 and ${hub.partitions.length - 1}.`,
        condition: 'com.microsoft:argument-out-of-range',
      };
    }
    return { status: 200, description: 'OK', body: { type: 'com.microsoft:partition', ...p.info() } };
  }
  return { status: 400, description: `Unsupported type '${String(props.type)}'.`, condition: 'amqp:not-implemented' };
}

/** Finds the reply link for a `reply_to` address and sends replies once it has credit. */
export class ReplyRouter {
  private readonly links = new WeakMap<Connection, Map<string, Sender>>();
  private readonly pending = new Map<Sender, Message[]>();

  register(sender: Sender): void {
    let byName = this.links.get(sender.connection);
    if (!byName) this.links.set(sender.connection, (byName = new Map()));
    byName.set(sender.name, sender);
    const target = sender.target?.address;
    if (target) byName.set(target, sender);
  }

  unregister(sender: Sender): void {
    this.pending.delete(sender);
    const byName = this.links.get(sender.connection);
    if (!byName) return;
    for (const [k, v] of byName) if (v === sender) byName.delete(k);
  }

  reply(connection: Connection, request: Message, reply: Reply): void {
    const replyTo = typeof request.reply_to === 'string' ? request.reply_to : undefined;
    const link = replyTo === undefined ? undefined : this.links.get(connection)?.get(replyTo);
    if (!link) return; // nobody listens for the answer; the client times out like against Azure
    const props: Record<string, unknown> = { 'status-code': reply.status, 'status-description': reply.description };
    if (reply.condition) props['error-condition'] = reply.condition;
    const msg: Message = { correlation_id: request.message_id, application_properties: props, body: reply.body ?? null };
    const queue = this.pending.get(link) ?? [];
    queue.push(msg);
    this.pending.set(link, queue);
    this.flush(link);
  }

  flush(sender: Sender): void {
    const queue = this.pending.get(sender);
    while (queue && queue.length > 0 && sender.sendable()) sender.send(queue.shift()!);
    if (queue && queue.length === 0) this.pending.delete(sender);
  }
}
