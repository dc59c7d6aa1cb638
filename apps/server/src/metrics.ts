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
 * prom-client's default gauges whose names end in `_total`, which Prometheus keeps for counters
 * (`promtool check metrics` refuses them). Each is the sum over `type` of a gauge that stays:
 * `nodejs_active_handles`, `nodejs_active_requests`, `nodejs_active_resources`.
 */
const MISNAMED_DEFAULT_GAUGES = [
  'nodejs_active_handles_total',
  'nodejs_active_requests_total',
  'nodejs_active_resources_total',
];

/** What {@link createMetrics} reports besides its own counters. */
export interface MetricsOptions {
  /** prom-client's process and Node.js metrics (default true). */
  defaultMetrics?: boolean;
  /** The server's version, for `kafka_proxy_build_info`. */
  version?: string;
  /** Log lines dropped so far (`droppedLogLines(logger)`), read at each scrape. */
  droppedLogLines?: () => number;
}

/**
 * Creates the metrics in a fresh registry, with prom-client's default process metrics (so
 * `process_resident_memory_bytes` shows the server's own memory). Tests create one per app.
 *
 * @example
 * const metrics = createMetrics();
 * const text = await metrics.registry.metrics();
 */
export function createMetrics(options: MetricsOptions = {}): Metrics {
  const registry = new Registry();
  if (options.defaultMetrics ?? true) {
    collectDefaultMetrics({ register: registry });
    for (const name of MISNAMED_DEFAULT_GAUGES) registry.removeSingleMetric(name);
  }
  const registers = [registry];
  new Gauge({
    name: 'kafka_proxy_build_info',
    help: 'Always 1: the server version and the Node.js version it runs on, as labels',
    labelNames: ['version', 'node'] as const,
    registers,
  }).set({ version: options.version ?? 'unknown', node: process.versions.node }, 1);
  const dropped = options.droppedLogLines;
  let droppedReported = 0;
  new Counter({
    name: 'kafka_proxy_log_lines_dropped_total',
    help: 'Log lines dropped because stdout was not read in time or had failed',
    registers,
    collect() {
      // The logger counts; the counter catches up at each scrape.
      const now = dropped?.() ?? 0;
      if (now > droppedReported) this.inc(now - droppedReported);
      droppedReported = Math.max(droppedReported, now);
    },
  });
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
