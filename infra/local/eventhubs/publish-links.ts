/**
 * Client sender links (our receiver side): `<hub>` or `<hub>/Partitions/<n>`.
 *
 * On attach we echo the target and advertise `max_message_size` (1 MiB, like a Standard namespace),
 * which `createBatch()` reads as `maxSizeInBytes`. Each transfer — usually a batch envelope — is
 * stored in one partition, then accepted; a failure rejects the delivery with an AMQP error so the
 * SDK's send fails instead of hanging.
 */
import type { Delivery, Receiver } from 'rhea';
import { parseAddress } from './addresses';
import { decodePublished } from './amqp-sections';
import { localAttach } from './link-util';
import type { Hub, HubRegistry } from './hubs';
import type { PartitionLog } from './partition-log';

export const MAX_MESSAGE_SIZE = 1024 * 1024;

export interface AmqpErrorInfo {
  condition: string;
  description: string;
}

export interface PublishTarget {
  hub: Hub;
  /** Set when the link targets one partition. */
  partition?: PartitionLog;
}

export function resolveTarget(address: string | undefined, hubs: HubRegistry): PublishTarget | AmqpErrorInfo {
  const a = parseAddress(address);
  if (a.kind !== 'hub' && a.kind !== 'partition') {
    return { condition: 'amqp:not-found', description: `The messaging entity '${address ?? ''}' could not be found.` };
  }
  const hub = hubs.get(a.hub);
  if (!hub) return { condition: 'amqp:not-found', description: `The messaging entity '${a.hub}' could not be found.` };
  if (a.kind === 'hub') return { hub };
  const partition = hub.partition(a.partitionId);
  if (!partition) return outOfRange(hub);
  return { hub, partition };
}

export function outOfRange(hub: Hub): AmqpErrorInfo {
  return {
    condition: 'com.microsoft:argument-out-of-range',
    description: `The specified partition is invalid for an EventHub partition sender or receiver. It should be between 0 and ${hub.partitions.length - 1}.`,
  };
}

/** Completes the attach of a publishing link: echo the target, advertise the size limit. */
export function acceptPublisher(receiver: Receiver): void {
  localAttach(receiver).max_message_size = MAX_MESSAGE_SIZE;
  receiver.set_target({ address: receiver.target?.address });
}

/** Stores one transfer and settles it. */
export function publish(target: PublishTarget, delivery: Delivery, message: unknown, format: number | undefined, nowMs: number): void {
  try {
    const batch = decodePublished(message, format);
    if (batch.messages.length > 0) {
      const log = target.partition ?? target.hub.route(batch.partitionKey);
      log.append(batch.messages, batch.partitionKey, nowMs);
    }
    delivery.accept();
  } catch (err) {
    delivery.reject({ condition: 'amqp:internal-error', description: err instanceof Error ? err.message : String(err) });
  }
}
