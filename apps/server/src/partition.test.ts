import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { murmur2, partitionForKey } from './partition.js';

// Written by Kafka's own Java client (test/vectors/Murmur2Vectors.java says how): its murmur2 and
// the partition its producer picks in a 12-partition topic, for fixed and random keys.
const vectors = JSON.parse(
  readFileSync(new URL('../test/vectors/murmur2.json', import.meta.url), 'utf8'),
) as { hex: string; murmur2: number; partitionOf12: number }[];

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

describe('murmur2 partitioning', () => {
  it("matches the values of Kafka's own tests", () => {
    expect(murmur2(utf8('21'))).toBe(-973932308);
    expect(murmur2(utf8('foobar'))).toBe(-790332482);
    expect(murmur2(utf8('a-little-bit-long-string'))).toBe(-985981536);
    expect(murmur2(utf8('a-little-bit-longer-string'))).toBe(-1486304829);
    expect(murmur2(utf8('lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8'))).toBe(-58897971);
    expect(murmur2(utf8('abc'))).toBe(479470107);
  });

  it("picks the partition Kafka's Java producer picks, for every key length mod 4", () => {
    expect(vectors.length).toBeGreaterThan(40);
    expect(new Set(vectors.map((v) => (v.hex.length / 2) % 4)).size).toBe(4);
    for (const v of vectors) {
      const key = Buffer.from(v.hex, 'hex');
      expect({ hex: v.hex, murmur2: murmur2(key) }).toEqual({ hex: v.hex, murmur2: v.murmur2 });
      expect(partitionForKey(key, 12)).toBe(v.partitionOf12);
    }
  });

  it('refuses a partition count that is not a positive integer', () => {
    expect(() => partitionForKey(utf8('k'), 0)).toThrow(RangeError);
  });
});
