/**
 * One partition's event log: in memory, optionally mirrored to an append-only JSON-lines file.
 *
 * Each event gets a 0-based sequence number, a byte offset (the running total of stored message
 * sizes, as a string on the wire, like Event Hubs) and a non-decreasing enqueued time. Events are
 * stored already annotated, so delivery writes the stored bytes as they are.
 * File line: `{"s":seq,"o":offset,"t":enqueuedMs,"b":"<base64 message>"}`. A torn last line (crash
 * mid-write) is cut off on load. Retention drops the oldest events; the file is rewritten once it
 * holds more dropped lines than retained ones.
 */
import { closeSync, existsSync, openSync, readFileSync, renameSync, truncateSync, writeFileSync, writeSync } from 'node:fs';
import type { StartPosition } from './addresses';
import { annotate, headerLengthOf, type AnnotatedMessage } from './amqp-sections';

export interface StoredEvent extends AnnotatedMessage {
  readonly seq: number;
  readonly offset: number;
  readonly enqueuedMs: number;
}

export interface PartitionInfo {
  name: string;
  partition: string;
  begin_sequence_number: number;
  last_enqueued_sequence_number: number;
  last_enqueued_offset: string;
  last_enqueued_time_utc: Date;
  is_partition_empty: boolean;
}

export interface PartitionLogOptions {
  hub: string;
  id: string;
  /** JSON-lines file; omitted = memory only. */
  file?: string;
  maxEvents?: number;
}

type Listener = () => void;

export class PartitionLog {
  readonly hub: string;
  readonly id: string;
  private events: StoredEvent[] = [];
  private head = 0; // index of the first retained event in `events`
  private nextSeq = 0;
  private nextOffset = 0;
  private lastMs = 0;
  private fd: number | undefined;
  private linesInFile = 0;
  private readonly listeners = new Set<Listener>();

  constructor(private readonly opts: PartitionLogOptions) {
    this.hub = opts.hub;
    this.id = opts.id;
    if (opts.file) {
      if (existsSync(opts.file)) this.load(opts.file);
      this.fd = openSync(opts.file, 'a');
    }
  }

  /** Sequence number of the oldest retained event (the next one when empty). */
  get beginSeq(): number {
    return this.events[this.head]?.seq ?? this.nextSeq;
  }

  /** Sequence number of the newest event, -1 when nothing was ever stored. */
  get lastSeq(): number {
    return this.nextSeq - 1;
  }

  get size(): number {
    return this.events.length - this.head;
  }

  at(seq: number): StoredEvent | undefined {
    const first = this.events[this.head];
    if (!first || seq < first.seq) return undefined;
    return this.events[this.head + (seq - first.seq)];
  }

  /** Stores encoded messages in order; returns the stored events. */
  append(messages: Buffer[], partitionKey: string | undefined, nowMs: number): StoredEvent[] {
    const enqueuedMs = Math.max(nowMs, this.lastMs);
    const stored: StoredEvent[] = [];
    let seq = this.nextSeq;
    let offset = this.nextOffset;
    for (const m of messages) {
      const annotated = annotate(m, { sequenceNumber: seq, offset: String(offset), enqueuedMs, partitionKey });
      const ev: StoredEvent = { seq, offset, enqueuedMs, ...annotated };
      stored.push(ev);
      seq++;
      offset += ev.bytes.length;
    }
    this.persist(stored); // first, so a failed write consumes no sequence numbers
    this.nextSeq = seq;
    this.nextOffset = offset;
    this.lastMs = enqueuedMs;
    this.events.push(...stored);
    this.applyRetention();
    for (const l of this.listeners) l();
    return stored;
  }

  /** The first sequence number a receiver starting at `pos` gets. */
  startSeq(pos: StartPosition): number {
    switch (pos.kind) {
      case 'earliest':
        return this.beginSeq;
      case 'latest':
        return this.nextSeq;
      case 'sequence':
        return Math.max(this.beginSeq, pos.inclusive ? pos.sequenceNumber : pos.sequenceNumber + 1);
      case 'offset':
        return this.firstSeqWhere((e) => (pos.inclusive ? e.offset >= pos.offset : e.offset > pos.offset));
      case 'enqueued':
        return this.firstSeqWhere((e) => (pos.inclusive ? e.enqueuedMs >= pos.ms : e.enqueuedMs > pos.ms));
      default: {
        const never: never = pos;
        return never;
      }
    }
  }

  info(): PartitionInfo {
    const last = this.at(this.lastSeq);
    return {
      name: this.hub,
      partition: this.id,
      begin_sequence_number: this.beginSeq,
      last_enqueued_sequence_number: this.lastSeq,
      last_enqueued_offset: last ? String(last.offset) : '-1',
      last_enqueued_time_utc: new Date(last ? last.enqueuedMs : 0),
      is_partition_empty: this.size === 0,
    };
  }

  /** Calls `listener` after every append; returns the unsubscribe function. */
  onAppend(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  close(): void {
    this.listeners.clear();
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  /** Binary search over the retained events (offsets and times only grow). */
  private firstSeqWhere(pred: (e: StoredEvent) => boolean): number {
    let lo = this.head;
    let hi = this.events.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (pred(this.events[mid]!)) hi = mid;
      else lo = mid + 1;
    }
    return this.events[lo]?.seq ?? this.nextSeq;
  }

  private persist(events: StoredEvent[]): void {
    if (this.fd === undefined || events.length === 0) return;
    writeSync(this.fd, events.map(toLine).join(''));
    this.linesInFile += events.length;
  }

  private applyRetention(): void {
    const max = this.opts.maxEvents;
    if (max === undefined || this.size <= max) return;
    this.head += this.size - Math.max(1, max);
    if (this.head > 1024 && this.head * 2 > this.events.length) {
      this.events = this.events.slice(this.head);
      this.head = 0;
    }
    if (this.opts.file && this.fd !== undefined && this.linesInFile > 2 * Math.max(this.size, 512)) this.compact(this.opts.file);
  }

  private compact(file: string): void {
    const retained = this.events.slice(this.head);
    writeFileSync(`${file}.tmp`, retained.map(toLine).join(''));
    closeSync(this.fd!);
    renameSync(`${file}.tmp`, file);
    this.fd = openSync(file, 'a');
    this.linesInFile = retained.length;
  }

  private load(file: string): void {
    const raw = readFileSync(file);
    const complete = raw.lastIndexOf(0x0a) + 1;
    if (complete < raw.length) truncateSync(file, complete); // drop a torn last line before appending
    for (const line of raw.toString('utf8', 0, complete).split('\n')) {
      const ev = fromLine(line);
      if (!ev || ev.seq < this.nextSeq) continue;
      if (ev.seq > this.nextSeq && this.events.length > 0) this.events = []; // a damaged line: keep the contiguous tail
      this.events.push(ev);
      this.nextSeq = ev.seq + 1;
      this.nextOffset = ev.offset + ev.bytes.length;
      this.lastMs = ev.enqueuedMs;
      this.linesInFile++;
    }
    const max = this.opts.maxEvents;
    if (max !== undefined && this.size > max) this.head = this.size - Math.max(1, max);
  }
}

function toLine(e: StoredEvent): string {
  return `{"s":${e.seq},"o":${e.offset},"t":${e.enqueuedMs},"b":"${e.bytes.toString('base64')}"}\n`;
}

function fromLine(line: string): StoredEvent | undefined {
  if (line.trim() === '') return undefined;
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch {
    return undefined; // torn write at the end of the file
  }
  const r = raw as { s?: unknown; o?: unknown; t?: unknown; b?: unknown };
  if (typeof r.s !== 'number' || typeof r.o !== 'number' || typeof r.t !== 'number' || typeof r.b !== 'string') return undefined;
  const bytes = Buffer.from(r.b, 'base64');
  return { seq: r.s, offset: r.o, enqueuedMs: r.t, bytes, headerLength: headerLengthOf(bytes) };
}
