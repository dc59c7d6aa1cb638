import {
  Producer as KafkaClientProducer,
  ProduceAcks,
  findErrorBy,
  type MessageToProduce,
  type ProducerOptions,
  type SASLOptions,
} from '@platformatic/kafka';
import type { Logger } from 'pino';
import type { Config } from './config.js';
import { ProxyError } from './errors.js';
import type { ProduceBatch, ProduceResult, Producer } from './producer.js';

/** Kafka's default `message.max.bytes` is 1048588 per record batch; stay under it with headroom. */
const MAX_RECORD_BATCH_BYTES = 1_000_000;
/** Rough per-record overhead in a v2 record batch (varints, attributes, headers count). */
const RECORD_OVERHEAD_BYTES = 24;

/** Options for {@link createKafkaProducer}. */
export interface KafkaProducerOptions {
  kafka: Config['kafka'];
  logger: Logger;
  /** Each Kafka request gives up after this long; the flusher's caller bounds the whole send. */
  requestTimeoutMs: number;
  /** How often readiness re-checks that broker metadata is reachable. */
  probeIntervalMs?: number;
}

type Message = MessageToProduce<Buffer, Buffer, Buffer, Buffer>;
type ClientOptions = ProducerOptions<Buffer, Buffer, Buffer, Buffer>;

const SASL_MECHANISMS = {
  plain: 'PLAIN',
  'scram-sha-256': 'SCRAM-SHA-256',
  'scram-sha-512': 'SCRAM-SHA-512',
} as const;

/** Kafka error names (`apiId`) that mean the records themselves are too large for the broker. */
const TOO_LARGE = ['MESSAGE_TOO_LARGE', 'RECORD_LIST_TOO_LARGE'];

/** The client's own name for an error of Kafka's protocol, found anywhere in an error's chain. */
function kafkaErrorName(error: Error, names: readonly string[]): string | undefined {
  for (const name of names) if (findErrorBy(error, 'apiId', name) !== null) return name;
  return undefined;
}

/**
 * Turns a Kafka client failure into the server's error. Retriability is the client's own: a
 * failure is `kafka_unavailable` (503, retriable) unless some error in its chain says it must not
 * be retried, which makes it `kafka_rejected` (502); oversize records are `message_too_large`.
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
function chunk(messages: readonly Uint8Array[]): (readonly Uint8Array[])[] {
  let size = 0;
  for (const message of messages) size += message.byteLength + RECORD_OVERHEAD_BYTES;
  if (size <= MAX_RECORD_BATCH_BYTES) return [messages];
  const chunks: Uint8Array[][] = [];
  let current: Uint8Array[] = [];
  size = 0;
  for (const message of messages) {
    const cost = message.byteLength + RECORD_OVERHEAD_BYTES;
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
 * The {@link Producer} on `@platformatic/kafka`: idempotent, `acks=all`, retrying retriable
 * failures without limit (a batch already answered 202 must survive a broker restart; durable
 * requests get their 503 from the ack timeout instead, and readiness turns 503 while the broker
 * is unreachable). The client keeps one produce request in flight per broker connection, which
 * is what keeps an idempotent producer's sequence numbers, and so order, intact.
 *
 * Batches are sent with explicit partitions. A partition's messages that exceed one record batch
 * are sent as consecutive record batches, in order.
 *
 * @example
 * const producer = createKafkaProducer({ kafka: config.kafka, logger, requestTimeoutMs: 10_000 });
 * await producer.connect();
 */
export function createKafkaProducer(options: KafkaProducerOptions): Producer {
  const client = new KafkaClientProducer<Buffer, Buffer, Buffer, Buffer>({
    ...kafkaClientOptions(options),
    idempotent: true,
    acks: ProduceAcks.ALL,
    retries: Number.MAX_SAFE_INTEGER,
  });
  const logger = options.logger.child({ component: 'kafka' });
  let connected = false;
  let metadataOk = false;
  let closed = false;
  let probe: NodeJS.Timeout | undefined;

  const checkMetadata = async (): Promise<void> => {
    try {
      await client.metadata({ topics: [], forceUpdate: true, retries: 0 });
      if (!metadataOk) logger.info('Kafka is reachable');
      metadataOk = true;
    } catch (error) {
      if (metadataOk) logger.warn({ err: error }, 'Kafka is not reachable');
      metadataOk = false;
    }
  };

  /** One produce request of at most one record batch per partition. */
  const produce = async (
    batches: readonly ProduceBatch[],
    messagesOf: (index: number) => readonly Uint8Array[] | undefined,
  ): Promise<Map<string, bigint>> => {
    const messages: Message[] = [];
    for (let i = 0; i < batches.length; i++) {
      const batch = batches[i];
      const values = messagesOf(i);
      if (batch === undefined || values === undefined) continue;
      const { topic, partition } = batch;
      for (const value of values) messages.push({ topic, partition, value: asBuffer(value) });
    }
    const { offsets = [] } = await client.send({ messages });
    const byPartition = new Map<string, bigint>();
    for (const { topic, partition, offset } of offsets)
      byPartition.set(`${topic}:${partition}`, offset);
    return byPartition;
  };

  return {
    async connect() {
      try {
        await client.metadata({ topics: [], forceUpdate: true, retries: 2 });
        await client.initIdempotentProducer({});
      } catch (error) {
        throw toProxyError(error);
      }
      connected = true;
      metadataOk = true;
      probe = setInterval(() => void checkMetadata(), options.probeIntervalMs ?? 2_000);
      probe.unref();
    },

    async send(batches: readonly ProduceBatch[]): Promise<ProduceResult[]> {
      const results: (ProduceResult | undefined)[] = batches.map(() => undefined);
      // Rounds: round k sends the k-th record batch of every batch, so a batch that needs several
      // record batches keeps its order while small batches still travel together.
      const chunked = batches.map((b) => chunk(b.messages));
      let rounds = 0;
      for (const c of chunked) rounds = Math.max(rounds, c.length);
      try {
        for (let round = 0; round < rounds; round++) {
          const offsets = await produce(batches, (i) => chunked[i]?.[round]);
          for (let i = 0; i < batches.length; i++) {
            const batch = batches[i];
            if (
              batch === undefined ||
              results[i] !== undefined ||
              chunked[i]?.[round] === undefined
            )
              continue;
            const baseOffset = offsets.get(`${batch.topic}:${batch.partition}`);
            if (baseOffset === undefined) {
              throw new ProxyError('internal', 'Kafka acknowledged a batch without its offset');
            }
            results[i] = {
              topic: batch.topic,
              partition: batch.partition,
              baseOffset: baseOffset.toString(),
            };
          }
        }
      } catch (error) {
        throw toProxyError(error);
      }
      return results.map((r) => {
        if (r === undefined)
          throw new ProxyError('internal', 'Kafka returned no result for a batch');
        return r;
      });
    },

    async partitionCount(topic: string): Promise<number> {
      try {
        const metadata = await client.metadata({
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
      return connected && metadataOk && !closed;
    },

    async disconnect() {
      if (probe !== undefined) clearInterval(probe);
      closed = true;
      connected = false;
      // force: sends still retrying are given up; the flusher has already sent what it could.
      await client.close(true).catch((error: unknown) => {
        logger.warn({ err: error }, 'closing the Kafka client failed');
      });
    },
  };
}
