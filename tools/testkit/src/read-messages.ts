import { randomUUID } from 'node:crypto';
import type { IHeaders } from 'kafkajs';
import { kafka } from './client.js';

/** One record read back from Kafka. */
export interface ReadMessage {
  partition: number;
  /** Kafka offset, as a decimal string (kafkajs's representation). */
  offset: string;
  /** The payload; a null (tombstone) value reads as an empty buffer with `isNull: true`. */
  value: Buffer;
  isNull: boolean;
  key: Buffer | null;
  headers: IHeaders;
  timestamp: string;
}

export interface ReadMessagesOptions {
  /** Resolve once this many records were read. */
  count: number;
  /** Give up after this long; defaults to 30 s. */
  timeoutMs?: number;
  /** Defaults to the test run's broker. */
  brokers?: string[];
}

const MiB = 1024 * 1024;

/**
 * Reads a topic from the beginning with a fresh consumer group until `count` records arrived;
 * resolves to exactly the first `count` of them, sorted by partition then offset. Rejects after
 * `timeoutMs` saying how many were read. Fetch limits are raised so a 16 MiB record is read too.
 *
 * @example
 * const [first] = await readMessages(topic, { count: 1 });
 * expect(first?.value).toEqual(Buffer.from('hello'));
 */
export async function readMessages(
  topic: string,
  options: ReadMessagesOptions,
): Promise<ReadMessage[]> {
  const { count, timeoutMs = 30_000 } = options;
  const consumer = kafka(options.brokers ? { brokers: options.brokers } : {}).consumer({
    groupId: `kproxy-testkit-read-${randomUUID()}`,
    maxBytesPerPartition: 32 * MiB,
    maxBytes: 64 * MiB,
    allowAutoTopicCreation: false,
    // Short fetch waits: a consumer disconnects only after its fetch in flight returns.
    maxWaitTimeInMs: 250,
  });
  const read: ReadMessage[] = [];
  let timer: NodeJS.Timeout | undefined;
  try {
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      timer = setTimeout(() => {
        reject(
          new Error(
            `readMessages: read ${read.length} of ${count} message(s) from topic ${topic} ` +
              `within ${timeoutMs} ms`,
          ),
        );
      }, timeoutMs);
      consumer.on(consumer.events.CRASH, (event) => reject(event.payload.error));
      if (count <= 0) resolve();
      consumer
        .run({
          autoCommit: false,
          eachMessage: ({ partition, message }) => {
            if (read.length < count) {
              read.push({
                partition,
                offset: message.offset,
                value: message.value ?? Buffer.alloc(0),
                isNull: message.value === null,
                key: message.key,
                headers: message.headers ?? {},
                timestamp: message.timestamp,
              });
              if (read.length === count) resolve();
            }
            return Promise.resolve();
          },
        })
        .catch(reject);
    });
  } finally {
    clearTimeout(timer);
    await consumer.disconnect();
  }
  return read.sort(
    (a, b) => a.partition - b.partition || Number(BigInt(a.offset) - BigInt(b.offset)),
  );
}

/**
 * How many records `topic` holds now: over its partitions, high watermark minus low watermark.
 *
 * @example
 * expect(await messageCount(topic)).toBe(0);
 */
export async function messageCount(
  topic: string,
  options: { brokers?: string[] } = {},
): Promise<number> {
  const admin = kafka(options.brokers ? { brokers: options.brokers } : {}).admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    return offsets.reduce((n, o) => n + Number(o.high) - Number(o.low), 0);
  } finally {
    await admin.disconnect();
  }
}

/** The first `count` messages of `topic` (see `readMessages`), values only. */
export async function readValues(topic: string, count: number): Promise<Buffer[]> {
  const messages = await readMessages(topic, { count });
  return messages.map((m) => m.value);
}

/** Every message of `topic` so far (up to its end offsets when called), values only. */
export async function readAllValues(topic: string): Promise<Buffer[]> {
  return readValues(topic, await messageCount(topic));
}
