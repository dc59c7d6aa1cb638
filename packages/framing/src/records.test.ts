import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeFrames } from './encode.js';
import { FramingError } from './errors.js';
import {
  decodeRecord,
  decodeRecords,
  encodeRecord,
  encodeRecords,
  type ProxyRecord,
  RecordDecoder,
  RecordError,
  recordSize,
} from './records.js';

const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);

const headerArb = fc.record({
  name: fc.string({ unit: 'grapheme', maxLength: 8 }),
  value: fc.option(fc.uint8Array({ maxLength: 12 }), { nil: null }),
});
const recordArb: fc.Arbitrary<ProxyRecord> = fc.record({
  key: fc.option(fc.uint8Array({ maxLength: 16 }), { nil: null }),
  value: fc.option(fc.uint8Array({ maxLength: 32 }), { nil: null }),
  headers: fc.array(headerArb, { maxLength: 4 }),
  timestamp: fc.option(fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), { nil: null }),
});

/** A record with its byte strings as plain arrays, for deep equality across views and copies. */
const plain = (r: ProxyRecord) => ({
  key: r.key && Array.from(r.key),
  value: r.value && Array.from(r.value),
  headers: r.headers.map((h) => ({ name: h.name, value: h.value && Array.from(h.value) })),
  timestamp: r.timestamp,
});

function fieldOf(run: () => unknown): string | undefined {
  try {
    run();
    return undefined;
  } catch (error) {
    if (!(error instanceof RecordError)) throw error;
    return error.field;
  }
}

describe('records', () => {
  const record: ProxyRecord = {
    key: utf8('user-1'),
    value: utf8('{"n":1}'),
    headers: [
      { name: 'traceparent', value: utf8('00-abc-01') },
      { name: 'empty', value: null },
    ],
    timestamp: 1_700_000_000_123,
  };

  it('round-trip with keys, headers (a null value among them) and timestamps', () => {
    expect(plain(decodeRecord(encodeRecord(record)))).toEqual(plain(record));
  });

  it('carry a tombstone as a null value and an unset time as a null timestamp', () => {
    const tombstone = { key: utf8('k'), value: null, headers: [], timestamp: null };
    const payload = encodeRecord(tombstone);
    // -1 on the wire for both: timestamp (8 bytes), value length (last 4 bytes).
    expect(Array.from(payload.subarray(0, 8))).toEqual(Array(8).fill(0xff));
    expect(Array.from(payload.subarray(-4))).toEqual([0xff, 0xff, 0xff, 0xff]);
    expect(decodeRecord(payload)).toEqual(tombstone);
  });

  it('decode keys and values as views into the body, not copies', () => {
    const body = encodeRecords([record]);
    const [decoded] = decodeRecords(body);
    expect(decoded?.value?.buffer).toBe(body.buffer);
    expect(decoded?.key?.buffer).toBe(body.buffer);
  });

  it('name the frame, its offset and the field that is wrong', () => {
    const good = encodeRecord(record);
    const bad = good.slice(0, good.length - 1);
    const body = encodeFrames([good, bad]);
    expect(() => decodeRecords(body)).toThrow(RecordError);
    try {
      decodeRecords(body);
    } catch (error) {
      expect(error).toBeInstanceOf(FramingError);
      expect(error).toMatchObject({
        code: 'malformed_record',
        frameIndex: 1,
        offset: 4 + good.length,
        field: 'value',
      });
      expect((error as Error).message).toMatch(/^frame 1 at byte offset \d+ is not a valid record/);
    }
  });

  it.each([
    ['a timestamp below -1', (v: DataView) => v.setBigInt64(0, -2n, true), 'timestamp'],
    ['a key length below -1', (v: DataView) => v.setInt32(8, -2, true), 'key_length'],
    ['a key longer than the frame', (v: DataView) => v.setInt32(8, 1000, true), 'key'],
    ['a negative header count', (v: DataView) => v.setInt32(13, -1, true), 'header_count'],
    ['more headers than fit', (v: DataView) => v.setInt32(13, 1 << 30, true), 'header_count'],
    ['a null header name', (v: DataView) => v.setInt32(17, -1, true), 'header_name_length'],
    ['a header name that is not UTF-8', (v: DataView) => v.setUint8(21, 0xff), 'header_name'],
  ])('refuse %s', (_name, corrupt, field) => {
    // key "k" (1 byte), one header "h" = null value, value "v".
    const payload = encodeRecord({
      key: utf8('k'),
      value: utf8('v'),
      headers: [{ name: 'h', value: null }],
      timestamp: 5,
    });
    corrupt(new DataView(payload.buffer));
    expect(fieldOf(() => decodeRecord(payload))).toBe(field);
  });

  it('refuse bytes after the value', () => {
    const payload = encodeRecord(record);
    const longer = new Uint8Array(payload.length + 1);
    longer.set(payload);
    expect(fieldOf(() => decodeRecord(longer))).toBe('trailing_bytes');
  });

  it('refuse to encode a timestamp that is not whole non-negative milliseconds', () => {
    expect(() => encodeRecord({ ...record, timestamp: -5 })).toThrow(RangeError);
    expect(() => encodeRecord({ ...record, timestamp: 1.5 })).toThrow(RangeError);
  });

  it('keep a leading byte order mark in a header name', () => {
    const withBom = { ...record, headers: [{ name: '\uFEFFname', value: null }] };
    expect(decodeRecord(encodeRecord(withBom)).headers[0]?.name).toBe('\uFEFFname');
  });
});

describe('records, properties', () => {
  it('round-trip whole and split into chunks anywhere', () => {
    fc.assert(
      fc.property(fc.array(recordArb, { maxLength: 6 }), fc.array(fc.nat()), (records, cuts) => {
        const body = encodeRecords(records);
        expect(decodeRecords(body).map(plain)).toEqual(records.map(plain));
        const points = [...new Set(cuts.map((c) => c % (body.length + 1)))].sort((a, b) => a - b);
        const decoder = new RecordDecoder();
        const decoded: ProxyRecord[] = [];
        let start = 0;
        for (const point of [...points, body.length]) {
          decoded.push(...decoder.push(body.subarray(start, point)));
          start = point;
        }
        decoder.end();
        expect(decoded.map(plain)).toEqual(records.map(plain));
      }),
    );
  });

  it('refuse every truncation inside a record', () => {
    fc.assert(
      fc.property(recordArb, (record) => {
        const payload = encodeRecord(record);
        for (let cut = 0; cut < payload.length; cut++) {
          expect(fieldOf(() => decodeRecord(payload.subarray(0, cut)))).toBeDefined();
        }
      }),
    );
  });

  it('never turn random bytes into a record other than what they encode', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (payload) => {
        let record: ProxyRecord;
        try {
          record = decodeRecord(payload);
        } catch (error) {
          expect(error).toBeInstanceOf(RecordError);
          return;
        }
        // Decoded means canonical: encoding the record gives back exactly those bytes.
        expect(Array.from(encodeRecord(record))).toEqual(Array.from(payload));
      }),
      { numRuns: 2000 },
    );
  });

  it('decode random valid-looking records: mutate one byte of a real one', () => {
    fc.assert(
      fc.property(recordArb, fc.nat(), fc.integer({ min: 0, max: 255 }), (record, at, byte) => {
        const payload = encodeRecord(record);
        if (payload.length === 0) return;
        payload[at % payload.length] = byte;
        try {
          const decoded = decodeRecord(payload);
          expect(Array.from(encodeRecord(decoded))).toEqual(Array.from(payload));
        } catch (error) {
          expect(error).toBeInstanceOf(RecordError);
        }
      }),
      { numRuns: 2000 },
    );
  });
});

describe('recordSize', () => {
  it('is the length of the encoded record, for any header name', () => {
    fc.assert(
      fc.property(recordArb, (record) => {
        expect(recordSize(record)).toBe(encodeRecord(record).length);
      }),
    );
    const emoji = {
      key: null,
      value: null,
      headers: [{ name: 'é😀', value: null }],
      timestamp: null,
    };
    expect(recordSize(emoji)).toBe(encodeRecord(emoji).length);
  });
});
