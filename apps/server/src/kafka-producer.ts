import { setMaxListeners } from 'node:events';
import {
  Producer as KafkaClientProducer,
  ProduceAcks,
  findErrorBy,
  type MessageToProduce,
  type ProduceResult,
  type ProducerOptions,
  type TopicWithPartitionAndOffset,
  type SASLOptions,
} from '@platformatic/kafka';
import type { Logger } from 'pino';
import type { Config } from './config.js';
import { withDeadline } from './deadline.js';
import { ProxyError } from './errors.js';
import {
  messageBytes,
  type Message,
  type ProduceBatch,
  type ProduceOutcome,
  type Producer,
} from './producer.js';

/** Kafka's default `message.max.bytes` is 1048588 per record batch; stay under it with headroom. */
const MAX_RECORD_BATCH_BYTES = 1_000_000;
/** Rough per-record overhead in a v2 record batch (varints, attributes, headers count). */
const RECORD_OVERHEAD_BYTES = 24;

/**
 * A send the client has not settled after this many request timeouts is given up as
 * `kafka_unavailable` (retriable: the flusher sends it again) and the client is replaced.
 */
export const SEND_STALL_TIMEOUTS = 3;
/**
 * Attempts the client makes at one produce request before the send fails and the flusher sends it
 * again. The client keeps the partitions it grouped for a broker together across its retries, so
 * a group whose partitions moved to different leaders fails on every attempt; only a fresh send
 * is grouped again by the current leaders.
 */
export const PRODUCE_ATTEMPTS = 5;

/** Options for {@link createKafkaProducer}. */
export interface KafkaProducerOptions {
  kafka: Config['kafka'];
  logger: Logger;
  /**
   * The broker's time limit for each Kafka request; the connection waits this plus
   * {@link RESPONSE_SLACK_MS} for an answer, and a send not settled within
   * {@link SEND_STALL_TIMEOUTS} of these is given up and the client replaced.
   */
  requestTimeoutMs: number;
  /** How often readiness re-checks that broker metadata is reachable. */
  probeIntervalMs?: number;
}

type ClientMessage = MessageToProduce<Buffer, Buffer, Buffer, Buffer>;
type ClientOptions = ProducerOptions<Buffer, Buffer, Buffer, Buffer>;

const SASL_MECHANISMS = {
  plain: 'PLAIN',
  'scram-sha-256': 'SCRAM-SHA-256',
  'scram-sha-512': 'SCRAM-SHA-512',
} as const;

/** How much longer than the broker's own time limit a connection waits for a response. */
export const RESPONSE_SLACK_MS = 5_000;

/** Kafka error names (`apiId`) that mean the records themselves are too large for the broker. */
const TOO_LARGE = ['MESSAGE_TOO_LARGE', 'RECORD_LIST_TOO_LARGE'];

/**
 * Kafka error names that mean the broker refused a batch for the idempotent producer's state
 * (its id unknown, or a sequence number out of order because an earlier batch of the same
 * producer failed), not for the records: the batch was not written, and sending it again (the
 * client starts a new producer id after a failed send) writes it.
 */
const PRODUCER_STATE_LOST = ['OUT_OF_ORDER_SEQUENCE_NUMBER', 'UNKNOWN_PRODUCER_ID'];

/** The client's own name for an error of Kafka's protocol, found anywhere in an error's chain. */
function kafkaErrorName(error: Error, names: readonly string[]): string | undefined {
  for (const name of names) if (findErrorBy(error, 'apiId', name) !== null) return name;
  return undefined;
}

/**
 * Turns a Kafka client failure into the server's error. Retriability is the client's own: a
 * failure is `kafka_unavailable` (503, retriable) unless some error in its chain says it must not
 * be retried, which makes it `kafka_rejected` (502); oversize records are `message_too_large`.
 * A batch refused for the idempotent producer's state is retriable whatever the client says.
 */
export function toProxyError(error: unknown): ProxyError {
  if (error instanceof ProxyError) return error;
  if (!(error instanceof Error)) {
    return new ProxyError('kafka_unavailable', `Kafka is unavailable: ${String(error)}`);
  }
  const tooLarge = kafkaErrorName(error, TOO_LARGE);
  if (tooLarge !== undefined) {
    return new ProxyError(
      'message_too_large',
      `Kafka refused the batch as too large (${tooLarge})`,
      {
        cause: error,
      },
    );
  }
  if (kafkaErrorName(error, ['UNKNOWN_TOPIC_OR_PARTITION']) !== undefined) {
    return new ProxyError(
      'unknown_topic',
      'the topic does not exist and Kafka does not create topics automatically',
      {
        cause: error,
      },
    );
  }
  const stateLost = kafkaErrorName(error, PRODUCER_STATE_LOST);
  if (stateLost !== undefined) {
    return new ProxyError(
      'kafka_unavailable',
      `Kafka refused the batch for the producer's state (${stateLost}); it is sent again`,
      { cause: error },
    );
  }
  if (
    findErrorBy(error, 'canRetry', false) !== null &&
    findErrorBy(error, 'code', 'PLT_KFK_NETWORK') === null
  ) {
    return new ProxyError('kafka_rejected', `Kafka refused the messages: ${describe(error)}`, {
      cause: error,
    });
  }
  return new ProxyError('kafka_unavailable', `Kafka is unavailable: ${describe(error)}`, {
    cause: error,
  });
}

/** The innermost messages of an error chain, which say what happened ("Connection refused"). */
function describe(error: Error): string {
  const inner = (error as Error & { errors?: Error[] }).errors;
  const last = inner?.[inner.length - 1];
  return last instanceof Error && last !== error ? describe(last) : error.message;
}

/** Splits one partition's messages into runs that each fit one Kafka record batch. */
function chunk(messages: readonly Message[]): (readonly Message[])[] {
  let size = 0;
  for (const message of messages) size += messageBytes(message) + RECORD_OVERHEAD_BYTES;
  if (size <= MAX_RECORD_BATCH_BYTES) return [messages];
  const chunks: Message[][] = [];
  let current: Message[] = [];
  size = 0;
  for (const message of messages) {
    const cost = messageBytes(message) + RECORD_OVERHEAD_BYTES;
    if (current.length > 0 && size + cost > MAX_RECORD_BATCH_BYTES) {
      chunks.push(current);
      current = [];
      size = 0;
    }
    current.push(message);
    size += cost;
  }
  chunks.push(current);
  return chunks;
}

/** The bytes as a `Buffer` without copying them (the request body's chunks already are). */
const asBuffer = (m: Uint8Array): Buffer =>
  Buffer.isBuffer(m) ? m : Buffer.from(m.buffer, m.byteOffset, m.byteLength);

/**
 * One message as the client writes it. A record's headers become a Map keyed by distinct
 * `Buffer`s, so a name that appears twice stays twice (Kafka allows it; a Map of strings would
 * keep one). Null values stay null: a tombstone, or a header without a value.
 */
function clientMessage(topic: string, partition: number, message: Message): ClientMessage {
  if (message instanceof Uint8Array) return { topic, partition, value: asBuffer(message) };
  const out: ClientMessage = {
    topic,
    partition,
    value: (message.value === null ? null : asBuffer(message.value)) as Buffer,
  };
  if (message.key !== null) out.key = asBuffer(message.key);
  if (message.timestamp !== null) out.timestamp = BigInt(message.timestamp);
  if (message.headers.length > 0) {
    const headers = new Map<Buffer, Buffer>();
    for (const { name, value } of message.headers) {
      headers.set(Buffer.from(name, 'utf8'), (value === null ? null : asBuffer(value)) as Buffer);
    }
    out.headers = headers;
  }
  return out;
}

/** Exponential backoff with full jitter, 100 ms doubling up to 2 s, for every Kafka request. */
function retryDelay(_client: unknown, _operation: string, attempt: number): number {
  return Math.random() * Math.min(2_000, 100 * 2 ** Math.min(attempt, 5));
}

/**
 * The Kafka client settings (brokers, client id, SASL, TLS, timeouts) of the producer.
 *
 * @example
 * const options = kafkaClientOptions({ kafka: config.kafka, logger, requestTimeoutMs: 10_000 });
 */
export function kafkaClientOptions(options: KafkaProducerOptions): ClientOptions {
  const { kafka: settings } = options;
  const clientOptions: ClientOptions = {
    clientId: settings.clientId,
    bootstrapBrokers: [...settings.brokers],
    timeout: options.requestTimeoutMs,
    connectTimeout: Math.min(options.requestTimeoutMs, 5_000),
    retryDelay,
    autocreateTopics: true,
    compression: settings.compression,
  };
  if (settings.tls)
    clientOptions.tls = settings.tlsCa === undefined ? {} : { ca: [settings.tlsCa] };
  if (settings.sasl !== undefined) {
    const sasl: SASLOptions = {
      mechanism: SASL_MECHANISMS[settings.sasl.mechanism],
      username: settings.sasl.username,
      password: settings.sasl.password,
    };
    clientOptions.sasl = sasl;
  }
  return clientOptions;
}

/**
 * The partitions a failed send's produce responses say Kafka appended, with their base offsets.
 * A response that failed for some partitions still carries the others' results; the client only
 * reports whole destinations, so these would otherwise be sent again.
 */
function writtenBefore(error: unknown, seen = new Set<unknown>()): TopicWithPartitionAndOffset[] {
  if (!(error instanceof Error) || seen.has(error)) return [];
  seen.add(error);
  const written: TopicWithPartitionAndOffset[] = [];
  const response = (error as { response?: unknown }).response as
    { responses?: { name?: unknown; partitionResponses?: unknown }[] } | undefined;
  for (const topic of Array.isArray(response?.responses) ? response.responses : []) {
    if (typeof topic.name !== 'string' || !Array.isArray(topic.partitionResponses)) continue;
    for (const p of topic.partitionResponses as {
      index?: unknown;
      errorCode?: unknown;
      baseOffset?: unknown;
      recordErrors?: unknown[];
    }[]) {
      if (p.errorCode !== 0 || (p.recordErrors?.length ?? 0) > 0) continue;
      if (typeof p.index !== 'number' || typeof p.baseOffset !== 'bigint') continue;
      written.push({ topic: topic.name, partition: p.index, offset: p.baseOffset });
    }
  }
  for (const inner of (error as Error & { errors?: unknown[] }).errors ?? []) {
    written.push(...writtenBefore(inner, seen));
  }
  return written;
}

/** One Kafka client and what the proxy knows of it. */
interface Session {
  readonly client: KafkaClientProducer<Buffer, Buffer, Buffer, Buffer>;
  /** The idempotent producer has its id. */
  initialized: boolean;
  /** Start times of the sends going on this client. */
  readonly going: Set<{ at: number }>;
  /**
   * Aborted once the client is replaced, which fails every send still waiting on it. A signal
   * and not a promise every send races against: each race would add a reaction to that promise,
   * kept with the send's result for as long as the client lives.
   */
  readonly abandoned: AbortController;
}

/**
 * The {@link Producer} on `@platformatic/kafka`: idempotent, `acks=all`. A send fails
 * (retriably, so the flusher sends it again) after {@link PRODUCE_ATTEMPTS} attempts at one
 * produce request, and also when it has not settled within {@link SEND_STALL_TIMEOUTS} request
 * timeouts: the client is then replaced by a fresh one (same options, a new idempotent producer
 * id), and the sends still waiting on the old one fail retriably too. A batch already answered
 * 202 survives a broker restart because the flusher retries it; durable requests get their 503
 * from the ack timeout instead. Readiness turns 503 while the broker is unreachable and while a
 * send has waited longer than a request timeout. The client keeps one produce request in flight
 * per broker connection, which is what keeps an idempotent producer's sequence numbers, and so
 * order, intact.
 *
 * Batches are sent with explicit partitions. A partition's messages that exceed one record batch
 * are sent as consecutive record batches, in order.
 *
 * Nothing reads a send's bytes once it has resolved, as the {@link Producer} contract asks (the
 * server then frees the body): values of 16 KiB and more go to the socket by reference
 * (`patches/README.md`), but a batch is sent again only after its attempt failed, and a request
 * that timed out has its connection destroyed in the same turn as its failure is reported, which
 * drops whatever of it was still waiting to be written.
 *
 * @example
 * const producer = createKafkaProducer({ kafka: config.kafka, logger, requestTimeoutMs: 10_000 });
 * await producer.connect();
 */
export function createKafkaProducer(options: KafkaProducerOptions): Producer {
  const clientOptions: ClientOptions = {
    ...kafkaClientOptions(options),
    requestTimeout: options.requestTimeoutMs + RESPONSE_SLACK_MS,
    idempotent: true,
    acks: ProduceAcks.ALL,
    retries: PRODUCE_ATTEMPTS - 1,
  };
  const stallMs = SEND_STALL_TIMEOUTS * options.requestTimeoutMs;
  const logger = options.logger.child({ component: 'kafka' });
  const newSession = (): Session => {
    const abandoned = new AbortController();
    // Every send waiting on the client listens, and more than ten may wait at once.
    setMaxListeners(0, abandoned.signal);
    return {
      client: new KafkaClientProducer<Buffer, Buffer, Buffer, Buffer>(clientOptions),
      initialized: false,
      going: new Set(),
      abandoned,
    };
  };
  let session = newSession();
  let metadataOk = false;
  let warned = false;
  let closed = false;
  let probe: NodeJS.Timeout | undefined;

  /**
   * Replaces a client that did not settle a request in time: a fresh one takes the next sends,
   * those still waiting on the old one fail retriably, and the old one is closed.
   */
  const replace = (stuck: Session, what: string): void => {
    if (stuck !== session || closed) return;
    logger.warn(
      { stalledMs: stallMs, sendsWaiting: stuck.going.size },
      `${what} did not settle within ${stallMs} ms; replacing the Kafka client`,
    );
    session = newSession();
    metadataOk = false;
    stuck.abandoned.abort(
      new ProxyError('kafka_unavailable', 'Kafka is unavailable: the Kafka client was replaced'),
    );
    void stuck.client.close(true).catch((error: unknown) => {
      logger.warn({ err: error }, 'closing the replaced Kafka client failed');
    });
    void probeKafka();
  };

  /**
   * `operation` on the current client, given up with `kafka_unavailable` when it has not settled
   * within the stall bound (the client is then replaced) or when the client is replaced first.
   */
  const bounded = async <T>(what: string, operation: (s: Session) => Promise<T>): Promise<T> => {
    const current = session;
    const entry = { at: Date.now() };
    current.going.add(entry);
    const running = operation(current);
    // Once given up, nobody waits for it; its failure (the closed client) is expected.
    running.catch(() => undefined);
    try {
      return await withDeadline(
        running,
        stallMs,
        () => {
          replace(current, what);
          return new ProxyError(
            'kafka_unavailable',
            `Kafka is unavailable: ${what} did not settle within ${stallMs} ms`,
          );
        },
        current.abandoned.signal,
      );
    } finally {
      current.going.delete(entry);
    }
  };

  /** A send on the current client has waited longer than a request timeout. */
  const stuck = (): boolean => {
    const now = Date.now();
    for (const { at } of session.going) if (now - at > options.requestTimeoutMs) return true;
    return false;
  };

  /**
   * Readiness: the broker answers metadata and the idempotent producer has its id. Checked at
   * start and then every probe interval, so a proxy started before Kafka becomes ready by itself.
   */
  let probing = false;
  const probeKafka = async (): Promise<void> => {
    if (probing) return;
    probing = true;
    const probed = session;
    try {
      await bounded('a metadata request', async ({ client }) => {
        await client.metadata({ topics: [], forceUpdate: true, retries: 0 });
        if (!probed.initialized) {
          await client.initIdempotentProducer({});
          probed.initialized = true;
        }
      });
      if (probed !== session) return;
      if (!metadataOk) logger.info('Kafka is reachable; ready to produce');
      metadataOk = true;
    } catch (error) {
      if (probed !== session) return;
      if (metadataOk || !warned) logger.warn({ err: error }, 'Kafka is not reachable');
      warned = true;
      metadataOk = false;
    } finally {
      probing = false;
    }
  };

  /**
   * One produce request of at most one record batch per partition: the base offset of each
   * partition Kafka acknowledged, and the error if any partition failed (the client still reports
   * the partitions that were written then).
   */
  const produce = async (
    batches: readonly ProduceBatch[],
    messagesOf: (index: number) => readonly Message[] | undefined,
  ): Promise<{ offsets: Map<string, bigint>; error?: ProxyError }> => {
    const messages: ClientMessage[] = [];
    for (let i = 0; i < batches.length; i++) {
      const batch = batches[i];
      const values = messagesOf(i);
      if (batch === undefined || values === undefined) continue;
      const { topic, partition } = batch;
      for (const message of values) messages.push(clientMessage(topic, partition, message));
    }
    const offsets = new Map<string, bigint>();
    const collect = (written: TopicWithPartitionAndOffset[] | undefined): void => {
      for (const { topic, partition, offset } of written ?? []) {
        offsets.set(`${topic}:${partition}`, offset);
      }
    };
    try {
      collect(
        (await bounded('a produce request', ({ client }) => client.send({ messages }))).offsets,
      );
      return { offsets };
    } catch (error) {
      collect(writtenBefore(error));
      collect((error as { produced?: ProduceResult }).produced?.offsets);
      const proxyError = toProxyError(error);
      if (proxyError.code === 'kafka_unavailable') metadataOk = false;
      logger.warn({ err: error, code: proxyError.code }, 'a produce request to Kafka failed');
      return { offsets, error: proxyError };
    }
  };

  /** Every batch on consecutive produce requests, round k holding each batch's k-th chunk. */
  const sendRounds = async (
    batches: readonly ProduceBatch[],
    chunked: (readonly Message[])[][],
    rounds: number,
  ): Promise<ProduceOutcome[]> => {
    // A batch whose partition failed in a round is not continued in later rounds.
    const outcomes: (ProduceOutcome | undefined)[] = batches.map(() => undefined);
    const firstOffsets = new Map<number, bigint>();
    for (let round = 0; round < rounds; round++) {
      const chunkOf = (i: number): readonly Message[] | undefined =>
        outcomes[i] === undefined ? chunked[i]?.[round] : undefined;
      if (!batches.some((_, i) => chunkOf(i) !== undefined)) break;
      const { offsets, error } = await produce(batches, chunkOf);
      for (let i = 0; i < batches.length; i++) {
        const batch = batches[i];
        if (batch === undefined || chunkOf(i) === undefined) continue;
        const offset = offsets.get(`${batch.topic}:${batch.partition}`);
        if (offset === undefined) {
          outcomes[i] = {
            error:
              error ?? new ProxyError('internal', 'Kafka acknowledged a batch without its offset'),
          };
          continue;
        }
        if (round === 0) firstOffsets.set(i, offset);
        if (round === (chunked[i]?.length ?? 1) - 1) {
          const { topic, partition } = batch;
          const baseOffset = (firstOffsets.get(i) ?? offset).toString();
          outcomes[i] = { result: { topic, partition, baseOffset } };
        }
      }
    }
    return outcomes.map(
      (o) => o ?? { error: new ProxyError('internal', 'Kafka returned no result for a batch') },
    );
  };

  /** Sends that are single produce requests, in flight now. */
  const going = new Set<Promise<void>>();
  /** The multi-round send last started (resolved when none is going). */
  let exclusive: Promise<void> = Promise.resolve();

  return {
    async connect() {
      // Never fails: a proxy that cannot reach Kafka yet still serves, answers /readyz 503 and
      // produce 503 + Retry-After, and turns ready once the probe reaches the broker.
      await probeKafka();
      probe ??= setInterval(() => void probeKafka(), options.probeIntervalMs ?? 2_000);
      probe.unref();
    },

    async send(batches: readonly ProduceBatch[]): Promise<ProduceOutcome[]> {
      const chunked = batches.map((b) => chunk(b.messages));
      let rounds = 0;
      for (const c of chunked) rounds = Math.max(rounds, c.length);
      if (rounds === 1) {
        // Behind a multi-round send, if one is going: it must not be interleaved.
        await exclusive;
        const sent = sendRounds(batches, chunked, 1);
        const settled = sent.then(() => undefined);
        going.add(settled);
        void settled.finally(() => going.delete(settled));
        return sent;
      }
      // Several record batches for one request: written back to back, so its messages get
      // consecutive offsets (the reply's baseOffset + index must be each message's offset).
      const before = [...going, exclusive];
      const sent = Promise.allSettled(before).then(() => sendRounds(batches, chunked, rounds));
      exclusive = sent.then(() => undefined);
      return sent;
    },
    async partitionCount(topic: string): Promise<number> {
      try {
        const metadata = await session.client.metadata({
          topics: [topic],
          autocreateTopics: true,
          retries: 5,
        });
        return metadata.topics.get(topic)?.partitionsCount ?? 0;
      } catch (error) {
        const proxyError = toProxyError(error);
        if (proxyError.code === 'unknown_topic') {
          throw new ProxyError(
            'unknown_topic',
            `topic "${topic}" does not exist and Kafka does not create topics automatically`,
            { cause: error },
          );
        }
        throw proxyError;
      }
    },

    isReady() {
      return session.initialized && metadataOk && !closed && !stuck();
    },

    async disconnect() {
      if (probe !== undefined) clearInterval(probe);
      closed = true;
      // force: sends still retrying are given up; the flusher has already sent what it could.
      await session.client.close(true).catch((error: unknown) => {
        logger.warn({ err: error }, 'closing the Kafka client failed');
      });
    },
  };
}
