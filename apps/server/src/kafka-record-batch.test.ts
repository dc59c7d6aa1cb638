// The Kafka client as patched in patches/@platformatic__kafka@2.12.1.patch. Its record batches
// (one buffer per batch, no allocation per record): every field of every record decodes to what
// was sent, with each compression, and the batch's CRC-32C covers what the broker checks. Its
// option checks (compiled on first use): they still refuse what they refused, naming the option.
import { randomBytes } from 'node:crypto';
import {
  createRecordsBatch,
  jsCRC32C,
  ProduceAcks,
  Producer,
  Reader,
  readRecordsBatch,
  type CompressionAlgorithmValue,
  type MessageRecord,
  type ProducerOptions,
} from '@platformatic/kafka';
import { describe, expect, it } from 'vitest';

const DAY = 86_400_000n;
const NOW = BigInt(Date.now());

interface Sent {
  key: Buffer | undefined;
  value: Buffer | undefined;
  headers: Map<Buffer, Buffer | null> | undefined;
  timestamp: bigint;
}

/** Messages covering what a batch can hold: no key, empty and large values, headers, times apart. */
function messages(count: number): Sent[] {
  const out: Sent[] = [];
  for (let i = 0; i < count; i++) {
    const kind = i % 8;
    out.push({
      key: kind === 1 ? Buffer.alloc(0) : kind % 2 === 0 ? randomBytes(1 + (i % 40)) : undefined,
      value: kind === 3 ? undefined : randomBytes(kind === 5 ? 70_000 : (i * 37) % 1500),
      headers:
        kind === 4 || kind === 6
          ? new Map<Buffer, Buffer | null>([
              [Buffer.from('trace'), randomBytes(55)],
              [Buffer.from(`h-${i}`), kind === 6 ? null : Buffer.alloc(0)],
            ])
          : kind === 7
            ? new Map()
            : undefined,
      // Deltas past 2^31 ms from the first timestamp, both ways, as well as small ones.
      timestamp: kind === 2 ? NOW - 40n * DAY : kind === 6 ? NOW + 30n * DAY : NOW + BigInt(i),
    });
  }
  return out;
}

function encode(sent: Sent[], compression: CompressionAlgorithmValue): Buffer {
  const asClientMessages = sent.map((m) => ({ ...m, topic: 't', partition: 0 }));
  const writer = createRecordsBatch(asClientMessages as unknown as MessageRecord[], {
    compression,
    producerId: 4242n,
    producerEpoch: 7,
  });
  return writer.buffer;
}

const bytes = (b: Buffer | null | undefined) => (b == null ? null : b.toString('hex'));

describe("the Kafka client's record batches", () => {
  for (const compression of ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const) {
    it(`decode to every field that was sent (${compression})`, () => {
      for (const count of [1, 9, 500]) {
        const sent = messages(count);
        const buffer = encode(sent, compression);
        const batch = readRecordsBatch(Reader.from(buffer));

        expect(batch.length).toBe(buffer.length - 12);
        expect(batch.crc).toBe(jsCRC32C(buffer.subarray(21)));
        expect(batch.producerId).toBe(4242n);
        expect(batch.producerEpoch).toBe(7);
        expect(batch.lastOffsetDelta).toBe(count - 1);
        const stamps = sent.map((m) => m.timestamp);
        expect(batch.maxTimestamp).toBe(stamps.reduce((a, b) => (b > a ? b : a)));
        expect(batch.records).toHaveLength(count);
        batch.records.forEach((record, i) => {
          const m = sent[i] as Sent;
          expect(record.offsetDelta).toBe(i);
          expect(batch.firstTimestamp + record.timestampDelta).toBe(m.timestamp);
          expect(bytes(record.key)).toBe(bytes(m.key));
          expect(bytes(record.value)).toBe(bytes(m.value));
          expect(record.headers.map(([k, v]) => [bytes(k), bytes(v)])).toEqual(
            [...(m.headers ?? [])].map(([k, v]) => [bytes(k), bytes(v)]),
          );
        });
      }
    });
  }

  it('refer to large values when uncompressed instead of copying them, the rest in one buffer', () => {
    const sent = messages(200);
    const asClientMessages = sent.map((m) => ({ ...m, topic: 't', partition: 0 }));
    const writer = createRecordsBatch(asClientMessages as unknown as MessageRecord[], {});
    const large = sent
      .filter((m) => (m.value?.length ?? 0) >= 16_384)
      .map((m) => m.value as Buffer);
    expect(large.length).toBeGreaterThan(10);
    // The batch's parts: the encoded bytes up to each large value, then the value itself.
    const parts = writer.buffers;
    expect(parts).toHaveLength(2 * large.length + 1);
    large.forEach((value, i) => {
      const part = parts[2 * i + 1] as Buffer;
      expect(part.buffer).toBe(value.buffer);
      expect(part.byteOffset).toBe(value.byteOffset);
      expect(part.length).toBe(value.length);
    });
    for (let i = 0; i < parts.length; i += 2) {
      expect(parts[i]?.buffer).toBe(parts[0]?.buffer);
    }
  });

  it('copy every value into one buffer when compressed', () => {
    const sent = messages(200);
    const asClientMessages = sent.map((m) => ({ ...m, topic: 't', partition: 0 }));
    const writer = createRecordsBatch(asClientMessages as unknown as MessageRecord[], {
      compression: 'lz4',
    });
    expect(writer.buffers).toHaveLength(1);
  });
});

// The patch also compiles the client's option validators on first use instead of at import.
describe("the Kafka client's option checks, compiled on first use", () => {
  const base = { clientId: 'check', bootstrapBrokers: ['127.0.0.1:1'], strict: true };

  it.each([
    [{ acks: 'all' }, '/options/acks must be number'],
    [{ retries: -3 }, '/options/retries must be >= 0'],
    [{ clientId: 5 }, '/options/clientId must be string'],
  ])('still refuse %j, saying which option is wrong', (bad, message) => {
    expect(
      () =>
        new Producer({ ...base, ...bad } as unknown as ProducerOptions<
          Buffer,
          Buffer,
          Buffer,
          Buffer
        >),
    ).toThrow(message);
  });

  it('accept valid options, and the next bad ones are reported on their own', async () => {
    const producer = new Producer({ ...base, acks: ProduceAcks.ALL, retries: 2 });
    await producer.close();
    // `errors` is the last check's: the earlier failure does not leak into this message.
    expect(() => new Producer({ ...base, retries: -1 })).toThrow(
      /^\/options\/retries must be >= 0/,
    );
  });
});
