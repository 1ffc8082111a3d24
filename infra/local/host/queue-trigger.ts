/**
 * Storage-queue trigger: one {@link QueuePoller} per queue-triggered function, with the semantics of
 * host.json `extensions.queues`. It receives up to `batchSize` messages (hidden for 10 min while
 * processed), runs the handler per message with at most `batchSize + newBatchThreshold` in flight,
 * and fetches more once in-flight ≤ `newBatchThreshold`. Success deletes the message; failure makes
 * it visible again after `visibilityTimeout`, or moves it to `<queue>-poison` once `dequeueCount`
 * reaches `maxDequeueCount`. Idle polling backs off exponentially (50 ms … `maxPollingInterval`, with
 * jitter); {@link QueuePoller.wake} polls at once. Storage errors are logged and backed off.
 */
import type { TriggerMetadata } from '@azure/functions';
import type { DequeuedMessageItem, QueueClient } from '@azure/storage-queue';
import type { QueuesConfig } from './host-json';
import { errorText, type LogFn } from './invocation';
import { decodeMessage, parsePayload } from './queue-io';

/** Visibility timeout (seconds) of a received message while its handler runs. */
export const PROCESSING_VISIBILITY_SECONDS = 600;
/** First idle back-off step. */
export const MIN_BACKOFF_MS = 50;
/** How long {@link QueuePoller.stop} waits for in-flight handlers. */
export const STOP_GRACE_MS = 10_000;

export interface QueuePollerOptions {
  functionName: string;
  queueName: string;
  client: QueueClient;
  poisonClient: QueueClient;
  /** Creates a queue if missing (cached by the caller). */
  ensure: (client: QueueClient) => Promise<void>;
  config: QueuesConfig;
  log: LogFn;
  /** Runs the function for one payload; rejects when the invocation failed. */
  invoke: (payload: unknown, metadata: TriggerMetadata) => Promise<unknown>;
}

/** The next idle/error back-off: 50 ms, doubling up to `max`. */
export function nextBackoff(previousMs: number, maxMs: number): number {
  return Math.min(maxMs, previousMs <= 0 ? MIN_BACKOFF_MS : previousMs * 2);
}

/** ±20 % jitter, never above `maxMs`. */
export function withJitter(ms: number, maxMs: number): number {
  return Math.min(maxMs, Math.round(ms * (0.8 + Math.random() * 0.4)));
}

/** Polls one queue and dispatches its messages to one function. */
export class QueuePoller {
  private readonly inFlight = new Set<Promise<void>>();
  private readonly abort = new AbortController();
  private backoffMs = 0;
  private stopping = false;
  private wakeRequested = false;
  private sleeper?: { timer: NodeJS.Timeout; resolve: () => void };
  private slotWaiter?: () => void;
  private loopDone: Promise<void> = Promise.resolve();

  constructor(private readonly o: QueuePollerOptions) {}

  /** Creates the trigger queue if missing; a failure is only logged (the loop retries it). */
  async ensureQueue(): Promise<void> {
    try {
      await this.o.ensure(this.o.client);
    } catch (e) {
      this.o.log('warn', `[${this.o.functionName}] cannot create queue '${this.o.queueName}' yet: ${errorText(e)}`);
    }
  }

  /** Starts the polling loop. */
  start(): void {
    this.loopDone = this.loop();
  }

  /** Resets the back-off and polls now (or right after the current receive). */
  wake(): void {
    if (this.stopping) return;
    this.backoffMs = 0;
    this.wakeRequested = true;
    this.interruptSleep();
  }

  /** Stops polling, then waits for in-flight handlers (at most {@link STOP_GRACE_MS}). */
  async stop(): Promise<void> {
    this.stopping = true;
    this.abort.abort();
    this.interruptSleep();
    this.slotWaiter?.();
    await this.loopDone;
    if (this.inFlight.size === 0) return;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, STOP_GRACE_MS)));
    await Promise.race([Promise.allSettled([...this.inFlight]), timeout]);
    clearTimeout(timer);
    if (this.inFlight.size) this.o.log('warn', `[${this.o.functionName}] stopped with ${this.inFlight.size} message(s) still in flight`);
  }

  private interruptSleep(): void {
    const s = this.sleeper;
    this.sleeper = undefined;
    if (s) {
      clearTimeout(s.timer);
      s.resolve();
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.sleeper = { timer: setTimeout(() => this.interruptSleep(), ms), resolve };
    });
  }

  private backOff(): Promise<void> {
    this.backoffMs = nextBackoff(this.backoffMs, this.o.config.maxPollingIntervalMs);
    return this.sleep(withJitter(this.backoffMs, this.o.config.maxPollingIntervalMs));
  }

  private async loop(): Promise<void> {
    const { client, config, log, functionName } = this.o;
    while (!this.stopping) {
      if (this.inFlight.size > config.newBatchThreshold) {
        await new Promise<void>((resolve) => (this.slotWaiter = resolve));
        this.slotWaiter = undefined;
        continue;
      }
      this.wakeRequested = false;
      let messages: DequeuedMessageItem[];
      try {
        await this.o.ensure(client);
        const res = await client.receiveMessages({
          numberOfMessages: config.batchSize,
          visibilityTimeout: PROCESSING_VISIBILITY_SECONDS,
          abortSignal: this.abort.signal,
        });
        messages = res.receivedMessageItems;
      } catch (e) {
        if (this.stopping) break;
        log('warn', `[${functionName}] polling queue '${this.o.queueName}' failed (retrying): ${errorText(e)}`);
        await this.backOff();
        continue;
      }
      if (this.stopping) {
        await this.release(messages);
        break;
      }
      if (messages.length === 0) {
        if (!this.wakeRequested) await this.backOff();
        continue;
      }
      this.backoffMs = 0;
      for (const m of messages) this.dispatch(m);
    }
  }

  /** Makes messages received during shutdown visible again (best effort). */
  private async release(messages: DequeuedMessageItem[]): Promise<void> {
    await Promise.allSettled(messages.map((m) => this.o.client.updateMessage(m.messageId, m.popReceipt, undefined, 0)));
  }

  private dispatch(m: DequeuedMessageItem): void {
    const p: Promise<void> = this.process(m)
      .catch((e: unknown) => this.o.log('error', `[${this.o.functionName}] message ${m.messageId}: ${errorText(e)}`))
      .finally(() => {
        this.inFlight.delete(p);
        if (this.inFlight.size <= this.o.config.newBatchThreshold) this.slotWaiter?.();
      });
    this.inFlight.add(p);
  }

  private async process(m: DequeuedMessageItem): Promise<void> {
    const { client, config } = this.o;
    const maxed = `has reached MaxDequeueCount of ${config.maxDequeueCount}`;
    if (m.dequeueCount > config.maxDequeueCount) return this.poison(m, maxed);
    let text: string;
    try {
      text = decodeMessage(m.messageText, config.messageEncoding);
    } catch (e) {
      return this.poison(m, `cannot be decoded (${e instanceof Error ? e.message : String(e)})`);
    }
    const metadata: TriggerMetadata = {
      id: m.messageId,
      dequeueCount: m.dequeueCount,
      insertionTime: m.insertedOn.toISOString(),
      expirationTime: m.expiresOn.toISOString(),
      nextVisibleTime: m.nextVisibleOn.toISOString(),
      popReceipt: m.popReceipt,
      queueTrigger: text,
    };
    try {
      await this.o.invoke(parsePayload(text), metadata);
    } catch {
      // invoke() has logged the failure.
      if (m.dequeueCount >= config.maxDequeueCount) return this.poison(m, maxed);
      await client.updateMessage(m.messageId, m.popReceipt, undefined, Math.ceil(config.visibilityTimeoutMs / 1000));
      return;
    }
    await client.deleteMessage(m.messageId, m.popReceipt);
  }

  /** Copies the message text as stored to `<queue>-poison`, then deletes the original. */
  private async poison(m: DequeuedMessageItem, reason: string): Promise<void> {
    const { poisonClient, client } = this.o;
    this.o.log('warn', `[${this.o.functionName}] message ${m.messageId} ${reason}; moving it to queue '${poisonClient.name}'`);
    await this.o.ensure(poisonClient);
    await poisonClient.sendMessage(m.messageText);
    await client.deleteMessage(m.messageId, m.popReceipt);
  }
}
