import lz4 from 'lz4js';
import { describe, expect, it } from 'vitest';
import { createLz4Codec, lz4Checksum } from './lz4-codec.js';

describe('LZ4 codec', () => {
  it('computes the frame header checksum lz4js computes', () => {
    const frame = lz4.compress(Buffer.from('hello hello hello hello'));
    expect((lz4Checksum(frame.subarray(4, 6)) >> 8) & 0xff).toBe(frame[6]);
  });

  it('marks frames block-independent and round-trips', async () => {
    const codec = createLz4Codec();
    const input = Buffer.from('kafka '.repeat(1000));
    const frame = await codec.compress({ buffer: input });
    expect((frame[4] ?? 0) & 0x20).toBe(0x20);
    expect((lz4Checksum(frame.subarray(4, 6)) >> 8) & 0xff).toBe(frame[6]);
    expect(await codec.decompress(frame)).toEqual(input);
  });
});
