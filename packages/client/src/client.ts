import { promisify } from 'node:util';
import { gzip as gzipCallback } from 'node:zlib';
import { encodeFrames } from '@kproxy/framing';
import { CONTENT_TYPES, ROUTES, setTopicPath } from '@kproxy/protocol';
import { Aborts, throwIfAborted } from './abort.js';
import { Batch, PendingMessage, type SendResult } from './batch.js';
import { KafkaProxyError } from './errors.js';
import { asKafkaProxyError } from './failure.js';
import { checkTopic, toBytes, type Message } from './message.js';
import { resolveOptions, type KafkaProxyClientOptions, type ResolvedOptions } from './options.js';
import { abortedError, withRetry } from './retry.js';
import { Room, Waiter } from './room.js';
import { Transport, type HttpResponse } from './transport.js';
import { produceRequest, produceResults, topicFromAnswer } from './wire.js';

const gzip = promisify(gzipCallback);
const DEFAULT_TOPIC_KEY = '';

export interface SendOptions {
  /** Topic for this message; default: the client's `topic`, else the server's default topic. */
  topic?: string;
  /**
   * Gives up on the call: its promise rejects with `aborted`. Messages not sent yet are taken
   * out (from the line for room, or from their batch); a request already made goes on while it
   * carries messages someone still waits for, so an aborted message may still land.
   */
  signal?: AbortSignal;
}

/** What a client holds: see {@link KafkaProxyClient.queued}. */
export interface QueueStatus {
  /** Framed bytes (4 + length per message) in batches, queued or in flight. */
  bytes: number;
  /** Messages in batches, queued or in flight. */
  messages: number;
  /** Sends, and `sendBatch` requests, waiting for room. */
  waiting: number;
}

/** Liveness and readiness of the proxy, from `GET /healthz` and `GET /readyz`. */
export interface HealthStatus {
  live: boolean;
  ready: boolean;
  /** Why the proxy is not ready, as it said so. */
  reason?: string;
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
  readonly #aborts = new Aborts((item, error) => this.#withdraw(item, error));
  readonly #room: Room;
  #inFlight = 0;
  #closing: Promise<void> | undefined;

  constructor(options: KafkaProxyClientOptions) {
    this.#options = resolveOptions(options);
    if (this.#options.topic !== undefined) checkTopic(this.#options.topic);
    this.#room = new Room(this.#options.maxQueuedBytes, this.#options.maxQueuedMessages);
    this.#transport = new Transport(
      this.#options.baseUrl,
      this.#options.token,
      this.#options.requestTimeoutMs,
      options.dispatcher,
      this.#options.tls,
    );
    const signal = options.signal;
    if (signal) {
      const onAbort = (): void => this.#abortAll(abortedError(signal));
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
    }
  }

  /**
   * Queues one message; resolves with where it landed once its batch is acknowledged. When the
   * queue is full (`maxQueuedBytes`, `maxQueuedMessages`) the message first waits its turn for
   * room, or with `onFull: 'reject'` the promise rejects at once with `queue_full`.
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
      const signal = options.signal;
      const item = this.#prepare(message, undefined, signal);
      if (this.#room.tryTake(item.framedBytes, 1)) this.#enqueue(topic, item);
      else if (this.#options.onFull === 'reject') throw this.#queueFull();
      else this.#room.wait(new Waiter([item], item.framedBytes, () => this.#enqueue(topic, item)));
      this.#aborts.watch(signal, [item]);
      return item.promise;
    } catch (err) {
      return Promise.reject(asKafkaProxyError(err));
    }
  }

  /**
   * Sends these messages now, as few requests as the batch limits allow, without waiting for the
   * linger time. Resolves with one result per message, in order. If one request fails for good,
   * the promise rejects; requests already acknowledged stay in Kafka. When the queue is full, each
   * request waits its turn for room like a `send()` (or, with `onFull: 'reject'`, the requests
   * that do not fit are not made and the promise rejects with `queue_full`).
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
      throwIfAborted(signal);
      // Queued single sends to this topic go first, so order is kept.
      const open = this.#open.get(topic ?? DEFAULT_TOPIC_KEY);
      if (open) this.#cut(open);
      const chunks = [new Batch(topic)];
      for (const item of items) {
        let chunk = chunks[chunks.length - 1] as Batch;
        if (!chunk.fits(item.bytes.length, this.#options.maxMessages, this.#options.maxBytes)) {
          chunk = new Batch(topic);
          chunks.push(chunk);
        }
        chunk.add(item);
      }
      // Once one request is refused, later ones are too, so none overtakes it.
      let refused = false;
      for (const chunk of chunks) refused = !this.#admitChunk(chunk, refused);
      this.#aborts.watch(signal, items);
      return Promise.all(items.map((item) => item.promise));
    } catch (err) {
      return Promise.reject(asKafkaProxyError(err));
    }
  }

  /**
   * What the client holds right now: framed bytes and messages in batches (queued or in flight),
   * bounded by `maxQueuedBytes` and `maxQueuedMessages`, and how many sends wait for room.
   *
   * @example
   * ```ts
   * const { bytes, messages, waiting } = client.queued;
   * ```
   */
  get queued(): QueueStatus {
    return { bytes: this.#room.bytes, messages: this.#room.messages, waiting: this.#room.waiting };
  }

  /**
   * Resolves once nobody waits for room in the queue and there is room for another message. A
   * producer that does not await each `send()` calls it between sends to bound its own memory.
   *
   * @example
   * ```ts
   * for await (const line of lines) {
   *   client.send(line).catch(onError);
   *   await client.waitForRoom();
   * }
   * ```
   */
  waitForRoom(): Promise<void> {
    return this.#room.whenRoom();
  }

  /**
   * Sends every queued batch now, including sends still waiting for room, and resolves once all
   * batches sent so far are settled.
   */
  async flush(): Promise<void> {
    const last = this.#room.last;
    for (;;) {
      for (const batch of [...this.#open.values()]) this.#cut(batch);
      const unsettled = [...this.#unsettled].map((b) => b.done);
      // Every wait ends as a batch settles and frees room, so the line moves on each turn.
      if (last?.state !== 'waiting' || unsettled.length === 0) {
        await Promise.all(unsettled);
        return;
      }
      await Promise.race(unsettled);
    }
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
    await this.#call('POST', setTopicPath(topic), options.signal);
  }

  /** The server's current default topic (`GET /topic`). */
  async getTopic(options: { signal?: AbortSignal } = {}): Promise<string> {
    this.#assertOpen();
    const res = await this.#call('GET', ROUTES.topic.path, options.signal);
    return topicFromAnswer(res);
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
    const live = await probe(ROUTES.health.path);
    const ready = await probe(ROUTES.readiness.path);
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
    throwIfAborted(signal);
    return new PendingMessage(bytes);
  }

  #enqueue(topic: string | undefined, item: PendingMessage): void {
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
    if (batch.isFull(maxMessages, maxBytes)) this.#cut(batch);
  }

  /**
   * Sends one request of a `sendBatch` once there is room for all of it; `false` if it was
   * refused (`onFull: 'reject'`, or `refuse`).
   */
  #admitChunk(chunk: Batch, refuse: boolean): boolean {
    const send = (): void => {
      for (const item of chunk.items) item.holder = chunk;
      this.#unsettled.add(chunk);
      this.#ready(chunk);
    };
    if (!refuse && this.#room.tryTake(chunk.bodyBytes, chunk.items.length)) {
      send();
      return true;
    }
    if (refuse || this.#options.onFull === 'reject') {
      const error = this.#queueFull();
      for (const item of chunk.items) item.reject(error);
      return false;
    }
    this.#room.wait(new Waiter(chunk.items, chunk.bodyBytes, send));
    return true;
  }

  #queueFull(): KafkaProxyError {
    const { maxQueuedBytes, maxQueuedMessages } = this.#options;
    return new KafkaProxyError(
      'queue_full',
      `the client's queue is full (maxQueuedBytes ${maxQueuedBytes}, maxQueuedMessages ${maxQueuedMessages}); send again once earlier sends settle`,
      { retriable: true },
    );
  }

  /** Takes a message given up on by its caller out of wherever it is; see {@link Aborts}. */
  #withdraw(item: PendingMessage, error: KafkaProxyError): void {
    const holder = item.holder;
    if (holder instanceof Waiter) {
      if (holder.items.every((i) => i.settled)) this.#room.cancel(holder);
    } else if (holder && !holder.sent) {
      if (holder.remove(item)) this.#room.release(item.framedBytes, 1);
    } else if (holder?.items.every((i) => i.settled)) {
      holder.cancel.abort(error);
    }
  }

  #newBatch(topic: string | undefined): Batch {
    const batch = new Batch(topic);
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
      batch.sent = true;
      void this.#dispatch(batch).finally(() => {
        this.#inFlight--;
        this.#unsettled.delete(batch);
        this.#room.release(batch.bodyBytes, batch.items.length);
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
      const signals = [this.#lifetime.signal, batch.cancel.signal];
      const body = this.#options.compression === 'gzip' ? await gzip(framed) : framed;
      const { method, path, headers } = produceRequest({
        topic,
        gzip: this.#options.compression === 'gzip',
        buffered: this.#options.ack === 'buffered',
      });
      const res = await withRetry(
        (n) => {
          batch.attempts = n;
          return this.#transport.send({
            method,
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
          attempts: batch.attempts,
          durationMs: Date.now() - started,
        }),
      );
      const results = produceResults(res, topic, items.length);
      items.forEach((item, index) => item.resolve(results[index] as SendResult));
    } catch (err) {
      const error = asKafkaProxyError(err);
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
          headers: { accept: CONTENT_TYPES.json },
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
    for (const waiter of this.#room.clear()) waiter.fail(error);
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
