/**
 * Partition-key → partition mapping.
 *
 * Event Hubs hashes the UTF-8 bytes of a partition key with Bob Jenkins' lookup3 `hashlittle2`
 * (both seeds 0), folds the two 32-bit results into a signed 16-bit value and takes it modulo the
 * partition count. `EventHubBufferedProducerClient` mirrors the same function client-side, so using
 * it here means a key lands in the same partition locally, in the buffered producer and in Azure.
 * The mapping is stable across restarts: all events of one pool id stay ordered in one partition.
 */

const rot = (x: number, k: number): number => ((x << k) | (x >>> (32 - k))) >>> 0;

/** lookup3 `hashlittle2` with zero seeds; returns the primary (c) and secondary (b) hashes. */
export function lookup3(data: Buffer): { b: number; c: number } {
  let a = (0xdeadbeef + data.length) >>> 0;
  let b = a;
  let c = a;
  let i = 0;
  let left = data.length;
  while (left > 12) {
    a = (a + data.readUInt32LE(i)) >>> 0;
    b = (b + data.readUInt32LE(i + 4)) >>> 0;
    c = (c + data.readUInt32LE(i + 8)) >>> 0;
    // mix(a, b, c)
    a = ((a - c) ^ rot(c, 4)) >>> 0; c = (c + b) >>> 0;
    b = ((b - a) ^ rot(a, 6)) >>> 0; a = (a + c) >>> 0;
    c = ((c - b) ^ rot(b, 8)) >>> 0; b = (b + a) >>> 0;
    a = ((a - c) ^ rot(c, 16)) >>> 0; c = (c + b) >>> 0;
    b = ((b - a) ^ rot(a, 19)) >>> 0; a = (a + c) >>> 0;
    c = ((c - b) ^ rot(b, 4)) >>> 0; b = (b + a) >>> 0;
    i += 12;
    left -= 12;
  }
  if (left === 0) return { b, c };
  // The 1–12 trailing bytes, zero-padded, read as three little-endian words (same as lookup3's switch).
  const tail = Buffer.alloc(12);
  data.copy(tail, 0, i);
  a = (a + tail.readUInt32LE(0)) >>> 0;
  b = (b + tail.readUInt32LE(4)) >>> 0;
  c = (c + tail.readUInt32LE(8)) >>> 0;
  // final(a, b, c)
  c = ((c ^ b) - rot(b, 14)) >>> 0;
  a = ((a ^ c) - rot(c, 11)) >>> 0;
  b = ((b ^ a) - rot(a, 25)) >>> 0;
  c = ((c ^ b) - rot(b, 16)) >>> 0;
  a = ((a ^ c) - rot(c, 4)) >>> 0;
  b = ((b ^ a) - rot(a, 14)) >>> 0;
  c = ((c ^ b) - rot(b, 24)) >>> 0;
  return { b, c };
}

/** The signed 16-bit hash Event Hubs derives from a partition key. */
export function hashPartitionKey(partitionKey: string): number {
  const { b, c } = lookup3(Buffer.from(partitionKey, 'utf8'));
  return ((c ^ b) << 16) >> 16;
}

/** Index (0-based) of the partition a key maps to. */
export function partitionIndexForKey(partitionKey: string, partitionCount: number): number {
  return Math.abs(hashPartitionKey(partitionKey) % partitionCount);
}
