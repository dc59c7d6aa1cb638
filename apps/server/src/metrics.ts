import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** The server's Prometheus metrics, in a registry of its own (never prom-client's global one). */
export interface Metrics {
  readonly registry: Registry;
  readonly requests: Counter<'route' | 'method' | 'status'>;
  readonly requestDuration: Histogram<'route'>;
  readonly messagesIn: Counter<'topic'>;
  readonly bytesIn: Counter<'topic'>;
  readonly messagesOut: Counter<'topic'>;
  readonly bytesOut: Counter<'topic'>;
  readonly batchMessages: Histogram;
  readonly batchBytes: Histogram;
  readonly flushDuration: Histogram;
  readonly bufferedMessages: Gauge;
  readonly bufferedBytes: Gauge;
  readonly reservedBytes: Gauge;
  readonly kafkaErrors: Counter<'code'>;
}

/**
 * Creates the metrics in a fresh registry, with prom-client's default process metrics (so
 * `process_resident_memory_bytes` shows the server's own memory). Tests create one per app.
 *
 * @example
 * const metrics = createMetrics();
 * const text = await metrics.registry.metrics();
 */
export function createMetrics(options: { defaultMetrics?: boolean } = {}): Metrics {
  const registry = new Registry();
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry });
  const registers = [registry];
  return {
    registry,
    requests: new Counter({
      name: 'kafka_proxy_http_requests_total',
      help: 'HTTP requests by route, method and status',
      labelNames: ['route', 'method', 'status'] as const,
      registers,
    }),
    requestDuration: new Histogram({
      name: 'kafka_proxy_http_request_duration_seconds',
      help: 'Time from request start to response, by route',
      labelNames: ['route'] as const,
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    messagesIn: new Counter({
      name: 'kafka_proxy_messages_received_total',
      help: 'Messages accepted from clients, by topic',
      labelNames: ['topic'] as const,
      registers,
    }),
    bytesIn: new Counter({
      name: 'kafka_proxy_message_bytes_received_total',
      help: 'Message payload bytes accepted from clients, by topic',
      labelNames: ['topic'] as const,
      registers,
    }),
    messagesOut: new Counter({
      name: 'kafka_proxy_messages_produced_total',
      help: 'Messages acknowledged by Kafka, by topic',
      labelNames: ['topic'] as const,
      registers,
    }),
    bytesOut: new Counter({
      name: 'kafka_proxy_message_bytes_produced_total',
      help: 'Message payload bytes acknowledged by Kafka, by topic',
      labelNames: ['topic'] as const,
      registers,
    }),
    batchMessages: new Histogram({
      name: 'kafka_proxy_batch_messages',
      help: 'Messages per batch sent to Kafka',
      buckets: [1, 10, 50, 100, 500, 1000, 5000, 10000, 50000],
      registers,
    }),
    batchBytes: new Histogram({
      name: 'kafka_proxy_batch_bytes',
      help: 'Payload bytes per batch sent to Kafka',
      buckets: [1024, 16384, 65536, 262144, 1048576, 4194304, 16777216],
      registers,
    }),
    flushDuration: new Histogram({
      name: 'kafka_proxy_flush_duration_seconds',
      help: 'Time from sending a batch to Kafka until it was acknowledged or failed',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5, 30],
      registers,
    }),
    bufferedMessages: new Gauge({
      name: 'kafka_proxy_buffered_messages',
      help: 'Messages waiting in the flusher buffer (not yet sent)',
      registers,
    }),
    bufferedBytes: new Gauge({
      name: 'kafka_proxy_buffered_bytes',
      help: 'Payload bytes waiting in the flusher buffer (not yet sent)',
      registers,
    }),
    reservedBytes: new Gauge({
      name: 'kafka_proxy_reserved_bytes',
      help: 'Payload bytes held against KAFKA_PROXY_MAX_BUFFERED_BYTES: being received, buffered or in flight',
      registers,
    }),
    kafkaErrors: new Counter({
      name: 'kafka_proxy_kafka_errors_total',
      help: 'Failed sends to Kafka, by error code',
      labelNames: ['code'] as const,
      registers,
    }),
  };
}
