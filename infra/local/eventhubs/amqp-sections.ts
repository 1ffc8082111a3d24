/**
 * Messages as the broker stores and delivers them.
 *
 * A message is a sequence of described sections: header (0x70), delivery-annotations (0x71),
 * message-annotations (0x72), properties, application-properties, body, footer. On publish we
 * rewrite only the message-annotations section (adding sequence number, offset, enqueued time and
 * partition key, keeping the publisher's other annotations byte for byte), so a consumer gets the
 * event exactly as it was published. Runtime metrics go into a delivery-annotations section
 * spliced in after the header at delivery time.
 */
import * as rhea from 'rhea';
import { encode, mapSection, mapSectionEntries, pair, SECTION, splitSections } from './amqp-codec';

/** message_format of a batch envelope whose data sections are the encoded events. */
export const BATCH_FORMAT = 0x80013700;

export interface BrokerAnnotations {
  sequenceNumber: number;
  offset: string;
  enqueuedMs: number;
  partitionKey?: string;
}

export interface AnnotatedMessage {
  /** The message as delivered: header, message annotations, then the rest unchanged. */
  bytes: Buffer;
  /** Length of the header section at the front (where delivery annotations get spliced in). */
  headerLength: number;
}

const BROKER_KEYS = new Set(['x-opt-sequence-number', 'x-opt-offset', 'x-opt-enqueued-time', 'x-opt-partition-key']);

/** Rewrites a published message for storage; drops delivery annotations the publisher sent. */
export function annotate(message: Buffer, a: BrokerAnnotations): AnnotatedMessage {
  const pairs = [
    pair('x-opt-sequence-number', encode.long(a.sequenceNumber)),
    pair('x-opt-offset', encode.string(a.offset)),
    pair('x-opt-enqueued-time', encode.timestamp(a.enqueuedMs)),
  ];
  if (a.partitionKey !== undefined) pairs.push(pair('x-opt-partition-key', encode.string(a.partitionKey)));
  const head: Buffer[] = [];
  const rest: Buffer[] = [];
  for (const s of splitSections(message)) {
    if (s.code === SECTION.header) head.push(message.subarray(s.start, s.end));
    else if (s.code === SECTION.messageAnnotations) {
      for (const e of mapSectionEntries(message, s.start, s.end)) if (e.key === undefined || !BROKER_KEYS.has(e.key)) pairs.push(e.bytes);
    } else if (s.code !== SECTION.deliveryAnnotations) rest.push(message.subarray(s.start, s.end));
  }
  const headerLength = head.reduce((n, b) => n + b.length, 0);
  return { bytes: Buffer.concat([...head, mapSection(SECTION.messageAnnotations, pairs), ...rest]), headerLength };
}

/** Length of the leading header section of a stored message (0 when it has none). */
export function headerLengthOf(message: Buffer): number {
  const first = splitSections(message)[0];
  return first && first.code === SECTION.header ? first.end : 0;
}

export interface RuntimeInfo {
  lastSequenceNumber: number;
  lastOffset: string;
  lastEnqueuedMs: number;
  retrievalMs: number;
}

/** A stored message with the partition's runtime info as delivery annotations. */
export function withRuntimeInfo(stored: AnnotatedMessage, info: RuntimeInfo): Buffer {
  const da = mapSection(SECTION.deliveryAnnotations, [
    pair('last_enqueued_sequence_number', encode.long(info.lastSequenceNumber)),
    pair('last_enqueued_offset', encode.string(info.lastOffset)),
    pair('last_enqueued_time_utc', encode.timestamp(info.lastEnqueuedMs)),
    pair('runtime_info_retrieval_time_utc', encode.timestamp(info.retrievalMs)),
  ]);
  const { bytes, headerLength } = stored;
  return Buffer.concat([bytes.subarray(0, headerLength), da, bytes.subarray(headerLength)]);
}

export interface PublishedBatch {
  /** `x-opt-partition-key` of the envelope (or of the single message). */
  partitionKey: string | undefined;
  /** Each event as its own encoded AMQP message. */
  messages: Buffer[];
}

interface BodySection {
  typecode?: number;
  content?: unknown;
  multiple?: boolean;
}

function partitionKeyOf(annotations: unknown): string | undefined {
  if (annotations == null || typeof annotations !== 'object') return undefined;
  const key = (annotations as Record<string, unknown>)['x-opt-partition-key'];
  return typeof key === 'string' ? key : undefined;
}

/**
 * Turns one transfer into events. A batch (format 0x80013700) arrives as raw bytes: its envelope
 * carries the partition key and one data section per encoded event. Any other transfer is a
 * single event that rhea already decoded, so it is re-encoded.
 */
export function decodePublished(message: unknown, format: number | undefined): PublishedBatch {
  if (format === BATCH_FORMAT && Buffer.isBuffer(message)) {
    const envelope = rhea.message.decode(message);
    const body = envelope.body as BodySection | undefined;
    const content = body?.typecode === 0x75 ? body.content : undefined;
    const parts = body?.multiple ? (content as unknown[]) : content === undefined ? [] : [content];
    const messages = parts.filter((p): p is Buffer => Buffer.isBuffer(p));
    const first = messages[0];
    const partitionKey =
      partitionKeyOf(envelope.message_annotations) ?? (first ? partitionKeyOf(rhea.message.decode(first).message_annotations) : undefined);
    return { partitionKey, messages };
  }
  if (Buffer.isBuffer(message)) throw new Error(`unsupported message format ${format ?? 'none'}`);
  const msg = message as rhea.Message;
  return { partitionKey: partitionKeyOf(msg.message_annotations), messages: [rhea.message.encode(msg)] };
}
