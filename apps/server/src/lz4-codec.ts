import lz4 from 'lz4js';

/** Kafka's LZ4 frames must say their blocks are independent (Java's reader refuses others). */
const FLAG_BLOCK_INDEPENDENCE = 0x20;
/** lz4js writes one block per 4 MiB; a Kafka record batch is far smaller, so one block. */
const MAX_SINGLE_BLOCK_BYTES = 4 * 1024 * 1024;

/**
 * A kafkajs compression codec for LZ4 on the pure-JS lz4js (no native build). lz4js does not set
 * the block-independence flag; with a single block the frame is independent by construction, so
 * the flag is set and the header checksum rewritten. Larger inputs are refused rather than sent
 * as dependent blocks.
 *
 * @example
 * CompressionCodecs[CompressionTypes.LZ4] = createLz4Codec;
 */
export function createLz4Codec() {
  return {
    compress(encoder: { buffer: Buffer }): Promise<Buffer> {
      const input = encoder.buffer;
      if (input.byteLength > MAX_SINGLE_BLOCK_BYTES) {
        return Promise.reject(new Error('LZ4: record batch larger than one 4 MiB block'));
      }
      const frame = Buffer.from(lz4.compress(input));
      // Header: magic (4), FLG (1), BD (1), HC (1) = second byte of xxh32(FLG..BD) (no content size).
      frame[4] = (frame[4] ?? 0) | FLAG_BLOCK_INDEPENDENCE;
      frame[6] = (lz4Checksum(frame.subarray(4, 6)) >> 8) & 0xff;
      return Promise.resolve(frame);
    },
    decompress(buffer: Buffer): Promise<Buffer> {
      return Promise.resolve(Buffer.from(lz4.decompress(buffer)));
    },
  };
}

/** xxHash32 with seed 0, as the LZ4 frame header checksum uses. */
export function lz4Checksum(data: Uint8Array): number {
  const P1 = 2654435761;
  const P2 = 2246822519;
  const P3 = 3266489917;
  const P4 = 668265263;
  const P5 = 374761393;
  let h = (P5 + data.length) >>> 0;
  let i = 0;
  for (; i + 4 <= data.length; i += 4) {
    const word =
      ((data[i] ?? 0) |
        ((data[i + 1] ?? 0) << 8) |
        ((data[i + 2] ?? 0) << 16) |
        ((data[i + 3] ?? 0) << 24)) >>>
      0;
    h = Math.imul(rotl((h + Math.imul(word, P3)) >>> 0, 17), P4) >>> 0;
  }
  for (; i < data.length; i++) {
    h = Math.imul(rotl((h + Math.imul(data[i] ?? 0, P5)) >>> 0, 11), P1) >>> 0;
  }
  h ^= h >>> 15;
  h = Math.imul(h, P2) >>> 0;
  h ^= h >>> 13;
  h = Math.imul(h, P3) >>> 0;
  h ^= h >>> 16;
  return h >>> 0;
}

function rotl(x: number, r: number): number {
  return ((x << r) | (x >>> (32 - r))) >>> 0;
}
