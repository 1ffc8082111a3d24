import { z } from 'zod';
import { parse as parseIsoDuration, toSeconds } from 'iso8601-duration';
import { BatchError } from '../errors';

/**
 * Body validation with zod, mapped to the Batch error codes a real client expects:
 * a missing required property → 400 MissingRequiredProperty; a wrong type, an out-of-range value
 * or an unknown enum value → 400 InvalidPropertyValue. The PropertyName detail names the path.
 */
export function validate<T>(schema: z.ZodType<T>, body: unknown): T {
  const r = schema.safeParse(body, { reportInput: true });
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  const path = issue.path.map(String).join('.') || '(body)';
  const input = (issue as { input?: unknown }).input;
  if (issue.code === 'invalid_type' && input === undefined) {
    throw new BatchError('MissingRequiredProperty', 'A property that is required for this request was not specified.', [{ key: 'PropertyName', value: path }]);
  }
  if (issue.path.length === 0) {
    throw new BatchError('InvalidRequestBody', 'The specified Request Body is not syntactically valid.', [{ key: 'Reason', value: issue.message }]);
  }
  throw new BatchError('InvalidPropertyValue', 'The value provided for one of the properties in the request body is invalid.', [
    { key: 'PropertyName', value: path },
    { key: 'PropertyValue', value: input === undefined ? '' : typeof input === 'string' ? input : JSON.stringify(input) ?? '' },
    { key: 'Reason', value: issue.message },
  ]);
}

/** A Batch id: letters, digits, hyphens and underscores, 1–64 characters. */
export const batchId = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'The id may contain any combination of alphanumeric characters including hyphens and underscores, and cannot contain more than 64 characters.');

/** An enum matched case-insensitively, returned in the canonical lower case. */
export function ciEnum<const T extends readonly [string, ...string[]]>(values: T) {
  return z.preprocess((v) => (typeof v === 'string' ? v.toLowerCase() : v), z.enum(values));
}

/** An ISO 8601 duration such as PT15M; within [min, max] seconds when given. */
export function duration(minSeconds = 0, maxSeconds = Number.MAX_SAFE_INTEGER) {
  return z.string().refine((s) => {
    const secs = durationSeconds(s);
    return secs !== undefined && secs >= minSeconds && secs <= maxSeconds;
  }, 'The value is not a valid ISO 8601 duration in the allowed range.');
}

/** ISO 8601 duration shape (P[nY][nM][nW][nD][T[nH][nM][n[.n]S]]), checked before the library parses it. */
const ISO_DURATION = /^P(?!$)(\d+(?:\.\d+)?Y)?(\d+(?:\.\d+)?M)?(\d+(?:\.\d+)?W)?(\d+(?:\.\d+)?D)?(T(?=\d)(\d+(?:\.\d+)?H)?(\d+(?:\.\d+)?M)?(\d+(?:\.\d+)?S)?)?$/;

export function durationSeconds(s: string): number | undefined {
  if (!ISO_DURATION.test(s)) return undefined;
  try {
    const secs = toSeconds(parseIsoDuration(s));
    return Number.isFinite(secs) ? secs : undefined;
  } catch {
    return undefined;
  }
}

export const nameValue = z.object({ name: z.string().min(1), value: z.string() });
export const metadataList = z.array(nameValue).max(1000);
export const int32 = z.number().int().min(-2147483648).max(2147483647);
