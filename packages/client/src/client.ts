import { promisify } from 'node:util';
import { gzip as gzipCallback } from 'node:zlib';
import { encodeFrames } from '@kproxy/framing';
import { Batch, type PendingMessage, type SendResult } from './batch.js';
import { KafkaProxyError } from './errors.js';
import { checkTopic, toBytes, type Message } from './message.js';
import { resolveOptions, type KafkaProxyClientOptions, type ResolvedOptions } from './options.js';
import { abortedError, withRetry } from './retry.js';
import { Transport, type HttpResponse } from './transport.js';

const gzip = promisify(gzipCallback);
const DEFAULT_TOPIC_KEY = '';

export interface SendOptions {
  /** Topic for this message; default: the client's `topic`, else the server's default topic. */
  topic?: string;
  /**
   * Gives up waiting for this message. Before its batch is sent, the message is taken out of it;
   * after, the request goes on for the other messages and this one may still land.
   */
  signal?: AbortSignal;
}

/** Liveness and readiness of the proxy, from `GET /healthz` and `GET /readyz`. */
export interface HealthStatus {
  live: boolean;
  ready: boolean;
  /** Why the proxy is not ready, as it said so. */
  reason?: string;
}

interface ProduceAnswer {
  topic?: unknown;
  partition?: unknown;
  baseOffset?: unknown;
}

/**
 * Sends messages to kafka-proxy. `send()` queues a message into a client-side batch per topic;
 * a batch is sent when it holds `batch.maxMessages` messages or `batch.maxBytes` bytes, or
 * `batch.lingerMs` after its first message, whichever comes first. Each `send()` resolves when
 * its batch is acknowledged. Failed requests are retried (network errors, timeouts, 429, 503)
 * with exponential backoff and jitter, honouring `Retry-After`. Always `close()` the client: it
 * flushes what is queued.
 *
 * @example
 * ```ts
 * import { KafkaProxyClient } from '@kproxy/client';
 *
 * const client = new KafkaProxyClient({ url: 'https://kafka.example.com', token: 'secret' });
 * const { partition, offset } = await client.send('hello', { topic: 'events' });
 * await client.close();
 * ```
 */
export class KafkaProxyClient {
  readonly #options: ResolvedOptions;
  readonly #transport: Transport;
  readonly #open = new Map<string, Batch>();
  readonly #queue: Batch[] = [];
  readonly #unsettled = new Set<Batch>();
  readonly #lifetime = new AbortController();
  /** Messages waiting on each caller's signal: one abort listener per signal, not per message. */
  readonly #watched = new WeakMap<AbortSignal, Map<PendingMessage, Batch>>();
  #inFlight = 0;
  #closing: Promise<void> | undefined;

  constructor(options: KafkaProxyClientOptions) {
    this.#options = resolveOptions(options);
    if (this.#options.topic !== undefined) checkTopic(this.#options.topic);
    this.#transport = new Transport(
      this.#options.baseUrl,
      this.#options.token,
      this.#options.requestTimeoutMs,
      options.dispatcher,
    );
    const signal = options.signal;
    if (signal) {
      const onAbort = (): void => this.#abortAll(abortedError(signal));
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
    }
  }

  /**
   * Queues one message; resolves with where it landed once its batch is acknowledged.
   *
   * @example
   * ```ts
   * const result = await client.send(Buffer.from([0, 1, 2]), { topic: 'raw' });
   * console.log(result.partition, result.offset);
   * ```
   */
  send(message: Message, options: SendOptions = {}): Promise<SendResult> {
    try {
      const topic = this.#topicFor(options.topic);
      const item = this.#prepare(message, undefined, options.signal);
      const promise = this.#track(item);
      this.#enqueue(topic, item, options.signal);
      return promise;
    } catch (err) {
      return Promise.reject(asError(err));
    }
  }

  /**
   * Sends these messages now, as few requests as the batch limits allow, without waiting for the
   * linger time. Resolves with one result per message, in order. If one request fails for good,
   * the promise rejects; requests already acknowledged stay in Kafka.
   *
   * @example
   * ```ts
   * const results = await client.sendBatch(['a', 'b', 'c'], { topic: 'events' });
   * ```
   */
  sendBatch(messages: Iterable<Message>, options: SendOptions = {}): Promise<SendResult[]> {
    try {
      const topic = this.#topicFor(options.topic);
      const signal = options.signal;
      let index = 0;
      const items: PendingMessage[] = [];
      for (const message of messages) items.push(this.#prepare(message, index++, signal));
      if (signal?.aborted) throw abortedError(signal);
      const promises = items.map((item) => this.#track(item));
      // Queued single sends to this topic go first, so order is kept.
      const open = this.#open.get(topic ?? DEFAULT_TOPIC_KEY);
      if (open) this.#cut(open);
      let batch = this.#newBatch(topic, signal);
      for (const item of items) {
        if (!batch.fits(item.bytes.length, this.#options.maxMessages, this.#options.maxBytes)) {
          this.#ready(batch);
          batch = this.#newBatch(topic, signal);
        }
        batch.add(item);
      }
      this.#ready(batch);
      return Promise.all(promises);
    } catch (err) {
      return Promise.reject(asError(err));
    }
  }

  /** Sends every queued batch now and resolves once all batches sent so far are settled. */
  async flush(): Promise<void> {
    for (const batch of [...this.#open.values()]) this.#cut(batch);
    await Promise.all([...this.#unsettled].map((b) => b.done));
  }

  /**
   * Makes `topic` the server's default topic (`POST /topic/{topic}`). Messages already queued for
   * the default topic are sent first, so they land where the default pointed when they were sent.
   */
  async setTopic(topic: string, options: { signal?: AbortSignal } = {}): Promise<void> {
    this.#assertOpen();
    checkTopic(topic);
    const open = this.#open.get(DEFAULT_TOPIC_KEY);
    if (open) this.#cut(open);
    const defaultTopicBatches = [...this.#unsettled].filter((b) => b.topic === undefined);
    await Promise.all(defaultTopicBatches.map((b) => b.done));
    await this.#call('POST', `/topic/${encodeURIComponent(topic)}`, options.signal);
  }

  /** The server's current default topic (`GET /topic`). */
  async getTopic(options: { signal?: AbortSignal } = {}): Promise<string> {
    this.#assertOpen();
    const res = await this.#call('GET', '/topic', options.signal);
    const body = parseJson(res.text) as { topic?: unknown } | undefined;
    if (typeof body?.topic !== 'string') {
      throw new KafkaProxyError(
        'invalid_response',
        `GET /topic answered ${res.text.slice(0, 200)}`,
        {
          status: res.status,
        },
      );
    }
    return body.topic;
  }

  /**
   * Asks `GET /healthz` and `GET /readyz` once each (no retries). Rejects only when the server
   * cannot be reached.
   */
  async health(options: { signal?: AbortSignal } = {}): Promise<HealthStatus> {
    this.#assertOpen();
    const probe = async (path: string): Promise<{ ok: boolean; reason?: string }> => {
      try {
        await this.#transport.send({ method: 'GET', path, signal: options.signal });
        return { ok: true };
      } catch (err) {
        if (err instanceof KafkaProxyError && err.status !== undefined) {
          return { ok: false, reason: `${err.status} ${err.code}: ${err.message}` };
        }
        throw err;
      }
    };
    const live = await probe('/healthz');
    const ready = await probe('/readyz');
    const status: HealthStatus = { live: live.ok, ready: ready.ok };
    const reason = ready.reason ?? live.reason;
    if (reason !== undefined) status.reason = reason;
    return status;
  }

  /**
   * Flushes what is queued, waits for every request, then releases connections (only those the
   * client created). Sends after `close()` was called reject with code `client_closed`.
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      try {
        await this.flush();
      } finally {
        await this.#transport.close();
      }
    })();
    return this.#closing;
  }

  #assertOpen(): void {
    if (this.#closing !== undefined || this.#lifetime.signal.aborted) {
      throw new KafkaProxyError('client_closed', 'the client is closed; create a new one to send');
    }
  }

  #topicFor(topic: string | undefined): string | undefined {
    this.#assertOpen();
    const chosen = topic ?? this.#options.topic;
    return chosen === undefined ? undefined : checkTopic(chosen);
  }

  #prepare(
    message: Message,
    index: number | undefined,
    signal: AbortSignal | undefined,
  ): PendingMessage {
    const bytes = toBytes(message);
    if (bytes.length > this.#options.maxMessageBytes) {
      throw new KafkaProxyError(
        'message_too_large',
        `${index === undefined ? 'the message' : `message ${index}`} is ${bytes.length} bytes; the limit is ${this.#options.maxMessageBytes} (maxMessageBytes)`,
      );
    }
    if (signal?.aborted) throw abortedError(signal);
    return { bytes, settled: false, resolve: () => undefined, reject: () => undefined };
  }

  #track(item: PendingMessage): Promise<SendResult> {
    return new Promise<SendResult>((resolve, reject) => {
      item.resolve = (result) => {
        if (item.settled) return;
        item.settled = true;
        resolve(result);
      };
      item.reject = (error) => {
        if (item.settled) return;
        item.settled = true;
        reject(error);
      };
    });
  }

  #enqueue(topic: string | undefined, item: PendingMessage, signal: AbortSignal | undefined): void {
    const { maxMessages, maxBytes, lingerMs } = this.#options;
    const key = topic ?? DEFAULT_TOPIC_KEY;
    let batch = this.#open.get(key);
    if (batch && !batch.fits(item.bytes.length, maxMessages, maxBytes)) {
      this.#cut(batch);
      batch = undefined;
    }
    if (!batch) {
      batch = this.#newBatch(topic);
      this.#open.set(key, batch);
      const lingering = batch;
      batch.timer = setTimeout(() => this.#cut(lingering), lingerMs);
    }
    batch.add(item);
    if (signal) this.#watch(signal, item, batch);
    if (batch.isFull(maxMessages, maxBytes)) this.#cut(batch);
  }

  #watch(signal: AbortSignal, item: PendingMessage, batch: Batch): void {
    let items = this.#watched.get(signal);
    if (!items) {
      const watched = new Map<PendingMessage, Batch>();
      items = watched;
      this.#watched.set(signal, watched);
      signal.addEventListener(
        'abort',
        () => {
          this.#watched.delete(signal);
          const error = abortedError(signal);
          for (const [pending, owner] of watched) {
            // Still queued: take it out so it is never sent. Already sent: just stop waiting.
            if (this.#open.get(owner.topic ?? DEFAULT_TOPIC_KEY) === owner) owner.remove(pending);
            pending.reject(error);
          }
        },
        { once: true },
      );
    }
    items.set(item, batch);
    const watched = items;
    const forget = (): void => void watched.delete(item);
    batch.done.then(forget, forget);
  }

  #newBatch(topic: string | undefined, signal?: AbortSignal): Batch {
    const batch = new Batch(topic, signal);
    this.#unsettled.add(batch);
    return batch;
  }

  /** Closes an open batch to new messages and queues it for sending. */
  #cut(batch: Batch): void {
    clearTimeout(batch.timer);
    const key = batch.topic ?? DEFAULT_TOPIC_KEY;
    if (this.#open.get(key) === batch) this.#open.delete(key);
    this.#ready(batch);
  }

  #ready(batch: Batch): void {
    this.#queue.push(batch);
    this.#pump();
  }

  #pump(): void {
    while (this.#inFlight < this.#options.maxInFlight) {
      const batch = this.#queue.shift();
      if (!batch) return;
      this.#inFlight++;
      void this.#dispatch(batch).finally(() => {
        this.#inFlight--;
        this.#unsettled.delete(batch);
        batch.finish();
        this.#pump();
      });
    }
  }

  /** Sends one batch and settles its messages; never rejects. */
  async #dispatch(batch: Batch): Promise<void> {
    const items = batch.items.filter((item) => !item.settled);
    if (items.length === 0) return;
    const topic = batch.topic;
    const { hooks } = this.#options;
    const started = Date.now();
    const framed = encodeFrames(items.map((item) => item.bytes));
    try {
      const signals = [this.#lifetime.signal];
      if (batch.signal) signals.push(batch.signal);
      const body = this.#options.compression === 'gzip' ? await gzip(framed) : framed;
      const headers: Record<string, string> = {
        'content-type': 'application/octet-stream',
        accept: 'application/json, text/plain;q=0.5',
      };
      if (this.#options.compression === 'gzip') headers['content-encoding'] = 'gzip';
      if (this.#options.ack === 'buffered') headers['x-kafka-proxy-ack'] = 'buffered';
      const path = topic === undefined ? '/' : `/topics/${encodeURIComponent(topic)}`;
      let attempts = 0;
      const res = await withRetry(
        (n) => {
          attempts = n;
          return this.#transport.send({
            method: 'POST',
            path,
            headers,
            body,
            signal: AbortSignal.any(signals),
          });
        },
        {
          options: this.#options.retry,
          signal: AbortSignal.any(signals),
          onRetry: (attempt, delayMs, error) =>
            safely(() => hooks.onRetry?.({ topic, attempt, delayMs, error })),
        },
      );
      safely(() =>
        hooks.onBatchSent?.({
          topic,
          messages: items.length,
          bytes: framed.length,
          status: res.status,
          attempts,
          durationMs: Date.now() - started,
        }),
      );
      const answer = (res.contentType.includes('json') ? parseJson(res.text) : undefined) as
        ProduceAnswer | undefined;
      const landedTopic = typeof answer?.topic === 'string' ? answer.topic : topic;
      const partition = typeof answer?.partition === 'number' ? answer.partition : undefined;
      const base = parseOffset(answer?.baseOffset);
      items.forEach((item, index) =>
        item.resolve({
          topic: landedTopic,
          partition,
          offset: base === undefined ? undefined : String(base + BigInt(index)),
          durable: res.status === 200,
        }),
      );
    } catch (err) {
      const error =
        err instanceof KafkaProxyError
          ? err
          : new KafkaProxyError('network_error', String(err), { cause: err });
      safely(() => hooks.onFailure?.({ topic, messages: items.length, error }));
      for (const item of items) item.reject(error);
    }
  }

  async #call(method: 'GET' | 'POST', path: string, signal?: AbortSignal): Promise<HttpResponse> {
    const signals = [this.#lifetime.signal];
    if (signal) signals.push(signal);
    const combined = AbortSignal.any(signals);
    return withRetry(
      () =>
        this.#transport.send({
          method,
          path,
          headers: { accept: 'application/json' },
          signal: combined,
        }),
      {
        options: this.#options.retry,
        signal: combined,
        onRetry: (attempt, delayMs, error) =>
          safely(() =>
            this.#options.hooks.onRetry?.({ topic: undefined, attempt, delayMs, error }),
          ),
      },
    );
  }

  #abortAll(error: KafkaProxyError): void {
    for (const batch of [...this.#open.values(), ...this.#queue]) {
      clearTimeout(batch.timer);
      for (const item of batch.items) item.reject(error);
    }
    this.#lifetime.abort(error);
    this.#closing ??= this.flush().finally(() => this.#transport.destroy());
  }
}

function safely(hook: () => void): void {
  try {
    hook();
  } catch {
    // hooks are for metrics; a broken hook must not break delivery
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function parseOffset(value: unknown): bigint | undefined {
  if (typeof value === 'number' && Number.isInteger(value)) return BigInt(value);
  if (typeof value === 'string' && /^-?\d+$/.test(value)) return BigInt(value);
  return undefined;
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}
