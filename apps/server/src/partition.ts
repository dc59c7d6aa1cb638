/**
 * Kafka's default partitioning of keyed records, bit for bit as its Java producer computes it
 * (`Utils.murmur2` of the key's bytes, made positive, modulo the partition count), so the proxy
 * puts a key in the same partition as every Java producer and librdkafka's `murmur2_random`.
 */

const SEED = 0x9747b28c;
const M = 0x5bd1e995;

/**
 * The 32-bit MurmurHash2 of `bytes` with Kafka's seed, as a signed integer (Java's `int`).
 *
 * @example
 * murmur2(new TextEncoder().encode('21')); // -973932308
 */
export function murmur2(bytes: Uint8Array): number {
  const length = bytes.length;
  let h = (SEED ^ length) | 0;
  const whole = length - (length % 4);
  for (let i = 0; i < whole; i += 4) {
    let k =
      (bytes[i] as number) |
      ((bytes[i + 1] as number) << 8) |
      ((bytes[i + 2] as number) << 16) |
      ((bytes[i + 3] as number) << 24);
    k = Math.imul(k, M);
    k ^= k >>> 24;
    k = Math.imul(k, M);
    h = Math.imul(h, M) ^ k;
  }
  const tail = length - whole;
  if (tail === 3) h ^= (bytes[whole + 2] as number) << 16;
  if (tail >= 2) h ^= (bytes[whole + 1] as number) << 8;
  if (tail >= 1) h = Math.imul(h ^ (bytes[whole] as number), M);
  h ^= h >>> 13;
  h = Math.imul(h, M);
  h ^= h >>> 15;
  return h | 0;
}

/**
 * The partition Kafka's Java producer picks for a record with key `key` in a topic of
 * `partitions` partitions: `toPositive(murmur2(key)) % partitions`.
 *
 * @example
 * partitionForKey(new TextEncoder().encode('user-1'), 12);
 */
export function partitionForKey(key: Uint8Array, partitions: number): number {
  if (!Number.isInteger(partitions) || partitions < 1) {
    throw new RangeError(`a topic has at least one partition, not ${partitions}`);
  }
  return (murmur2(key) & 0x7fffffff) % partitions;
}
