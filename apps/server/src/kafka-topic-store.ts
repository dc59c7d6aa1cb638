import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import kafkajs from 'kafkajs';
import type { Admin, Consumer, Kafka, Producer as KafkaProducer } from 'kafkajs';
import { ProxyError } from './errors.js';
import { assertTopicName, isValidTopicName } from './topic-name.js';
import type { TopicStore } from './topic-store.js';

const { Partitioners } = kafkajs;

/** The compacted topic that holds the default topic when no other name is configured. */
export const DEFAULT_STORE_TOPIC = '_kafka_proxy_topic';

/** Every record is written under this key, so compaction keeps exactly the latest value. */
export const RECORD_KEY = 'default-topic';

/** Header naming the replica that wrote a record (for operators reading the topic by hand). */
const REPLICA_HEADER = 'kafka-proxy-replica';

/** The pino-compatible subset the store logs through. */
export interface StoreLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** Somewhere to mirror the followed value, e.g. the file store: the seed of the next start. */
export interface TopicCache {
  set(topic: string): Promise<void>;
}

/**
 * Which value a starting replica must write, given the latest value in the log (`undefined` when
 * the log holds none). An empty log is seeded with this replica's own start-up topic (the cache
 * file's, else the configured one); a forced topic is written unless the log already says so.
 * `undefined` means write nothing.
 */
export function seedValue(
  latest: string | undefined,
  seed: string,
  force: boolean,
): string | undefined {
  if (latest === undefined) return seed;
  if (force && latest !== seed) return seed;
  return undefined;
}

interface Waiter {
  end: bigint;
  resolve: () => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

/**
 * The part of the log this replica has applied: the latest value and the offset after the last
 * record read. Records at or below an applied offset are ignored, so a consumer that rejoins and
 * replays the log from the beginning never moves the value back to an older one.
 */
export class FollowedLog {
  #value: string | undefined;
  #end = 0n;
  #waiters: Waiter[] = [];

  /** The latest value applied, or `undefined` before any. */
  get value(): string | undefined {
    return this.#value;
  }

  /** Every record below this offset has been applied. */
  get end(): bigint {
    return this.#end;
  }

  /**
   * Applies the record read at `offset`; `value` is `undefined` for a record that carries no
   * usable topic (it still counts as read). Returns true when the value changed.
   */
  apply(offset: bigint, value: string | undefined): boolean {
    if (offset < this.#end) return false;
    this.#end = offset + 1n;
    const changed = value !== undefined && value !== this.#value;
    if (value !== undefined) this.#value = value;
    this.#settle();
    return changed;
  }

  /** Resolves once every record below `end` has been applied; rejects after `timeoutMs`. */
  waitUntil(end: bigint, timeoutMs: number, onTimeout: () => Error): Promise<void> {
    if (end <= this.#end) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        end,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.#waiters = this.#waiters.filter((w) => w !== waiter);
          reject(onTimeout());
        }, timeoutMs),
      };
      this.#waiters.push(waiter);
    });
  }

  /** Rejects every pending wait (the store is closing). */
  failAll(err: Error): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) {
      clearTimeout(w.timer);
      w.reject(err);
    }
  }

  #settle(): void {
    const done = this.#waiters.filter((w) => w.end <= this.#end);
    if (done.length === 0) return;
    this.#waiters = this.#waiters.filter((w) => w.end > this.#end);
    for (const w of done) {
      clearTimeout(w.timer);
      w.resolve();
    }
  }
}

export interface KafkaTopicStoreOptions {
  /** A configured kafkajs client (brokers, SASL, TLS, client id and log bridge already set). */
  kafka: Kafka;
  logger: StoreLogger;
  /**
   * This replica's own start-up topic: the cache file's if it exists, else the configured one.
   * Written when the log is empty (the first replica seeds the shared value).
   */
  seedTopic: string;
  /** `KAFKA_PROXY_FORCE_TOPIC`: the configured topic (given as `seedTopic`) wins over the log. */
  force?: boolean;
  /** The compacted topic holding the value (default {@link DEFAULT_STORE_TOPIC}). */
  storeTopic?: string;
  /** Mirrors every value this replica applies, e.g. the file store, so a restart seeds from it. */
  cache?: TopicCache;
  /** How long `set()` waits for Kafka to take the change and for this replica to read it back. */
  setTimeoutMs?: number;
  /** How long `start()` waits to create the topic, join, and read the log to its end. */
  startTimeoutMs?: number;
  /** How long an idle follower's fetch waits at the broker; bounds idle polling, not latency. */
  maxWaitTimeInMs?: number;
  /** Names this process in the consumer group id and in a header of the records it writes. */
  replicaId?: string;
}

/**
 * The default topic shared by every replica through a compacted, single-partition Kafka topic.
 *
 * Each replica follows the topic from the beginning with a consumer group of its own (kafkajs
 * has no manual partition assignment, so a group id unique to the process stands in for one; it
 * never commits offsets, so the broker drops the group when the replica leaves). A change is
 * produced with `acks=all` by an idempotent producer under one fixed key; `set()` resolves once
 * this replica has read its own record back, so the replica that answered already uses the new
 * value while the others pick it up from their fetch a few milliseconds later. The last record in
 * the log wins, on every replica.
 *
 * @example
 * const store = new KafkaTopicStore({ kafka, logger, seedTopic: fileStore.current(), cache: fileStore });
 * await store.start();
 * await store.set('events'); // durable in Kafka, visible here
 * store.current(); // 'events'
 */
export class KafkaTopicStore implements TopicStore {
  readonly storeTopic: string;
  readonly replicaId: string;
  readonly #kafka: Kafka;
  readonly #logger: StoreLogger;
  readonly #seedTopic: string;
  readonly #force: boolean;
  readonly #cache: TopicCache | undefined;
  readonly #setTimeoutMs: number;
  readonly #startTimeoutMs: number;
  readonly #maxWaitTimeInMs: number;
  readonly #log = new FollowedLog();
  #cacheWrite: Promise<void> = Promise.resolve();
  #admin: Admin | undefined;
  #producer: KafkaProducer | undefined;
  #consumer: Consumer | undefined;
  #state: 'new' | 'starting' | 'started' | 'closed' = 'new';

  constructor(options: KafkaTopicStoreOptions) {
    assertTopicName(options.seedTopic);
    this.#kafka = options.kafka;
    this.#logger = options.logger;
    this.#seedTopic = options.seedTopic;
    this.#force = options.force ?? false;
    this.#cache = options.cache;
    this.storeTopic = options.storeTopic ?? DEFAULT_STORE_TOPIC;
    this.#setTimeoutMs = options.setTimeoutMs ?? 10_000;
    this.#startTimeoutMs = options.startTimeoutMs ?? 60_000;
    this.#maxWaitTimeInMs = options.maxWaitTimeInMs ?? 500;
    this.replicaId =
      options.replicaId ?? `${hostname()}-${process.pid}-${randomUUID().slice(0, 8)}`;
  }

  async start(): Promise<void> {
    if (this.#state !== 'new')
      throw new ProxyError('internal', 'the topic store was started before');
    this.#state = 'starting';
    try {
      await withTimeout(this.#connect(), this.#startTimeoutMs, 'connecting to Kafka');
      const end = await withTimeout(this.#endOffset(), this.#startTimeoutMs, 'reading offsets');
      await this.#log.waitUntil(end, this.#startTimeoutMs, () =>
        unavailable(`reading ${this.storeTopic} to offset ${end} timed out`),
      );
      const latest = this.#log.value;
      const seed = seedValue(latest, this.#seedTopic, this.#force);
      if (seed !== undefined) {
        this.#logger.info(
          { storeTopic: this.storeTopic, latest, topic: seed, force: this.#force },
          latest === undefined ? 'seeding the shared default topic' : 'forcing the default topic',
        );
        await this.#write(seed, this.#startTimeoutMs);
      }
      await this.#cacheWrite;
      this.#state = 'started';
      this.#logger.info(
        { storeTopic: this.storeTopic, topic: this.current(), replicaId: this.replicaId },
        'following the shared default topic',
      );
    } catch (err) {
      await this.#disconnect();
      this.#state = 'closed';
      throw err instanceof ProxyError
        ? err
        : unavailable(`cannot start the Kafka topic store: ${message(err)}`, err);
    }
  }

  current(): string {
    const value = this.#log.value;
    if (value === undefined) throw new ProxyError('internal', 'the topic store is not started');
    return value;
  }

  async set(topic: string): Promise<void> {
    assertTopicName(topic);
    if (this.#state === 'closed') throw closing();
    if (this.#state !== 'started')
      throw new ProxyError('internal', 'the topic store is not started');
    await this.#write(topic, this.#setTimeoutMs);
    await this.#cacheWrite;
  }

  async close(): Promise<void> {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    this.#log.failAll(closing());
    await this.#disconnect();
    await this.#cacheWrite;
  }

  async #connect(): Promise<void> {
    const admin = this.#kafka.admin();
    this.#admin = admin;
    await admin.connect();
    await this.#ensureTopic(admin);

    const producer = this.#kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    this.#producer = producer;

    const consumer = this.#kafka.consumer({
      groupId: `kafka-proxy.topic-store.${this.replicaId}`,
      allowAutoTopicCreation: false,
      minBytes: 1,
      maxWaitTimeInMs: this.#maxWaitTimeInMs,
      retry: { restartOnFailure: () => Promise.resolve(true) },
    });
    this.#consumer = consumer;
    consumer.on(consumer.events.CRASH, (event) => {
      this.#logger.error(
        { err: event.payload.error, restart: event.payload.restart },
        'the default-topic follower crashed',
      );
    });

    await Promise.all([producer.connect(), consumer.connect()]);
    await consumer.subscribe({ topic: this.storeTopic, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachMessage: ({ message: record }) => {
        this.#onRecord(BigInt(record.offset), record.value);
        return Promise.resolve();
      },
    });
  }

  async #ensureTopic(admin: Admin): Promise<void> {
    const topics = await admin.listTopics();
    if (topics.includes(this.storeTopic)) return;
    const { brokers } = await admin.describeCluster();
    const replicationFactor = Math.min(3, brokers.length);
    try {
      const created = await admin.createTopics({
        waitForLeaders: true,
        topics: [
          {
            topic: this.storeTopic,
            numPartitions: 1,
            replicationFactor,
            configEntries: [
              { name: 'cleanup.policy', value: 'compact' },
              { name: 'min.insync.replicas', value: replicationFactor >= 3 ? '2' : '1' },
            ],
          },
        ],
      });
      if (created) {
        this.#logger.info({ storeTopic: this.storeTopic, replicationFactor }, 'created topic');
      }
    } catch (err) {
      // Another replica created it between our listing and our request.
      if (!(err instanceof Error) || !/already exists/i.test(message(err))) throw err;
    }
  }

  async #endOffset(): Promise<bigint> {
    const admin = this.#admin;
    if (admin === undefined) throw closing();
    const offsets = await admin.fetchTopicOffsets(this.storeTopic);
    const partition0 = offsets.find((o) => o.partition === 0);
    return BigInt(partition0?.high ?? '0');
  }

  #onRecord(offset: bigint, value: Buffer | null): void {
    if (offset < this.#log.end) return; // a replay after the follower rejoined
    const topic = value === null ? undefined : value.toString('utf8');
    const usable = topic !== undefined && isValidTopicName(topic) ? topic : undefined;
    if (usable === undefined) {
      this.#logger.warn({ storeTopic: this.storeTopic, offset: String(offset) }, 'ignored record');
    }
    const previous = this.#log.value;
    if (!this.#log.apply(offset, usable) || usable === undefined) return;
    this.#logger.info({ topic: usable, previous, offset: String(offset) }, 'default topic changed');
    const cache = this.#cache;
    if (cache !== undefined) {
      this.#cacheWrite = this.#cacheWrite
        .then(() => cache.set(usable))
        .catch((err: unknown) => {
          this.#logger.warn({ err, topic: usable }, 'cannot update the topic cache file');
        });
    }
  }

  async #write(topic: string, timeoutMs: number): Promise<void> {
    const producer = this.#producer;
    if (producer === undefined) throw closing();
    let offset: bigint;
    try {
      const [meta] = await withTimeout(
        producer.send({
          topic: this.storeTopic,
          acks: -1,
          messages: [
            {
              key: RECORD_KEY,
              value: topic,
              partition: 0,
              headers: { [REPLICA_HEADER]: this.replicaId },
            },
          ],
        }),
        timeoutMs,
        `writing to ${this.storeTopic}`,
      );
      if (meta?.baseOffset === undefined) throw new Error('Kafka returned no offset');
      offset = BigInt(meta.baseOffset);
    } catch (err) {
      if (err instanceof ProxyError) throw err;
      throw unavailable(`cannot write the default topic to Kafka: ${message(err)}`, err);
    }
    await this.#log.waitUntil(offset + 1n, timeoutMs, () =>
      unavailable(`the change was written at offset ${offset} but not read back in time`),
    );
  }

  async #disconnect(): Promise<void> {
    const parts = [this.#consumer, this.#producer, this.#admin].filter((p) => p !== undefined);
    this.#consumer = undefined;
    this.#producer = undefined;
    this.#admin = undefined;
    const results = await Promise.allSettled(parts.map((p) => p.disconnect()));
    for (const r of results) {
      if (r.status === 'rejected') {
        this.#logger.warn({ err: r.reason as unknown }, 'error while disconnecting from Kafka');
      }
    }
  }
}

/** Kafka did not take or return the change in time: 503, the old topic stays, retry is safe. */
function unavailable(msg: string, cause?: unknown): ProxyError {
  return new ProxyError('kafka_unavailable', msg, cause === undefined ? {} : { cause });
}

function closing(): ProxyError {
  return new ProxyError('shutting_down', 'the topic store is closing');
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

async function withTimeout<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(unavailable(`${what} timed out after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
