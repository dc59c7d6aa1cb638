import type { Dispatcher } from 'undici';
import { KafkaProxyError } from './errors.js';
import { resolveTls, type TlsConnectOptions, type TlsOptions } from './tls.js';

/** When a client-side batch is sent: whichever limit is reached first. */
export interface BatchOptions {
  /** Most messages in one request. Default 1000. */
  maxMessages?: number;
  /** Most bytes in one framed request body (4-byte header + payload per message). Default 1 MiB. */
  maxBytes?: number;
  /** How long the first message of a batch waits for company, in ms. Default 10. */
  lingerMs?: number;
}

/** How failed requests are retried (network errors, timeouts, 429, 503, and 502/504 from an ingress). */
export interface RetryOptions {
  /**
   * Most HTTP attempts per request, first one included; 1 disables retries. Default: no limit,
   * so the budget is `maxElapsedMs` alone.
   */
  attempts?: number;
  /** Backoff before the first retry, in ms; doubles on each retry. Default 100. */
  initialDelayMs?: number;
  /** Longest backoff between two attempts, in ms. Default 5000. */
  maxDelayMs?: number;
  /**
   * No retry starts once this much time has passed since the first attempt, in ms. Default 60000:
   * long enough to ride out a routine broker restart (tens of seconds of 503 + `Retry-After`).
   */
  maxElapsedMs?: number;
}

export interface BatchSentEvent {
  topic: string | undefined;
  messages: number;
  bytes: number;
  status: number;
  attempts: number;
  durationMs: number;
}
export interface RetryEvent {
  topic: string | undefined;
  attempt: number;
  delayMs: number;
  error: KafkaProxyError;
}
export interface FailureEvent {
  topic: string | undefined;
  messages: number;
  error: KafkaProxyError;
}

/** Metrics hooks. They are called synchronously; whatever they throw is ignored. */
export interface ClientHooks {
  onBatchSent?: (event: BatchSentEvent) => void;
  onRetry?: (event: RetryEvent) => void;
  onFailure?: (event: FailureEvent) => void;
}

/** Calls a hook the way {@link ClientHooks} promises: a broken hook must not break delivery. */
export function callHook(hook: () => void): void {
  try {
    hook();
  } catch {
    // hooks are for metrics; what they throw is ignored
  }
}

/**
 * Options of {@link KafkaProxyClient}; only `url` and `token` are required.
 *
 * @example
 * ```ts
 * const options: KafkaProxyClientOptions = {
 *   url: 'https://kafka.example.com',
 *   token: 'secret',
 *   batch: { maxMessages: 500, lingerMs: 20 },
 *   retry: { maxElapsedMs: 120_000 },
 *   compression: 'gzip',
 * };
 * ```
 */
export interface KafkaProxyClientOptions {
  /** Base URL of the proxy, e.g. `https://kafka.example.com` (a path prefix is kept). */
  url: string | URL;
  /** Sent as `x-kafka-proxy-token`. */
  token: string;
  /** Topic for sends that name none. Unset: the server's default topic (`POST /`). */
  topic?: string;
  batch?: BatchOptions;
  retry?: RetryOptions;
  /** Largest single message in bytes; larger ones are rejected locally. Default `maxBytes - 4`. */
  maxMessageBytes?: number;
  /** Per-attempt timeout for one HTTP request, in ms. Default 30000. */
  requestTimeoutMs?: number;
  /** Compress request bodies. Default `'none'`. */
  compression?: 'none' | 'gzip';
  /** Batches in flight at once; more wait their turn. Default 4. */
  maxInFlight?: number;
  /**
   * Most framed bytes (4 + length per message) the client holds in batches, queued or in flight.
   * At least `batch.maxBytes`. Default 64 MiB.
   */
  maxQueuedBytes?: number;
  /**
   * Most messages the client holds in batches, queued or in flight. At least
   * `batch.maxMessages`. Default 100000.
   */
  maxQueuedMessages?: number;
  /**
   * What `send()` and `sendBatch()` do when the queue is full: `'wait'` (default) until
   * acknowledgements make room, first come first served; `'reject'` at once with `queue_full`.
   */
  onFull?: 'wait' | 'reject';
  /** Ask for durable (`200` after Kafka acks, default) or buffered (`202`) acknowledgement. */
  ack?: 'durable' | 'buffered';
  /**
   * How to check the proxy's certificate: the CAs to trust (`ca`), or none at all
   * (`rejectUnauthorized: false`). Default: Node's built-in CAs. Not with `dispatcher`, whose own
   * connect options decide.
   */
  tls?: TlsOptions;
  /** Your own undici dispatcher; the client then never closes it. Default: a keep-alive Agent. */
  dispatcher?: Dispatcher;
  /** Aborting it cancels every pending send and request and closes the client. */
  signal?: AbortSignal;
  hooks?: ClientHooks;
}

/**
 * The defaults of {@link KafkaProxyClientOptions}, for tools that want to show or derive from them.
 *
 * @example
 * ```ts
 * import { DEFAULTS } from '@kproxy/client';
 * console.log(`batches of up to ${DEFAULTS.maxMessages} messages`);
 * ```
 */
export const DEFAULTS = Object.freeze({
  maxMessages: 1000,
  maxBytes: 1024 * 1024,
  lingerMs: 10,
  /** No limit on attempts: retries are bounded by time (`maxElapsedMs`). */
  attempts: Number.POSITIVE_INFINITY,
  initialDelayMs: 100,
  maxDelayMs: 5000,
  maxElapsedMs: 60_000,
  requestTimeoutMs: 30_000,
  maxInFlight: 4,
  maxQueuedBytes: 64 * 1024 * 1024,
  maxQueuedMessages: 100_000,
});

export interface ResolvedOptions {
  baseUrl: URL;
  token: string;
  topic: string | undefined;
  maxMessages: number;
  maxBytes: number;
  lingerMs: number;
  maxMessageBytes: number;
  retry: Required<RetryOptions>;
  requestTimeoutMs: number;
  compression: 'none' | 'gzip';
  maxInFlight: number;
  maxQueuedBytes: number;
  maxQueuedMessages: number;
  onFull: 'wait' | 'reject';
  ack: 'durable' | 'buffered';
  tls: TlsConnectOptions | undefined;
  hooks: ClientHooks;
}

function check(name: string, value: number, min: number, integer = true): number {
  if (!Number.isFinite(value) || value < min || (integer && !Number.isInteger(value))) {
    throw new KafkaProxyError(
      'invalid_option',
      `${name} must be ${integer ? 'an integer' : 'a number'} >= ${min}, got ${value}`,
    );
  }
  return value;
}

export function resolveOptions(options: KafkaProxyClientOptions): ResolvedOptions {
  let baseUrl: URL;
  try {
    baseUrl = new URL(options.url);
  } catch {
    throw new KafkaProxyError('invalid_option', `url is not a valid URL: ${String(options.url)}`);
  }
  if (baseUrl.protocol !== 'http:' && baseUrl.protocol !== 'https:') {
    throw new KafkaProxyError('invalid_option', `url must be http: or https:, got ${baseUrl.href}`);
  }
  if (typeof options.token !== 'string' || options.token === '') {
    throw new KafkaProxyError('invalid_option', 'token is required');
  }
  const b = options.batch ?? {};
  const r = options.retry ?? {};
  const maxBytes = check('batch.maxBytes', b.maxBytes ?? DEFAULTS.maxBytes, 5);
  const maxMessageBytes = check('maxMessageBytes', options.maxMessageBytes ?? maxBytes - 4, 0);
  if (maxMessageBytes + 4 > maxBytes) {
    throw new KafkaProxyError(
      'invalid_option',
      `maxMessageBytes (${maxMessageBytes}) + 4 must fit in batch.maxBytes (${maxBytes})`,
    );
  }
  const maxMessages = check('batch.maxMessages', b.maxMessages ?? DEFAULTS.maxMessages, 1);
  // A full batch must always fit in an empty queue, or it would wait for ever.
  const maxQueuedBytes = check(
    'maxQueuedBytes',
    options.maxQueuedBytes ?? Math.max(DEFAULTS.maxQueuedBytes, maxBytes),
    maxBytes,
  );
  const maxQueuedMessages = check(
    'maxQueuedMessages',
    options.maxQueuedMessages ?? Math.max(DEFAULTS.maxQueuedMessages, maxMessages),
    maxMessages,
  );
  const onFull = options.onFull ?? 'wait';
  if (onFull !== 'wait' && onFull !== 'reject') {
    throw new KafkaProxyError(
      'invalid_option',
      `onFull must be 'wait' or 'reject', got ${String(onFull)}`,
    );
  }
  if (options.tls !== undefined && options.dispatcher !== undefined) {
    throw new KafkaProxyError(
      'invalid_option',
      'tls and dispatcher cannot be combined: give your dispatcher its own connect options',
    );
  }
  return {
    baseUrl,
    token: options.token,
    topic: options.topic,
    maxMessages,
    maxBytes,
    lingerMs: check('batch.lingerMs', b.lingerMs ?? DEFAULTS.lingerMs, 0, false),
    maxMessageBytes,
    retry: {
      attempts:
        r.attempts === undefined ? DEFAULTS.attempts : check('retry.attempts', r.attempts, 1),
      initialDelayMs: check('retry.initialDelayMs', r.initialDelayMs ?? DEFAULTS.initialDelayMs, 0),
      maxDelayMs: check('retry.maxDelayMs', r.maxDelayMs ?? DEFAULTS.maxDelayMs, 0),
      maxElapsedMs: check('retry.maxElapsedMs', r.maxElapsedMs ?? DEFAULTS.maxElapsedMs, 0),
    },
    requestTimeoutMs: check(
      'requestTimeoutMs',
      options.requestTimeoutMs ?? DEFAULTS.requestTimeoutMs,
      1,
    ),
    compression: options.compression ?? 'none',
    maxInFlight: check('maxInFlight', options.maxInFlight ?? DEFAULTS.maxInFlight, 1),
    maxQueuedBytes,
    maxQueuedMessages,
    onFull,
    ack: options.ack ?? 'durable',
    tls: options.tls === undefined ? undefined : resolveTls(options.tls),
    hooks: options.hooks ?? {},
  };
}
