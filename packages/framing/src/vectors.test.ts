import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decodeFrames } from './decode.js';
import { FrameDecoder } from './decoder.js';
import { encodeFrames } from './encode.js';
import { FramingError } from './errors.js';

// The vectors are shared with implementations in other languages, so they are read as plain
// JSON and checked for shape here rather than trusted.
interface Vector {
  name: string;
  hex: string;
  maxMessageBytes?: number;
  messages?: string[];
  error?: { code: string; frameIndex: number; offset: number };
}

const vectors = JSON.parse(
  readFileSync(new URL('../test-vectors/frames.json', import.meta.url), 'utf8'),
) as Vector[];

function fromHex(hex: string): Uint8Array {
  if (!/^(?:[0-9a-f]{2})*$/.test(hex)) throw new Error(`not lowercase hex: ${hex}`);
  const bytes = new Uint8Array(hex.length / 2);
  for (let i = 0; i < bytes.length; i += 1) bytes[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return bytes;
}

function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join('');
}

function outcome(run: () => Uint8Array[]): Pick<Vector, 'messages' | 'error'> {
  try {
    return { messages: run().map(toHex) };
  } catch (error) {
    if (!(error instanceof FramingError)) throw error;
    return { error: { code: error.code, frameIndex: error.frameIndex, offset: error.offset } };
  }
}

function byteByByte(body: Uint8Array, options: { maxMessageBytes?: number }): Uint8Array[] {
  const decoder = new FrameDecoder(options);
  const messages = Array.from(body).flatMap((byte) => decoder.push(Uint8Array.of(byte)));
  decoder.end();
  return messages;
}

describe('test vectors', () => {
  it('are well-formed', () => {
    expect(vectors.length).toBeGreaterThan(20);
    for (const vector of vectors) {
      expect(typeof vector.name).toBe('string');
      expect((vector.messages === undefined) !== (vector.error === undefined)).toBe(true);
    }
    expect(new Set(vectors.map((vector) => vector.name)).size).toBe(vectors.length);
  });

  describe.each(vectors)('$name', (vector) => {
    const body = fromHex(vector.hex);
    const options =
      vector.maxMessageBytes === undefined ? {} : { maxMessageBytes: vector.maxMessageBytes };
    const expected = vector.error ? { error: vector.error } : { messages: vector.messages };

    it('decodes as a whole buffer', () => {
      expect(outcome(() => decodeFrames(body, options))).toEqual(expected);
    });

    it('decodes fed one byte at a time', () => {
      expect(outcome(() => byteByByte(body, options))).toEqual(expected);
    });

    if (vector.messages) {
      const messages = vector.messages;
      it('encodes back to the same bytes', () => {
        expect(toHex(encodeFrames(messages.map(fromHex)))).toBe(vector.hex);
      });
    }
  });
});
