// Read-back helpers on top of @kproxy/testkit. testkit's readMessages stops at a count; these read
// a topic to its end, which is what "Kafka holds none of the rejected messages" needs.
import { randomUUID } from 'node:crypto';
import { createTopic as createTestTopic, kafka, kafkaBrokers } from '@kproxy/testkit';

export { messageCount, uniqueTopic } from '@kproxy/testkit';

/** Bootstrap servers of the test run's broker. */
export const brokers = (): string[] => kafkaBrokers();

/** Creates `topic` with `partitions` partitions (on `bootstrap`, default the run's broker). */
export async function createTopic(
  topic: string,
  partitions = 1,
  bootstrap?: string[],
): Promise<string> {
  return createTestTopic(topic, {
    partitions,
    ...(bootstrap === undefined ? {} : { brokers: bootstrap }),
  });
}

const client = (bootstrap?: string[]) =>
  kafka(bootstrap === undefined ? {} : { brokers: bootstrap });

/** One record read back from Kafka. */
export interface Record {
  partition: number;
  offset: bigint;
  /** The value's bytes; empty for a null value too (see {@link Record.tombstone}). */
  value: Buffer;
  /** True when the value is null. */
  tombstone: boolean;
  key: Buffer | null;
  /** Header names and values in record order; a null value stays null. */
  headers: [string, Buffer | null][];
  /** Milliseconds since the epoch, as Kafka stored it. */
  timestamp: number;
}

/**
 * Every record of `topic` up to its current end, partition by partition in offset order. Reads
 * until each partition's high watermark (taken first), so the result is complete, not a sample.
 */
export async function readAll(topic: string, bootstrap?: string[]): Promise<Record[]> {
  const kafkaClient = client(bootstrap);
  const admin = kafkaClient.admin();
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
  const consumer = kafkaClient.consumer({
    groupId: `reader-${randomUUID()}`,
    maxWaitTimeInMs: 100,
  });
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
                  tombstone: m.value === null,
                  key: m.key ?? null,
                  headers: Object.entries(m.headers ?? {}).flatMap(([name, value]) =>
                    (Array.isArray(value) ? value : [value]).map((v): [string, Buffer | null] => [
                      name,
                      v === undefined || v === null ? null : Buffer.from(v),
                    ]),
                  ),
                  timestamp: Number(m.timestamp),
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
