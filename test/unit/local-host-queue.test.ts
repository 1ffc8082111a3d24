import type { TriggerMetadata } from '@azure/functions';
import type { DequeuedMessageItem, QueueClient } from '@azure/storage-queue';
import { describe, expect, it } from 'vitest';
import type { QueuesConfig } from '../../infra/local/host/host-json';
import { decodeMessage, encodeMessage, parsePayload, QueueIo, validateQueueName } from '../../infra/local/host/queue-io';
import { MIN_BACKOFF_MS, nextBackoff, QueuePoller, withJitter } from '../../infra/local/host/queue-trigger';

/** An in-memory stand-in for the few QueueClient calls the poller makes (no visibility timers). */
class FakeQueue {
  messages: Array<{ id: string; text: string; dequeueCount: number; pop: string; hidden: boolean }> = [];
  receives = 0;
  constructor(readonly name: string) {}
  add(text: string): void {
    this.messages.push({ id: `m${this.messages.length}`, text, dequeueCount: 0, pop: '', hidden: false });
  }
  asClient(): QueueClient {
    return this as unknown as QueueClient;
  }
  async receiveMessages(o: { numberOfMessages: number }): Promise<{ receivedMessageItems: DequeuedMessageItem[] }> {
    this.receives++;
    const now = new Date();
    const items = this.messages
      .filter((m) => !m.hidden)
      .slice(0, o.numberOfMessages)
      .map((m) => {
        m.hidden = true;
        m.dequeueCount++;
        m.pop = `p${Math.random()}`;
        return { messageId: m.id, messageText: m.text, dequeueCount: m.dequeueCount, popReceipt: m.pop, insertedOn: now, expiresOn: now, nextVisibleOn: now };
      });
    return { receivedMessageItems: items };
  }
  async deleteMessage(id: string, pop: string): Promise<void> {
    const i = this.messages.findIndex((m) => m.id === id && m.pop === pop);
    if (i < 0) throw new Error('PopReceiptMismatch');
    this.messages.splice(i, 1);
  }
  async updateMessage(id: string, pop: string): Promise<void> {
    const m = this.messages.find((x) => x.id === id && x.pop === pop);
    if (!m) throw new Error('PopReceiptMismatch');
    m.hidden = false;
  }
  async sendMessage(text: string): Promise<void> {
    this.add(text);
  }
}

const config = (over: Partial<QueuesConfig> = {}): QueuesConfig => ({
  batchSize: 4,
  newBatchThreshold: 2,
  maxPollingIntervalMs: 200,
  visibilityTimeoutMs: 0,
  maxDequeueCount: 3,
  messageEncoding: 'base64',
  ...over,
});

async function until(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
}

function poller(q: FakeQueue, poison: FakeQueue, cfg: QueuesConfig, invoke: (p: unknown, md: TriggerMetadata) => Promise<unknown>) {
  return new QueuePoller({
    functionName: 'f',
    queueName: q.name,
    client: q.asClient(),
    poisonClient: poison.asClient(),
    ensure: async () => {},
    config: cfg,
    log: () => {},
    invoke,
  });
}

describe('local host queue encoding', () => {
  it('encodes objects as JSON, strings and bytes as UTF-8, then base64', () => {
    expect(encodeMessage({ a: 1 }, 'base64')).toBe(Buffer.from('{"a":1}').toString('base64'));
    expect(encodeMessage('héllo', 'none')).toBe('héllo');
    expect(encodeMessage(Buffer.from('xy'), 'base64')).toBe('eHk=');
    expect(decodeMessage(encodeMessage({ a: 'é' }, 'base64'), 'base64')).toBe('{"a":"é"}');
    expect(() => decodeMessage('not base64!', 'base64')).toThrow(/base64/);
    expect(parsePayload('{"x":[1]}')).toEqual({ x: [1] });
    expect(parsePayload('plain text')).toBe('plain text');
  });

  it('validates queue names like the storage service', () => {
    expect(validateQueueName('commands-1')).toBe('commands-1');
    for (const bad of ['Commands', 'ab', 'a--b', '-ab', 'ab-', 'a_b', 'x'.repeat(64)]) expect(() => validateQueueName(bad)).toThrow(/invalid queue name/);
  });

  it('expands %settings% and resolves connections from settings, then env, then AzureWebJobs<name>', () => {
    process.env.LOCAL_HOST_TEST_CONN = 'from-env';
    const io = new QueueIo({ QueueName: 'jobs', AzureWebJobsOther: 'prefixed', AzureWebJobsStorage: 'default' }, 'base64');
    expect(io.expand('%QueueName%-in')).toBe('jobs-in');
    expect(() => io.expand('%Missing%')).toThrow(/Missing/);
    expect(io.connectionString()).toBe('default');
    expect(io.connectionString('LOCAL_HOST_TEST_CONN')).toBe('from-env');
    expect(io.connectionString('Other')).toBe('prefixed');
    expect(() => io.connectionString('Nope')).toThrow(/Nope/);
    delete process.env.LOCAL_HOST_TEST_CONN;
  });

  it('back-off doubles from 50 ms to the maximum, with bounded jitter', () => {
    let b = 0;
    const seen: number[] = [];
    for (let i = 0; i < 8; i++) seen.push((b = nextBackoff(b, 1000)));
    expect(seen).toEqual([MIN_BACKOFF_MS, 100, 200, 400, 800, 1000, 1000, 1000]);
    for (let i = 0; i < 50; i++) expect(withJitter(800, 1000)).toBeGreaterThanOrEqual(640);
    for (let i = 0; i < 50; i++) expect(withJitter(1000, 1000)).toBeLessThanOrEqual(1000);
  });
});

describe('local host QueuePoller (in-memory queue)', () => {
  it('keeps at most batchSize + newBatchThreshold handlers in flight and deletes on success', async () => {
    const q = new FakeQueue('work');
    for (let i = 0; i < 30; i++) q.add(encodeMessage({ i }, 'base64'));
    let active = 0;
    let peak = 0;
    const seen: unknown[] = [];
    const p = poller(q, new FakeQueue('work-poison'), config(), async (payload) => {
      peak = Math.max(peak, ++active);
      seen.push(payload);
      await new Promise((r) => setTimeout(r, 5 + Math.random() * 10));
      active--;
    });
    p.start();
    await until(() => q.messages.length === 0);
    await p.stop();
    expect(seen).toHaveLength(30);
    expect(seen).toContainEqual({ i: 17 });
    expect(peak).toBeGreaterThan(2);
    expect(peak).toBeLessThanOrEqual(6);
  });

  it('retries a failing message, then moves its original text to the poison queue', async () => {
    const q = new FakeQueue('work');
    const poison = new FakeQueue('work-poison');
    const text = encodeMessage({ fail: true }, 'base64');
    q.add(text);
    const counts: unknown[] = [];
    const p = poller(q, poison, config(), async (_payload, md) => {
      counts.push(md.dequeueCount);
      throw new Error('boom');
    });
    p.start();
    await until(() => poison.messages.length === 1);
    await p.stop();
    expect(counts).toEqual([1, 2, 3]);
    expect(q.messages).toHaveLength(0);
    expect(poison.messages[0]!.text).toBe(text);
  });

  it('survives transient storage errors: logs, backs off, continues', async () => {
    const q = new FakeQueue('work');
    q.add(encodeMessage({ ok: true }, 'base64'));
    const real = q.receiveMessages.bind(q);
    let failuresLeft = 2;
    q.receiveMessages = async (o) => {
      if (failuresLeft-- > 0) throw new Error('ECONNREFUSED');
      return real(o);
    };
    const logs: string[] = [];
    const got: unknown[] = [];
    const p = new QueuePoller({
      functionName: 'f',
      queueName: 'work',
      client: q.asClient(),
      poisonClient: new FakeQueue('work-poison').asClient(),
      ensure: async () => {},
      config: config(),
      log: (_l, m) => logs.push(m),
      invoke: async (payload) => void got.push(payload),
    });
    p.start();
    await until(() => got.length === 1);
    await p.stop();
    expect(got).toEqual([{ ok: true }]);
    expect(logs.filter((l) => l.includes('ECONNREFUSED'))).toHaveLength(2);
  });

  it('poisons undecodable base64 without invoking, and wake() polls at once after idling', async () => {
    const q = new FakeQueue('work');
    const poison = new FakeQueue('work-poison');
    const got: unknown[] = [];
    const p = poller(q, poison, config({ maxPollingIntervalMs: 60_000 }), async (payload) => void got.push(payload));
    q.add('%%% not base64');
    p.start();
    await until(() => poison.messages.length === 1);
    expect(got).toEqual([]);
    await new Promise((r) => setTimeout(r, 400)); // idle: back-off has grown
    q.add(encodeMessage('hi', 'base64'));
    const t0 = Date.now();
    p.wake();
    await until(() => got.length === 1);
    expect(Date.now() - t0).toBeLessThan(300);
    expect(got).toEqual(['hi']);
    await p.stop();
  });
});
