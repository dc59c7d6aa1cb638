import kafkajs from 'kafkajs';
import type { Admin, KafkaConfig, Producer as KafkaJsProducer, SASLOptions } from 'kafkajs';
import createSnappyCodec from 'kafkajs-snappy';
import { createLz4Codec } from './lz4-codec.js';
import type { Logger } from 'pino';
import type { Config } from './config.js';
import { ProxyError } from './errors.js';
import { kafkaLogLevel, pinoLogCreator } from './kafka-log.js';
import type { ProduceBatch, ProduceResult, Producer } from './producer.js';

const { Kafka, CompressionTypes, CompressionCodecs, Partitioners, KafkaJSError } = kafkajs;

/** Kafka's default `message.max.bytes` is 1048588 per record batch; stay under it with headroom. */
const MAX_RECORD_BATCH_BYTES = 1_000_000;
/** Rough per-record overhead in a v2 record batch (varints, attributes, headers count). */
const RECORD_OVERHEAD_BYTES = 24;

/** Options for {@link createKafkaProducer}. */
export interface KafkaProducerOptions {
  kafka: Config['kafka'];
  logger: Logger;
  logLevel: string;
  /** Each Kafka request gives up after this long; the flusher's caller bounds the whole send. */
  requestTimeoutMs: number;
  /** How often readiness re-checks that broker metadata is reachable. */
  probeIntervalMs?: number;
}

function saslOptions(sasl: NonNullable<Config['kafka']['sasl']>): SASLOptions {
  const { username, password } = sasl;
  switch (sasl.mechanism) {
    case 'plain':
      return { mechanism: 'plain', username, password };
    case 'scram-sha-256':
      return { mechanism: 'scram-sha-256', username, password };
    case 'scram-sha-512':
      return { mechanism: 'scram-sha-512', username, password };
  }
}

function compressionType(compression: Config['kafka']['compression']): number {
  switch (compression) {
    case 'gzip':
      return CompressionTypes.GZIP;
    case 'snappy':
      CompressionCodecs[CompressionTypes.Snappy] = createSnappyCodec;
      return CompressionTypes.Snappy;
    case 'lz4':
      CompressionCodecs[CompressionTypes.LZ4] = createLz4Codec;
      return CompressionTypes.LZ4;
    case 'zstd':
      return CompressionTypes.ZSTD;
    default:
      return CompressionTypes.None;
  }
}

/** Turns a kafkajs failure into the server's error, keeping kafkajs's own retriability. */
export function toProxyError(error: unknown): ProxyError {
  if (error instanceof ProxyError) return error;
  if (error instanceof KafkaJSError) {
    const type = (error as { type?: string }).type;
    if (type === 'MESSAGE_TOO_LARGE' || type === 'RECORD_LIST_TOO_LARGE') {
      return new ProxyError('message_too_large', `Kafka refused the batch as too large (${type})`, {
        cause: error,
      });
    }
    if (
      error.retriable ||
      error.name === 'KafkaJSNumberOfRetriesExceeded' ||
      error.name === 'KafkaJSConnectionError'
    ) {
      return new ProxyError('kafka_unavailable', `Kafka is unavailable: ${error.message}`, {
        cause: error,
      });
    }
    return new ProxyError('kafka_rejected', `Kafka refused the messages: ${error.message}`, {
      cause: error,
    });
  }
  return new ProxyError('kafka_unavailable', `Kafka is unavailable: ${String(error)}`, {
    cause: error,
  });
}

/** Splits one partition's messages into runs that each fit one Kafka record batch. */
function chunk(messages: readonly Uint8Array[]): Uint8Array[][] {
  const chunks: Uint8Array[][] = [];
  let current: Uint8Array[] = [];
  let size = 0;
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

const asBuffer = (m: Uint8Array): Buffer => Buffer.from(m.buffer, m.byteOffset, m.byteLength);

/**
 * The kafkajs-backed {@link Producer}: idempotent (so `acks=-1`) with one request in flight per
 * broker, which is what kafkajs needs to keep sequence numbers, and so order, intact.
 *
 * Batches are sent with explicit partitions; the partitioner is set explicitly (kafkajs's default)
 * only so kafkajs does not warn about its changed default. A partition's messages that exceed one
 * record batch are sent as consecutive batches, in order.
 *
 * @example
 * const producer = createKafkaProducer({ kafka: config.kafka, logger, logLevel: 'info', requestTimeoutMs: 10_000 });
 * await producer.connect();
 */
export function createKafkaProducer(options: KafkaProducerOptions): Producer {
  const { kafka: settings, logger } = options;
  const kafkaConfig: KafkaConfig = {
    clientId: settings.clientId,
    brokers: [...settings.brokers],
    logLevel: kafkaLogLevel(options.logLevel),
    logCreator: pinoLogCreator(logger),
    requestTimeout: options.requestTimeoutMs,
    connectionTimeout: Math.min(options.requestTimeoutMs, 5_000),
    retry: { initialRetryTime: 100, maxRetryTime: 2_000, retries: 5 },
  };
  if (settings.tls)
    kafkaConfig.ssl = settings.tlsCa === undefined ? true : { ca: [settings.tlsCa] };
  if (settings.sasl !== undefined) kafkaConfig.sasl = saslOptions(settings.sasl);
  const kafka = new Kafka(kafkaConfig);
  const compression = compressionType(settings.compression);
  const producer: KafkaJsProducer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: true,
    createPartitioner: Partitioners.DefaultPartitioner,
    // No retry limit (the idempotent default): a batch already answered 202 must survive a broker
    // restart, and a limit would desynchronise sequence numbers. Clients of durable requests get
    // their 503 from the ack timeout instead; readiness turns 503 while the broker is unreachable.
    retry: { initialRetryTime: 100, maxRetryTime: 2_000, retries: Number.MAX_SAFE_INTEGER },
  });
  const admin: Admin = kafka.admin();
  let connected = false;
  let metadataOk = false;
  let probe: NodeJS.Timeout | undefined;

  const checkMetadata = async (): Promise<void> => {
    try {
      await admin.describeCluster();
      metadataOk = true;
    } catch {
      metadataOk = false;
    }
  };

  producer.on(producer.events.CONNECT, () => {
    connected = true;
  });
  producer.on(producer.events.DISCONNECT, () => {
    connected = false;
  });

  return {
    async connect() {
      try {
        await Promise.all([producer.connect(), admin.connect()]);
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
      // Rounds: round k sends the k-th chunk of every batch, so a batch that needs several
      // record batches keeps its order while small batches still travel together.
      const chunked = batches.map((b) => chunk(b.messages));
      const rounds = Math.max(...chunked.map((c) => c.length));
      try {
        for (let round = 0; round < rounds; round++) {
          const entries = batches.flatMap((batch, i) => {
            const messages = chunked[i]?.[round];
            return messages === undefined
              ? []
              : [
                  {
                    i,
                    batch,
                    messages: messages.map((m) => ({
                      value: asBuffer(m),
                      partition: batch.partition,
                    })),
                  },
                ];
          });
          const byTopic = new Map<string, { value: Buffer; partition: number }[]>();
          for (const entry of entries) {
            const list = byTopic.get(entry.batch.topic) ?? [];
            for (const message of entry.messages) list.push(message);
            byTopic.set(entry.batch.topic, list);
          }
          const metadata = await producer.sendBatch({
            acks: -1,
            timeout: options.requestTimeoutMs,
            compression,
            topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })),
          });
          for (const entry of entries) {
            if (results[entry.i] !== undefined) continue;
            const meta = metadata.find(
              (m) => m.topicName === entry.batch.topic && m.partition === entry.batch.partition,
            );
            const baseOffset = meta?.baseOffset ?? meta?.offset;
            if (baseOffset === undefined) {
              throw new ProxyError('internal', 'Kafka acknowledged a batch without its offset');
            }
            results[entry.i] = {
              topic: entry.batch.topic,
              partition: entry.batch.partition,
              baseOffset,
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
      const read = async (): Promise<number> => {
        const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
        return topics[0]?.partitions.length ?? 0;
      };
      try {
        return await read();
      } catch (error) {
        if ((error as { type?: string }).type !== 'UNKNOWN_TOPIC_OR_PARTITION')
          throw toProxyError(error);
      }
      // kafkajs's admin never asks the broker to auto-create a topic; its producer does. An empty
      // batch makes the producer load the topic's metadata (creating it when the broker
      // auto-creates topics) without producing anything.
      try {
        await producer.sendBatch({ acks: -1, topicMessages: [{ topic, messages: [] }] });
        return await read();
      } catch (error) {
        if ((error as { type?: string }).type === 'UNKNOWN_TOPIC_OR_PARTITION') {
          throw new ProxyError(
            'unknown_topic',
            `topic "${topic}" does not exist and Kafka does not create topics automatically`,
            {
              cause: error,
            },
          );
        }
        throw toProxyError(error);
      }
    },

    isReady() {
      return connected && metadataOk;
    },

    async disconnect() {
      if (probe !== undefined) clearInterval(probe);
      connected = false;
      await Promise.allSettled([producer.disconnect(), admin.disconnect()]);
    },
  };
}
