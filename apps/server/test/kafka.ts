// Kafka read-back helpers for the integration tests. They use the broker in KAFKA_BROKERS (set by
// the test harness's global setup, or by hand).
import { randomUUID } from 'node:crypto';
import kafkajs from 'kafkajs';

const { Kafka, logLevel } = kafkajs;

/** Bootstrap servers of the broker under test. */
export function brokers(): string[] {
  const value = process.env.KAFKA_BROKERS;
  if (value === undefined || value === '')
    throw new Error('KAFKA_BROKERS is not set: start a broker (scripts/kafka.sh up) first');
  return value.split(',');
}

/** A topic name no other test uses. */
export function uniqueTopic(prefix = 'proxy-test'): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

function client(bootstrap = brokers()) {
  return new Kafka({ clientId: 'proxy-tests', brokers: bootstrap, logLevel: logLevel.NOTHING });
}

/** Creates `topic` with `partitions` partitions and waits until it is usable. */
export async function createTopic(
  topic: string,
  partitions = 1,
  bootstrap = brokers(),
): Promise<void> {
  const admin = client(bootstrap).admin();
  await admin.connect();
  try {
    await admin.createTopics({
      topics: [{ topic, numPartitions: partitions, replicationFactor: 1 }],
      waitForLeaders: true,
    });
  } finally {
    await admin.disconnect();
  }
}

/** How many records `topic` holds (sum of its partitions' high watermarks; nothing is deleted). */
export async function messageCount(topic: string, bootstrap = brokers()): Promise<number> {
  const admin = client(bootstrap).admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    return offsets.reduce((n, o) => n + Number(o.high), 0);
  } finally {
    await admin.disconnect();
  }
}

/** One record read back from Kafka. */
export interface Record {
  partition: number;
  offset: bigint;
  value: Buffer;
}

/**
 * Every record of `topic` up to its current end, partition by partition in offset order. Reads
 * until each partition's high watermark (taken first), so the result is complete, not a sample.
 */
export async function readAll(topic: string, bootstrap = brokers()): Promise<Record[]> {
  const kafka = client(bootstrap);
  const admin = kafka.admin();
  await admin.connect();
  const ends = new Map<number, bigint>();
  try {
    for (const { partition, high } of await admin.fetchTopicOffsets(topic))
      ends.set(partition, BigInt(high));
  } finally {
    await admin.disconnect();
  }
  const records: Record[] = [];
  const pending = new Set([...ends].filter(([, high]) => high > 0n).map(([p]) => p));
  if (pending.size === 0) return records;
  const consumer = kafka.consumer({ groupId: `reader-${randomUUID()}`, maxWaitTimeInMs: 100 });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out reading ${topic}`)), 60_000);
      consumer
        .run({
          eachBatch: async ({ batch }) => {
            for (const m of batch.messages) {
              const offset = BigInt(m.offset);
              const end = ends.get(batch.partition) ?? 0n;
              if (offset < end)
                records.push({
                  partition: batch.partition,
                  offset,
                  value: m.value ?? Buffer.alloc(0),
                });
              if (offset >= end - 1n) pending.delete(batch.partition);
            }
            if (pending.size === 0) {
              clearTimeout(timer);
              resolve();
            }
            await Promise.resolve();
          },
        })
        .catch(reject);
    });
  } finally {
    await consumer.disconnect();
  }
  return records.sort(
    (a, b) => a.partition - b.partition || (a.offset < b.offset ? -1 : a.offset > b.offset ? 1 : 0),
  );
}

/** The values of `records` as text. */
export const texts = (records: readonly Record[]): string[] =>
  records.map((r) => r.value.toString());
