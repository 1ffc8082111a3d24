/**
 * Timestamps for time(string): W3C-DTF and RFC 1123 (the seed's two formats), members of a
 * timestamp, and the printed forms of timestamps and timeintervals. Pure: no clock.
 */
import { MAX_TIMESTAMP_MS, MIN_TIMESTAMP_MS } from './types';

/** Milliseconds since the epoch for a UTC civil time; undefined when a field is out of range. */
export function utcMs(y: number, mo: number, d: number, h = 0, mi = 0, s = 0, ms = 0): number | undefined {
  if (y < 1 || y > 9999 || mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || s > 59) return undefined;
  const dt = new Date(0);
  dt.setUTCFullYear(y, mo - 1, d);
  if (dt.getUTCDate() !== d) return undefined; // e.g. 31 February
  dt.setUTCHours(h, mi, s, 0);
  return dt.getTime() + ms;
}

const W3C = /^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:[Tt](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?([Zz]|[+-]\d{2}:\d{2})?)?)?)?$/;
const RFC1123 =
  /^(?:(Mon|Tue|Wed|Thu|Fri|Sat|Sun),\s*)?(\d{1,2})\s+(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)\s+(\d{4})\s+(\d{2}):(\d{2})(?::(\d{2}))?\s+(GMT|UTC|UT|Z|[ECMP][SD]T|[+-]\d{4})$/i;
const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];
const US_ZONES: Readonly<Record<string, number>> = { EST: -5, EDT: -4, CST: -6, CDT: -5, MST: -7, MDT: -6, PST: -8, PDT: -7 };

function offsetMinutes(zone: string | undefined): number {
  if (zone === undefined || /^(Z|GMT|UTC|UT)$/i.test(zone)) return 0;
  const us = US_ZONES[zone.toUpperCase()];
  if (us !== undefined) return us * 60;
  const digits = zone.replace(':', '');
  const sign = digits.startsWith('-') ? -1 : 1;
  return sign * (Number(digits.slice(1, 3)) * 60 + Number(digits.slice(3, 5)));
}

/**
 * Parses `time("…")` input. W3C-DTF: YYYY, YYYY-MM, YYYY-MM-DD, YYYY-MM-DDThh:mm[:ss[.s…]]TZD
 * (a missing TZD is read as UTC). RFC 1123: `[Day, ]DD Mon YYYY hh:mm[:ss] zone`, where zone is
 * GMT/UT/UTC/Z, ±hhmm or a US zone; a given day name must match the date (as .NET checks).
 * Returns undefined when the text is neither.
 */
export function parseDateTime(text: string): number | undefined {
  const t = text.trim();
  const w = W3C.exec(t);
  if (w) {
    const [, y, mo, d, h, mi, s, frac, zone] = w;
    const ms = frac === undefined ? 0 : Number(`0.${frac}`) * 1000;
    const local = utcMs(Number(y), Number(mo ?? 1), Number(d ?? 1), Number(h ?? 0), Number(mi ?? 0), Number(s ?? 0), ms);
    if (local === undefined || Math.abs(offsetMinutes(zone)) >= 24 * 60) return undefined;
    return inRange(local - offsetMinutes(zone) * 60_000);
  }
  const r = RFC1123.exec(t);
  if (r) {
    const [, day, d, mon, y, h, mi, s, zone] = r;
    const local = utcMs(Number(y), MONTHS.indexOf((mon ?? '').toLowerCase()) + 1, Number(d), Number(h), Number(mi), Number(s ?? 0));
    if (local === undefined) return undefined;
    const utc = local - offsetMinutes(zone) * 60_000;
    if (day !== undefined && DAYS[new Date(local).getUTCDay()] !== day.toLowerCase()) return undefined;
    return inRange(utc);
  }
  return undefined;
}

function inRange(ms: number): number | undefined {
  return ms >= MIN_TIMESTAMP_MS && ms <= MAX_TIMESTAMP_MS ? ms : undefined;
}

/**
 * Members of a timestamp, in UTC. weekday: Monday = 1 as the seed says; Sunday is unstated and
 * we use 0 (.NET DayOfWeek, which the seed's Monday = 1 matches), so Saturday = 6.
 */
export function timestampMember(ms: number, member: string): number | undefined {
  const d = new Date(Math.floor(ms));
  switch (member) {
    case 'year':
      return d.getUTCFullYear();
    case 'month':
      return d.getUTCMonth() + 1;
    case 'day':
      return d.getUTCDate();
    case 'weekday':
      return d.getUTCDay();
    case 'hour':
      return d.getUTCHours();
    case 'minute':
      return d.getUTCMinutes();
    case 'second':
      return d.getUTCSeconds();
    default:
      return undefined;
  }
}

/** `2016-10-13T19:18:47.805Z`, as in the seed's results output. */
export function formatTimestamp(ms: number): string {
  return new Date(Math.floor(ms)).toISOString();
}

/**
 * .NET TimeSpan's constant format `[-][d.]hh:mm:ss[.fffffff]` (e.g. `00:15:00`, `1.00:00:00`).
 * The seed shows no printed timeinterval; this is the natural .NET rendering.
 */
export function formatInterval(ms: number): string {
  const ticks = Math.round(Math.abs(ms) * 10_000);
  const sign = ms < 0 && ticks > 0 ? '-' : '';
  const frac = ticks % 10_000_000;
  const totalSeconds = Math.floor(ticks / 10_000_000);
  const days = Math.floor(totalSeconds / 86_400);
  const rest = totalSeconds % 86_400;
  const two = (n: number): string => String(n).padStart(2, '0');
  const hms = `${two(Math.floor(rest / 3600))}:${two(Math.floor((rest % 3600) / 60))}:${two(rest % 60)}`;
  return `${sign}${days > 0 ? `${days}.` : ''}${hms}${frac > 0 ? `.${String(frac).padStart(7, '0')}` : ''}`;
}
