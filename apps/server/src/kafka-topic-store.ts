import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import {
  Admin,
  Consumer,
  MessagesStreamFallbackModes,
  MessagesStreamModes,
  Producer,
  ProduceAcks,
  findErrorBy,
  type BaseOptions,
} from '@platformatic/kafka';
import { isValidTopicName } from '@kproxy/protocol';
import { withDeadline } from './deadline.js';
import { ProxyError } from './errors.js';
import { toProxyError } from './kafka-producer.js';
import { assertTopicName } from './topic-name.js';
import type { TopicStore } from './topic-store.js';

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
  /**
   * Connection settings of the store's Kafka clients (brokers, client id, SASL, TLS, timeouts):
   * the server passes `kafkaClientOptions()` of kafka-producer.ts, the producer's own settings.
   */
  kafka: BaseOptions;
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
  fetchMaxWaitMs?: number;
  /** The longest pause between two attempts to follow again after the follower lost Kafka. */
  maxResumeDelayMs?: number;
  /** Names this process in the consumer group id and in a header of the records it writes. */
  replicaId?: string;
}

/**
 * The default topic shared by every replica through a compacted, single-partition Kafka topic.
 *
 * Each replica follows the topic from the beginning with a consumer group of its own (a group id
 * unique to the process, so the one partition is always assigned to this replica; it never
 * commits offsets, so the broker drops the group when the replica leaves). A change is produced
 * with `acks=all` by an idempotent producer under one fixed key; `set()` resolves once this
 * replica has read its own record back, so the replica that answered already uses the new value
 * while the others pick it up from their fetch a few milliseconds later. The last record in the
 * log wins, on every replica.
 *
 * A follower that loses Kafka (its fetches fail past the client's retries, or its group cannot be
 * rejoined) is replaced by a new consumer that resumes at the first record not applied yet,
 * retried with a growing pause until Kafka answers again.
 *
 * @example
 * const store = new KafkaTopicStore({ kafka: kafkaClientOptions(options), logger, seedTopic: fileStore.current(), cache: fileStore });
 * await store.start();
 * await store.set('events'); // durable in Kafka, visible here
 * store.current(); // 'events'
 */
export class KafkaTopicStore implements TopicStore {
  readonly storeTopic: string;
  readonly replicaId: string;
  readonly #kafka: BaseOptions;
  readonly #logger: StoreLogger;
  readonly #seedTopic: string;
  readonly #force: boolean;
  readonly #cache: TopicCache | undefined;
  readonly #setTimeoutMs: number;
  readonly #startTimeoutMs: number;
  readonly #fetchMaxWaitMs: number;
  readonly #maxResumeDelayMs: number;
  readonly #log = new FollowedLog();
  #cacheWrite: Promise<void> = Promise.resolve();
  #producer: Producer | undefined;
  #follower: Consumer | undefined;
  #resumeTimer: NodeJS.Timeout | undefined;
  #resumeAttempts = 0;
  #followers = 0;
  #state: 'new' | 'starting' | 'started' | 'closed' = 'new';

  constructor(options: KafkaTopicStoreOptions) {
    assertTopicName(options.seedTopic);
    // Never auto-create the store topic: a broker-created topic is neither compacted nor surely
    // single-partition, and a store topic deleted under a running replica must fail the change
    // with 503, not come back empty.
    this.#kafka = { ...options.kafka, autocreateTopics: false };
    this.#logger = options.logger;
    this.#seedTopic = options.seedTopic;
    this.#force = options.force ?? false;
    this.#cache = options.cache;
    this.storeTopic = options.storeTopic ?? DEFAULT_STORE_TOPIC;
    this.#setTimeoutMs = options.setTimeoutMs ?? 10_000;
    this.#startTimeoutMs = options.startTimeoutMs ?? 60_000;
    this.#fetchMaxWaitMs = options.fetchMaxWaitMs ?? 500;
    this.#maxResumeDelayMs = options.maxResumeDelayMs ?? 5_000;
    this.replicaId =
      options.replicaId ?? `${hostname()}-${process.pid}-${randomUUID().slice(0, 8)}`;
  }

  async start(): Promise<void> {
    if (this.#state !== 'new')
      throw new ProxyError('internal', 'the topic store was started before');
    this.#state = 'starting';
    try {
      await withDeadline(this.#connect(), this.#startTimeoutMs, () =>
        timedOut('connecting to Kafka', this.#startTimeoutMs),
      );
      const end = await withDeadline(this.#endOffset(), this.#startTimeoutMs, () =>
        timedOut('reading offsets', this.#startTimeoutMs),
      );
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
      // Closed first, so a connection step still running after a timeout closes what it opens.
      this.#state = 'closed';
      await this.#disconnect();
      throw err instanceof ProxyError
        ? err
        : unavailable(`cannot start the Kafka topic store: ${toProxyError(err).message}`, err);
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
    await this.#ensureTopic();
    if (this.#state !== 'starting') throw closing();
    // The client keeps an idempotent producer's requests one at a time per connection; its own
    // retries are few because #produce retries within the caller's deadline, and a change that
    // timed out must not land long after its 503.
    const producer = new Producer({
      ...this.#kafka,
      idempotent: true,
      acks: ProduceAcks.ALL,
      retries: 2,
    });
    this.#producer = producer;
    // Warmed up here rather than on the first change: the producer id and the store topic's
    // leader connection would otherwise add a round trip or three to the first POST /topic. Best
    // effort only: on a cluster still loading its coordinators this fails, and the first write
    // then asks again, retried within its own deadline.
    const warmUp = Promise.all([
      producer.initIdempotentProducer({}),
      producer.metadata({ topics: [this.storeTopic] }),
    ]).catch((err: unknown) => {
      this.#logger.debug({ err }, 'the store producer is not ready yet');
    });
    await Promise.all([warmUp, this.#follow()]);
  }

  async #ensureTopic(): Promise<void> {
    const admin = new Admin(this.#kafka);
    try {
      if ((await admin.listTopics()).includes(this.storeTopic)) return;
      const { brokers } = await admin.metadata({ topics: [] });
      const replicationFactor = Math.min(3, brokers.size);
      try {
        await admin.createTopics({
          topics: [{ topic: this.storeTopic, partitions: 1, replicas: replicationFactor }],
          configs: [
            { name: 'cleanup.policy', value: 'compact' },
            { name: 'min.insync.replicas', value: replicationFactor >= 3 ? '2' : '1' },
          ],
        });
        this.#logger.info({ storeTopic: this.storeTopic, replicationFactor }, 'created topic');
      } catch (err) {
        // Another replica created it between our listing and our request.
        if (!(err instanceof Error) || findErrorBy(err, 'apiId', 'TOPIC_ALREADY_EXISTS') === null)
          throw err;
      }
      await this.#leaderElected(admin);
    } finally {
      await admin.close().catch((err: unknown) => {
        this.#logger.debug({ err }, 'error while closing the Kafka admin client');
      });
    }
  }

  /** A topic just created has no leader for a moment; the follower and producer need one. */
  async #leaderElected(admin: Admin): Promise<void> {
    for (;;) {
      const metadata = await admin.metadata({ topics: [this.storeTopic], forceUpdate: true });
      const leader = metadata.topics.get(this.storeTopic)?.partitions[0]?.leader ?? -1;
      if (leader >= 0) return;
      if (this.#state !== 'starting') throw closing();
      await sleep(100);
    }
  }

  async #endOffset(): Promise<bigint> {
    const follower = this.#follower;
    if (follower === undefined) throw unavailable('the follower is not connected to Kafka');
    const offsets = await follower.listOffsets({ topics: [this.storeTopic] });
    return offsets.get(this.storeTopic)?.[0] ?? 0n;
  }

  /** Starts a follower at the first record not applied yet: the beginning of the log at start. */
  async #follow(): Promise<void> {
    const from = this.#log.end;
    // A replacement follower joins a group of its own too: the lost one may still be a member of
    // the old group at the broker (it could not leave while Kafka was away), and a join would wait
    // for that member to rejoin or expire, up to the session timeout.
    this.#followers += 1;
    const generation = this.#followers === 1 ? '' : `-${this.#followers}`;
    const follower = new Consumer({
      ...this.#kafka,
      groupId: `kafka-proxy.topic-store.${this.replicaId}${generation}`,
      autocommit: false,
      minBytes: 1,
      maxWaitTime: this.#fetchMaxWaitMs,
    });
    this.#follower = follower;
    // Emitted when the group cannot be rejoined; an 'error' event without a listener would
    // crash the process.
    follower.on('error', (err) => this.#lost(follower, err));
    try {
      const stream = await follower.consume({
        topics: [this.storeTopic],
        mode: MessagesStreamModes.MANUAL,
        offsets: [{ topic: this.storeTopic, partition: 0, offset: from }],
        // An offset no longer in the log (the topic was truncated) restarts at its first record.
        fallbackMode: MessagesStreamFallbackModes.EARLIEST,
        autocommit: false,
      });
      if (this.#follower !== follower) throw closing();
      // Offsets were listed: Kafka answers again, so the next loss starts with a short pause.
      stream.once('offsets', () => {
        this.#resumeAttempts = 0;
      });
      stream.on('data', (record) => {
        // A record without a value (a tombstone) arrives with `value` undefined, whatever its type.
        this.#onRecord(record.offset, record.value);
      });
      stream.on('error', (err) => this.#lost(follower, err));
      stream.on('close', () => this.#lost(follower, new Error('the follower stream ended')));
    } catch (err) {
      if (this.#follower === follower) this.#follower = undefined;
      await follower.close(true).catch(() => undefined);
      throw err;
    }
  }

  /** The follower failed for good: close it and follow again with a new one, after a pause. */
  #lost(follower: Consumer, err: unknown): void {
    if (this.#follower !== follower) return;
    this.#follower = undefined;
    this.#logger.warn(
      { err, storeTopic: this.storeTopic, offset: String(this.#log.end) },
      'the default-topic follower lost Kafka; following again',
    );
    follower.close(true).catch((closeErr: unknown) => {
      this.#logger.debug({ err: closeErr }, 'error while closing the lost follower');
    });
    this.#resumeLater();
  }

  #resumeLater(): void {
    if (this.#state === 'closed') return;
    const delay = Math.min(this.#maxResumeDelayMs, 250 * 2 ** this.#resumeAttempts);
    this.#resumeAttempts += 1;
    this.#resumeTimer = setTimeout(() => {
      this.#resumeTimer = undefined;
      if (this.#state === 'closed') return;
      this.#follow().then(
        () => {
          this.#logger.info(
            { storeTopic: this.storeTopic, offset: String(this.#log.end) },
            'following the shared default topic again',
          );
        },
        (err: unknown) => {
          if (this.#state === 'closed') return;
          this.#logger.warn({ err, storeTopic: this.storeTopic }, 'cannot follow Kafka yet');
          this.#resumeLater();
        },
      );
    }, delay);
  }

  #onRecord(offset: bigint, value: Buffer | null | undefined): void {
    if (offset < this.#log.end) return; // a replay after the follower rejoined
    const topic = value == null ? undefined : value.toString('utf8');
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
    const deadline = Date.now() + timeoutMs;
    const offset = await this.#produce(topic, deadline);
    await this.#log.waitUntil(offset + 1n, Math.max(0, deadline - Date.now()), () =>
      unavailable(`the change was written at offset ${offset} but not read back in time`),
    );
  }

  /**
   * Produces the record, again after a retriable failure (a broker down, a leader moving) until
   * `deadline`; resolves with its offset. A later attempt may duplicate a record that did land,
   * which is harmless: the same value twice.
   */
  async #produce(topic: string, deadline: number): Promise<bigint> {
    const record = {
      topic: this.storeTopic,
      partition: 0,
      key: Buffer.from(RECORD_KEY),
      value: Buffer.from(topic),
      headers: new Map([[Buffer.from(REPLICA_HEADER), Buffer.from(this.replicaId)]]),
    };
    for (let attempt = 1; ; attempt++) {
      const producer = this.#producer;
      if (producer === undefined) throw closing();
      let failure: ProxyError;
      try {
        const left = deadline - Date.now();
        const { offsets = [] } = await withDeadline(
          producer.send({ messages: [record] }),
          left,
          () => timedOut(`writing to ${this.storeTopic}`, left),
        );
        const written = offsets.find((o) => o.topic === this.storeTopic && o.partition === 0);
        if (written !== undefined) return written.offset;
        failure = unavailable('Kafka acknowledged the change without its offset');
      } catch (err) {
        if (err instanceof ProxyError && err.code === 'kafka_unavailable') throw err; // timed out
        failure = toProxyError(err);
      }
      const pause = Math.min(1_000, 50 * 2 ** attempt);
      // A missing partition is retried too: right after a failover or creation it comes back.
      const retriable = failure.retriable || failure.code === 'unknown_topic';
      if (!retriable || this.#state === 'closed' || Date.now() + pause >= deadline) {
        throw unavailable(`cannot write the default topic to Kafka: ${failure.message}`, failure);
      }
      await sleep(pause);
    }
  }

  async #disconnect(): Promise<void> {
    clearTimeout(this.#resumeTimer);
    const parts = [this.#follower, this.#producer].filter((p) => p !== undefined);
    this.#follower = undefined;
    this.#producer = undefined;
    // Forced: a follower's pending fetch and a producer's retries are abandoned, not awaited.
    const results = await Promise.allSettled(parts.map((p) => p.close(true)));
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

function timedOut(what: string, ms: number): ProxyError {
  return unavailable(`${what} timed out after ${ms} ms`);
}

function closing(): ProxyError {
  return new ProxyError('shutting_down', 'the topic store is closing');
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
