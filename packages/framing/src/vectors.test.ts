import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decodeFrames } from './decode.js';
import { FrameDecoder } from './decoder.js';
import { encodeFrames } from './encode.js';
import { FramingError } from './errors.js';
import {
  decodeRecords,
  encodeRecords,
  type ProxyRecord,
  RecordDecoder,
  RecordError,
} from './records.js';

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

interface RecordVector {
  name: string;
  hex: string;
  records?: {
    key: string | null;
    value: string | null;
    headers: { name: string; value: string | null }[];
    timestamp: number | null;
  }[];
  error?: { code: string; field: string; frameIndex: number; offset: number };
}

const recordVectors = JSON.parse(
  readFileSync(new URL('../test-vectors/records.json', import.meta.url), 'utf8'),
) as RecordVector[];

const orNull = <T, U>(value: T | null, f: (v: T) => U): U | null =>
  value === null ? null : f(value);

function recordOutcome(run: () => ProxyRecord[]): Pick<RecordVector, 'records' | 'error'> {
  try {
    return {
      records: run().map((r) => ({
        key: orNull(r.key, toHex),
        value: orNull(r.value, toHex),
        headers: r.headers.map((h) => ({ name: h.name, value: orNull(h.value, toHex) })),
        timestamp: r.timestamp,
      })),
    };
  } catch (error) {
    if (!(error instanceof RecordError)) throw error;
    const { code, field, frameIndex, offset } = error;
    return { error: { code, field, frameIndex, offset } };
  }
}

describe('record test vectors', () => {
  it('are well-formed', () => {
    expect(recordVectors.length).toBeGreaterThan(20);
    for (const vector of recordVectors) {
      expect((vector.records === undefined) !== (vector.error === undefined)).toBe(true);
    }
    expect(new Set(recordVectors.map((vector) => vector.name)).size).toBe(recordVectors.length);
  });

  describe.each(recordVectors)('$name', (vector) => {
    const body = fromHex(vector.hex);
    const expected = vector.error ? { error: vector.error } : { records: vector.records };

    it('decodes as a whole buffer', () => {
      expect(recordOutcome(() => decodeRecords(body))).toEqual(expected);
    });

    it('decodes fed one byte at a time', () => {
      const decoder = new RecordDecoder();
      expect(
        recordOutcome(() => {
          const records = Array.from(body).flatMap((byte) => decoder.push(Uint8Array.of(byte)));
          decoder.end();
          return records;
        }),
      ).toEqual(expected);
    });

    if (vector.records) {
      const records = vector.records;
      it('encodes back to the same bytes', () => {
        const decoded = records.map((r) => ({
          key: orNull(r.key, fromHex),
          value: orNull(r.value, fromHex),
          headers: r.headers.map((h) => ({ name: h.name, value: orNull(h.value, fromHex) })),
          timestamp: r.timestamp,
        }));
        expect(toHex(encodeRecords(decoded))).toBe(vector.hex);
      });
    }
  });
});
