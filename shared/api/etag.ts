/**
 * Batch ETags look like `0x8DB505C3148F213`: .NET ticks in hex. Table storage ETags embed the
 * entity's timestamp (`W/"datetime'2024-01-05T03%3A23%3A18.4262750Z'"`); we derive the Batch
 * ETag from it, so every write gives a new ETag and conditional requests compare derived values.
 */
// .NET DateTime ticks (100 ns since 0001-01-01), as the real service uses: 0x8DC5A5A4889F164.
const EPOCH_DIFF_TICKS = 621355968000000000n;

export function batchEtag(tableEtag: string): string {
  const m = /datetime'([^']+)'/.exec(tableEtag);
  if (m) {
    const text = decodeURIComponent(m[1]!);
    const frac = /\.(\d+)Z$/.exec(text);
    const ms = Date.parse(text);
    if (!Number.isNaN(ms)) {
      const sub = frac ? BigInt((frac[1]! + '0000000').slice(3, 7)) : 0n;
      const ticks = BigInt(Math.floor(ms)) * 10000n + sub + EPOCH_DIFF_TICKS;
      return `0x${ticks.toString(16).toUpperCase()}`;
    }
  }
  let h = 0n;
  for (const c of tableEtag) h = (h * 131n + BigInt(c.charCodeAt(0))) & 0xfffffffffffffffn;
  return `0x${h.toString(16).toUpperCase()}`;
}

/** Compares an If-Match / If-None-Match value (maybe quoted, maybe `*`) with an ETag. */
export function etagMatches(header: string, etag: string): boolean {
  return header.split(',').some((v) => {
    const t = v.trim().replace(/^W\//, '').replace(/^"|"$/g, '');
    return t === '*' || t.toLowerCase() === etag.toLowerCase();
  });
}
