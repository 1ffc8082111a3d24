/**
 * Wires rhea container events to the endpoint's link handlers.
 *
 * - client sender → our receiver: `$cbs` / `$management` requests, or publishes to a hub/partition;
 * - client receiver → our sender: reply links of request/response, or partition consumers.
 * Deliveries are settled by hand (the container runs with `autoaccept: false`), so a failed store
 * rejects the delivery instead of acknowledging it.
 */
import type { Container, Delivery, EventContext, Receiver, Sender } from 'rhea';
import { parseAddress } from './addresses';
import { acceptConsumer, ConsumerLink, resolveSource } from './consume-links';
import type { HubRegistry } from './hubs';
import { acceptPublisher, publish, resolveTarget, type PublishTarget } from './publish-links';
import { answer, ReplyRouter } from './request-response';

type Inbound = { kind: 'cbs' | 'management' } | { kind: 'publish'; target: PublishTarget };

export interface Router {
  close(): void;
}

export function wireContainer(container: Container, hubs: HubRegistry, nowMs: () => number): Router {
  const replies = new ReplyRouter();
  const consumers = new Map<Sender, ConsumerLink>();
  const inbound = new WeakMap<Receiver, Inbound>();

  const dropSender = (sender: Sender | undefined): void => {
    if (!sender) return;
    consumers.get(sender)?.close();
    consumers.delete(sender);
    replies.unregister(sender);
  };

  container.on('sender_open', (ctx: EventContext) => {
    const sender = ctx.sender!;
    const address = parseAddress(sender.source?.address);
    if (address.kind === 'cbs' || address.kind === 'management') {
      sender.set_source({ address: sender.source?.address });
      sender.set_target({ address: sender.target?.address });
      replies.register(sender);
      return;
    }
    const resolved = resolveSource(sender, hubs);
    if ('condition' in resolved) return sender.close(resolved);
    acceptConsumer(sender);
    const consumer = new ConsumerLink(sender, resolved.log, resolved.firstSeq, nowMs);
    consumers.set(sender, consumer);
    consumer.pump();
  });

  container.on('receiver_open', (ctx: EventContext) => {
    const receiver = ctx.receiver!;
    const address = parseAddress(receiver.target?.address);
    if (address.kind === 'cbs' || address.kind === 'management') {
      receiver.set_target({ address: receiver.target?.address });
      inbound.set(receiver, { kind: address.kind });
      return;
    }
    const target = resolveTarget(receiver.target?.address, hubs);
    if ('condition' in target) return receiver.close(target);
    acceptPublisher(receiver);
    inbound.set(receiver, { kind: 'publish', target });
  });

  container.on('message', (ctx: EventContext) => {
    const link = ctx.receiver ? inbound.get(ctx.receiver) : undefined;
    const delivery = ctx.delivery as Delivery;
    if (!link) return delivery.reject({ condition: 'amqp:not-allowed', description: 'link is not attached to an entity' });
    if (link.kind === 'publish') {
      return publish(link.target, delivery, ctx.message, (ctx as { format?: number }).format, nowMs());
    }
    delivery.accept();
    replies.reply(ctx.connection, ctx.message!, answer(link.kind, ctx.message!, hubs));
  });

  container.on('sendable', (ctx: EventContext) => {
    const sender = ctx.sender!;
    const consumer = consumers.get(sender);
    if (consumer) consumer.pump();
    else replies.flush(sender);
  });

  container.on('sender_close', (ctx: EventContext) => dropSender(ctx.sender));
  container.on('sender_error', (ctx: EventContext) => dropSender(ctx.sender));
  container.on('receiver_close', () => undefined);
  container.on('receiver_error', () => undefined);
  const dropConnection = (ctx: EventContext): void => {
    for (const sender of [...consumers.keys()]) if (sender.connection === ctx.connection) dropSender(sender);
  };
  container.on('connection_close', dropConnection);
  container.on('disconnected', dropConnection);
  // Peers vanish without closing links all the time; none of that may crash the endpoint.
  container.on('error', () => undefined);
  container.on('connection_error', () => undefined);
  container.on('session_error', () => undefined);
  container.on('protocol_error', () => undefined);

  return {
    close(): void {
      for (const c of consumers.values()) c.close();
      consumers.clear();
      container.removeAllListeners();
      container.on('error', () => undefined);
    },
  };
}
