// The server's Kafka producer against the real broker, under the concurrency the flusher puts on
// it: many sends in flight at once, idempotent. Every acknowledged message must be in Kafka
// exactly once, at the offset the send reported, and each partition must hold a sender's batches
// in the order it sent them. (A Kafka client that resolves concurrent idempotent sends it never
// wrote would fail here: the kind of loss seen with @platformatic/kafka 1.x, issue #326.)
// And large values, which an uncompressed batch refers to instead of copying, come back byte
// for byte.
import { randomBytes } from 'node:crypto';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { createKafkaProducer } from '../src/kafka-producer.js';
import type { ProduceBatch } from '../src/producer.js';
import { registerReadCodecs } from './codecs.js';
import { brokers, createTopic, readAll, uniqueTopic } from './kafka.js';

registerReadCodecs();

const PARTITIONS = 4;

const newProducer = (clientId: string, compression: 'none' | 'lz4' = 'none') =>
  createKafkaProducer({
    kafka: {
      brokers: brokers(),
      clientId,
      compression,
      sasl: undefined,
      tls: false,
      tlsCa: undefined,
    },
    logger: pino({ level: 'silent' }),
    requestTimeoutMs: 10_000,
  });
const SENDERS = 24;
const SENDS_PER_SENDER = 25;
const MESSAGES_PER_BATCH = 20;

describe('the Kafka producer (real broker)', () => {
  it('writes every message of concurrent idempotent sends exactly once, where it said, in order', async () => {
    const topic = await createTopic(uniqueTopic('producer-concurrency'), PARTITIONS);
    const producer = newProducer('producer-concurrency-test');
    await producer.connect();
    expect(producer.isReady()).toBe(true);
    const acknowledged = new Map<string, { partition: number; offset: bigint }>();
    try {
      await Promise.all(
        Array.from({ length: SENDERS }, async (_, sender) => {
          for (let send = 0; send < SENDS_PER_SENDER; send++) {
            // Two batches per send, to two partitions, so a send spans partitions as the
            // flusher's do.
            const batches: ProduceBatch[] = [0, 1].map((half) => ({
              topic,
              partition: (sender + send + half) % PARTITIONS,
              messages: Array.from({ length: MESSAGES_PER_BATCH }, (_, i) =>
                Buffer.from(`${sender}/${send}/${half}/${i}`),
              ),
            }));
            const outcomes = await producer.send(batches);
            outcomes.forEach((outcome, b) => {
              if (!('result' in outcome)) throw outcome.error;
              const batch = batches[b];
              if (batch === undefined) throw new Error('no batch');
              batch.messages.forEach((m, i) => {
                acknowledged.set(Buffer.from(m as Uint8Array).toString(), {
                  partition: outcome.result.partition,
                  offset: BigInt(outcome.result.baseOffset) + BigInt(i),
                });
              });
            });
          }
        }),
      );
    } finally {
      await producer.disconnect();
    }

    const total = SENDERS * SENDS_PER_SENDER * 2 * MESSAGES_PER_BATCH;
    expect(acknowledged.size).toBe(total);
    const records = await readAll(topic);
    expect(records).toHaveLength(total);
    const seen = new Set<string>();
    /** Per partition and sender: the last (send, half) read, which must only grow. */
    const lastOf = new Map<string, number>();
    for (const record of records) {
      const value = record.value.toString();
      expect(seen.has(value), `${value} read twice`).toBe(false);
      seen.add(value);
      expect(acknowledged.get(value), value).toEqual({
        partition: record.partition,
        offset: record.offset,
      });
      const [sender, send, half] = value.split('/').map(Number);
      const key = `${record.partition}/${sender}`;
      const position = (send ?? 0) * 2 + (half ?? 0);
      expect(position).toBeGreaterThanOrEqual(lastOf.get(key) ?? -1);
      lastOf.set(key, position);
    }
  }, 120_000);

  // An uncompressed batch refers to values of 16 KiB and more instead of copying them (the
  // patched client): the broker checks the batch's CRC, and every byte must come back.
  it.each(['none', 'lz4'] as const)(
    'writes large values among small ones byte for byte (%s)',
    async (compression) => {
      const topic = await createTopic(uniqueTopic(`producer-large-${compression}`), 1);
      const producer = newProducer('producer-large-test', compression);
      await producer.connect();
      const sizes = [10, 16_383, 16_384, 70_000, 3, 1_000_000, 0, 65_536, 200];
      const messages = sizes.map((size) => randomBytes(size));
      try {
        const outcomes = await producer.send([{ topic, partition: 0, messages }]);
        expect(outcomes.map((o) => ('result' in o ? o.result.baseOffset : o.error))).toEqual(['0']);
      } finally {
        await producer.disconnect();
      }
      const records = await readAll(topic);
      expect(records.map((r) => r.value.toString('hex'))).toEqual(
        messages.map((m) => m.toString('hex')),
      );
    },
    60_000,
  );
});
