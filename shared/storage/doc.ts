/**
 * Table properties are limited to 64 KiB; an entity to 1 MiB. A record's JSON document is stored
 * in `doc`, `doc1`, `doc2`… slices of at most 30,000 characters (UTF-16 → ≤ 60 KiB).
 */
const SLICE = 30_000;

export function packDoc(value: unknown): Record<string, string> {
  const json = JSON.stringify(value);
  const out: Record<string, string> = {};
  for (let i = 0, n = 0; i < json.length || n === 0; i += SLICE, n++) {
    out[n === 0 ? 'doc' : `doc${n}`] = json.slice(i, i + SLICE);
  }
  return out;
}

/** Date columns for ISO times (absent or unparsable values are left out: absent = no value). */
export function dateColumns(times: Record<string, string | undefined>): Record<string, Date> {
  const out: Record<string, Date> = {};
  for (const [k, v] of Object.entries(times)) {
    const d = v ? new Date(v) : undefined;
    if (d && !Number.isNaN(d.getTime())) out[k] = d;
  }
  return out;
}

export function unpackDoc<T>(row: Record<string, unknown>): T {
  let json = String(row.doc ?? '');
  for (let n = 1; typeof row[`doc${n}`] === 'string'; n++) json += row[`doc${n}`] as string;
  return JSON.parse(json) as T;
}
