/**
 * Date/time handling for `$filter`: the two literal forms Azure Batch documents
 * (W3C-DTF `2011-05-08T08:49:37Z` and RFC 1123 `Sun, 08 May 2011 08:49:37 GMT`) and the canonical
 * form used for comparisons: UTC, 7 fractional digits (100 ns ticks, as .NET's `o` format emits),
 * which orders correctly as a plain string for years 0001–9999.
 */

const TICKS_PER_MS = 10_000;
const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

const W3C =
  /^(\d{4})-(\d{2})-(\d{2})(?:[Tt](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?([Zz]|[+-]\d{2}:?\d{2})?)?$/;
const RFC1123 = /^(?:([A-Za-z]{3}),\s*)?(\d{1,2})\s+([A-Za-z]{3})\s+(\d{4})\s+(\d{2}):(\d{2})(?::(\d{2}))?\s+(GMT|UTC|UT|Z)$/i;

const ISO_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

export type DateParse = { ok: true; value: string } | { ok: false; reason: string };

/** Milliseconds since the epoch for a proleptic-Gregorian UTC wall time, or undefined when a field is out of range. */
function utcMs(y: number, mo: number, d: number, h: number, mi: number, s: number): number | undefined {
  if (y < 1 || y > 9999 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 59) return undefined;
  const dt = new Date(0);
  dt.setUTCFullYear(y, mo - 1, d);
  dt.setUTCHours(h, mi, s, 0);
  if (dt.getUTCFullYear() !== y || dt.getUTCMonth() !== mo - 1 || dt.getUTCDate() !== d) return undefined;
  return dt.getTime();
}

/** Canonical string of an instant given as epoch milliseconds plus 100 ns ticks within the millisecond. */
function canonical(ms: number, subTicks: number): string | undefined {
  const dt = new Date(ms);
  const year = dt.getUTCFullYear();
  if (!Number.isFinite(ms) || year < 1 || year > 9999) return undefined;
  const iso = dt.toISOString(); // YYYY-MM-DDTHH:MM:SS.mmmZ for years 0000-9999
  return `${iso.slice(0, -1)}${String(subTicks).padStart(4, '0')}Z`;
}

function num(s: string | undefined): number {
  return s === undefined ? 0 : Number.parseInt(s, 10);
}

function parseW3C(text: string): DateParse {
  const m = W3C.exec(text);
  if (!m) return { ok: false, reason: `'${text}' is not a valid W3C-DTF or RFC 1123 date/time` };
  const base = utcMs(num(m[1]), num(m[2]), num(m[3]), num(m[4]), num(m[5]), num(m[6]));
  if (base === undefined) return { ok: false, reason: `'${text}' is not a valid date/time (a field is out of range)` };
  const ticks = m[7] === undefined ? 0 : Number.parseInt(m[7].padEnd(7, '0').slice(0, 7), 10);
  let offsetMin = 0;
  const zone = m[8];
  if (zone !== undefined && zone.toUpperCase() !== 'Z') {
    const digits = zone.slice(1).replace(':', '');
    const oh = num(digits.slice(0, 2));
    const om = num(digits.slice(2));
    if (oh > 14 || om > 59) return { ok: false, reason: `'${text}' has an invalid UTC offset` };
    offsetMin = (zone.startsWith('-') ? -1 : 1) * (oh * 60 + om);
  }
  const ms = base + Math.floor(ticks / TICKS_PER_MS) - offsetMin * 60_000;
  const value = canonical(ms, ticks % TICKS_PER_MS);
  return value === undefined ? { ok: false, reason: `'${text}' is outside the supported date range` } : { ok: true, value };
}

function parseRfc1123(text: string): DateParse | undefined {
  const m = RFC1123.exec(text);
  if (!m) return undefined;
  const month = MONTHS.indexOf((m[3] ?? '').toLowerCase()) + 1;
  const ms = month === 0 ? undefined : utcMs(num(m[4]), month, num(m[2]), num(m[5]), num(m[6]), num(m[7]));
  if (ms === undefined) return { ok: false, reason: `'${text}' is not a valid RFC 1123 date/time` };
  if (m[1] !== undefined && WEEKDAYS.indexOf(m[1].toLowerCase()) !== new Date(ms).getUTCDay()) {
    return { ok: false, reason: `'${text}' names the wrong day of the week` };
  }
  const value = canonical(ms, 0);
  return value === undefined ? { ok: false, reason: `'${text}' is outside the supported date range` } : { ok: true, value };
}

/** Parses the text inside `DateTime'…'`. */
export function parseDateTimeText(text: string): DateParse {
  return parseRfc1123(text.trim()) ?? parseW3C(text.trim());
}

/** Canonical form of an entity value (ISO string or Date); undefined when it is not a date/time. */
export function toCanonical(v: unknown): string | undefined {
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? undefined : canonical(v.getTime(), 0);
  if (typeof v !== 'string') return undefined;
  if (ISO_MS.test(v) && !v.startsWith('0000')) {
    // Fast path for Date.prototype.toISOString output (validated by the round trip).
    const t = Date.parse(v);
    if (!Number.isNaN(t) && new Date(t).toISOString() === v) return `${v.slice(0, -1)}0000Z`;
  }
  const r = parseDateTimeText(v);
  return r.ok ? r.value : undefined;
}

/** The millisecond-precision Date of a canonical value (sub-millisecond ticks truncated). */
export function canonicalToDate(c: string): Date {
  return new Date(`${c.slice(0, 23)}Z`);
}

/** True when a canonical value carries ticks below one millisecond. */
export function hasSubMillisecond(c: string): boolean {
  return c.slice(23, 27) !== '0000';
}
