/**
 * host.json for the local host: validates (with zod) only the parts the local host uses —
 * `extensions.http.routePrefix` and `extensions.queues` — and fills in the real Functions host's
 * defaults. Also parses .NET TimeSpan strings ("hh:mm:ss", "d.hh:mm:ss.fff"), which host.json uses
 * for durations and timer triggers accept as interval schedules.
 */
import { z } from 'zod';

/** Effective `extensions.queues` settings (durations in milliseconds). */
export interface QueuesConfig {
  /** Messages fetched per receive (1–32). Default 16. */
  batchSize: number;
  /** Fetch the next batch when at most this many messages are in flight. Default batchSize/2 (floored). */
  newBatchThreshold: number;
  /** Upper bound of the idle polling back-off. Default 1 min. */
  maxPollingIntervalMs: number;
  /** Visibility delay for a failed message before it is retried. Default 0. */
  visibilityTimeoutMs: number;
  /** Deliveries before a failing message is moved to `<queue>-poison`. Default 5. */
  maxDequeueCount: number;
  /** How message text is encoded on the queue. Default base64. */
  messageEncoding: 'base64' | 'none';
}

/** The parts of host.json the local host honours. */
export interface HostConfig {
  /** `extensions.http.routePrefix` without surrounding slashes. Default "api". */
  routePrefix: string;
  queues: QueuesConfig;
}

const TIMESPAN = /^(?:(\d+)\.)?(\d{1,2}):(\d{1,2})(?::(\d{1,2})(?:\.(\d{1,7}))?)?$/;

/**
 * Parses a .NET TimeSpan in constant format (`[d.]hh:mm[:ss[.fffffff]]`, or a bare number of days)
 * into milliseconds. Returns undefined when the text is not a TimeSpan.
 */
export function parseTimeSpan(text: string): number | undefined {
  const s = text.trim();
  if (/^\d+$/.test(s)) return Number(s) * 86_400_000;
  const m = TIMESPAN.exec(s);
  if (!m) return undefined;
  const [, d, h, min, sec, frac] = m;
  if (Number(h) > 23 || Number(min) > 59 || Number(sec ?? 0) > 59) return undefined;
  const fracMs = frac ? Number(`0.${frac}`) * 1000 : 0;
  return ((Number(d ?? 0) * 24 + Number(h)) * 60 + Number(min)) * 60_000 + Number(sec ?? 0) * 1000 + Math.round(fracMs);
}

/** A duration: a TimeSpan string, or a number of milliseconds (host.json v1 style). */
const duration = z.unknown().transform((v, ctx) => {
  if (typeof v === 'number' && Number.isFinite(v) && v >= 0) return v;
  const ms = typeof v === 'string' ? parseTimeSpan(v) : undefined;
  if (ms === undefined) {
    ctx.addIssue({ code: 'custom', message: `expected a TimeSpan ("hh:mm:ss") or milliseconds, got ${JSON.stringify(v)}` });
    return z.NEVER;
  }
  return ms;
});

const queuesSchema = z.looseObject({
  batchSize: z.number().int().min(1).max(32).optional(),
  newBatchThreshold: z.number().int().min(0).optional(),
  maxPollingInterval: duration.optional(),
  visibilityTimeout: duration.optional(),
  maxDequeueCount: z.number().int().min(1).optional(),
  messageEncoding: z
    .string()
    .transform((s) => s.toLowerCase())
    .pipe(z.enum(['base64', 'none']))
    .optional(),
});

const hostJsonSchema = z.looseObject({
  extensions: z
    .looseObject({
      http: z.looseObject({ routePrefix: z.string().optional() }).optional(),
      queues: queuesSchema.optional(),
    })
    .optional(),
});

/** Validates host.json (undefined/null mean `{}`) and applies the real host's defaults. Throws on invalid values. */
export function parseHostJson(hostJson: unknown): HostConfig {
  const parsed = hostJsonSchema.safeParse(hostJson ?? {});
  if (!parsed.success) throw new Error(`invalid host.json:\n${z.prettifyError(parsed.error)}`);
  const ext = parsed.data.extensions;
  const q = ext?.queues ?? {};
  const batchSize = q.batchSize ?? 16;
  return {
    routePrefix: (ext?.http?.routePrefix ?? 'api').replace(/^\/+|\/+$/g, ''),
    queues: {
      batchSize,
      newBatchThreshold: q.newBatchThreshold ?? Math.floor(batchSize / 2),
      maxPollingIntervalMs: Math.max(q.maxPollingInterval ?? 60_000, 100),
      visibilityTimeoutMs: q.visibilityTimeout ?? 0,
      maxDequeueCount: q.maxDequeueCount ?? 5,
      messageEncoding: q.messageEncoding ?? 'base64',
    },
  };
}
