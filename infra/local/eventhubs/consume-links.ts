/**
 * Client receiver links (our sender side): `<hub>/ConsumerGroups/<group>/Partitions/<n>`.
 *
 * The start position comes from the source's selector filter (see addresses.ts). The link then
 * streams stored events in sequence order while the client grants credit and tails the partition
 * for new ones. Every consumer group reads the same log; epochs (`ownerLevel`) are accepted but not
 * enforced. When the client asks for `com.microsoft:enable-receiver-runtime-metric`, each event
 * carries the partition's last-enqueued info as delivery annotations.
 */
import type { Sender } from 'rhea';
import { InvalidFilterError, parseAddress, parseSelector, selectorOf } from './addresses';
import { withRuntimeInfo, type RuntimeInfo } from './amqp-sections';
import type { HubRegistry } from './hubs';
import { desiredCapabilities, localAttach } from './link-util';
import type { PartitionLog } from './partition-log';
import { outOfRange, type AmqpErrorInfo } from './publish-links';

const RUNTIME_METRIC = 'com.microsoft:enable-receiver-runtime-metric';

export class ConsumerLink {
  private nextSeq: number;
  private readonly unsubscribe: () => void;
  private readonly runtimeMetric: boolean;

  constructor(
    readonly sender: Sender,
    private readonly log: PartitionLog,
    firstSeq: number,
    private readonly nowMs: () => number,
  ) {
    this.nextSeq = firstSeq;
    this.runtimeMetric = desiredCapabilities(sender).includes(RUNTIME_METRIC);
    this.unsubscribe = log.onAppend(() => this.pump());
  }

  /** Sends stored events while the client has credit. */
  pump(): void {
    while (this.sender.is_open() && this.sender.sendable()) {
      if (this.nextSeq < this.log.beginSeq) this.nextSeq = this.log.beginSeq; // dropped by retention
      const ev = this.log.at(this.nextSeq);
      if (!ev) return;
      const payload = this.runtimeMetric ? withRuntimeInfo(ev, this.runtimeInfo()) : ev.bytes;
      this.sender.send(payload, undefined, 0);
      this.nextSeq++;
    }
  }

  close(): void {
    this.unsubscribe();
  }

  private runtimeInfo(): RuntimeInfo {
    const info = this.log.info();
    return {
      lastSequenceNumber: info.last_enqueued_sequence_number,
      lastOffset: info.last_enqueued_offset,
      lastEnqueuedMs: info.last_enqueued_time_utc.getTime(),
      retrievalMs: this.nowMs(),
    };
  }
}

/** Resolves the partition and start sequence number of a receiver attach, or the error to detach with. */
export function resolveSource(sender: Sender, hubs: HubRegistry): { log: PartitionLog; firstSeq: number } | AmqpErrorInfo {
  const address = sender.source?.address;
  const a = parseAddress(address);
  if (a.kind !== 'consumer') {
    return { condition: 'amqp:not-found', description: `The messaging entity '${address ?? ''}' could not be found.` };
  }
  const hub = hubs.get(a.hub);
  if (!hub) return { condition: 'amqp:not-found', description: `The messaging entity '${a.hub}' could not be found.` };
  const log = hub.partition(a.partitionId);
  if (!log) return outOfRange(hub);
  try {
    const filter = (sender.source as { filter?: unknown } | undefined)?.filter;
    return { log, firstSeq: log.startSeq(parseSelector(selectorOf(filter))) };
  } catch (err) {
    if (err instanceof InvalidFilterError) return { condition: 'amqp:invalid-field', description: err.message };
    throw err;
  }
}

/** Completes the attach of a consuming link: echo the source, honour the settle mode asked for. */
export function acceptConsumer(sender: Sender): void {
  sender.set_source({ address: sender.source?.address });
  localAttach(sender).snd_settle_mode = sender.snd_settle_mode;
}
