import { throwIfAborted } from './abort.js';
import { Admin, type HealthStatus } from './admin.js';
import { PendingMessage, type SendResult } from './batch.js';
import { Batcher, type QueueStatus } from './batcher.js';
import { KafkaProxyError } from './errors.js';
import { asKafkaProxyError } from './failure.js';
import { checkTopic, type Message } from './message.js';
import { resolveOptions, type KafkaProxyClientOptions, type ResolvedOptions } from './options.js';
import { produce } from './produce.js';
import { describeWhere, toOutgoing, type ProduceRecord } from './record.js';
import { abortedError } from './retry.js';
import { Transport } from './transport.js';

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
  readonly #lifetime = new AbortController();
  readonly #batcher: Batcher;
  readonly #admin: Admin;
  #closing: Promise<void> | undefined;

  constructor(options: KafkaProxyClientOptions) {
    this.#options = resolveOptions(options);
    if (this.#options.topic !== undefined) checkTopic(this.#options.topic);
    const transport = new Transport(
      this.#options.baseUrl,
      this.#options.token,
      this.#options.requestTimeoutMs,
      options.dispatcher,
      this.#options.tls,
    );
    this.#transport = transport;
    const context = { options: this.#options, transport, signal: this.#lifetime.signal };
    this.#batcher = new Batcher(this.#options, (batch) => produce(batch, context));
    this.#admin = new Admin(this.#options, transport, this.#lifetime.signal);
    const signal = options.signal;
    if (signal) {
      const onAbort = (): void => this.#abortAll(abortedError(signal));
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
    }
  }

  /**
   * Queues one message, bytes or a record ({@link ProduceRecord}: key, headers, timestamp,
   * partition, a null value for a tombstone); resolves with where it landed once its batch is
   * acknowledged. When the queue is full (`maxQueuedBytes`, `maxQueuedMessages`) the message
   * first waits its turn for room, or with `onFull: 'reject'` the promise rejects at once with
   * `queue_full`.
   *
   * @example
   * ```ts
   * const result = await client.send(Buffer.from([0, 1, 2]), { topic: 'raw' });
   * console.log(result.partition, result.offset);
   * await client.send({ key: 'user-1', value: '{"n":1}', headers: { source: 'web' } });
   * ```
   */
  send(message: Message | ProduceRecord, options: SendOptions = {}): Promise<SendResult> {
    try {
      const topic = this.#topicFor(options.topic);
      const signal = options.signal;
      const item = this.#prepare(message, undefined, signal);
      this.#batcher.add(topic, item, signal);
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
   * await client.sendBatch([{ key: 'k', value: 'v1' }, { key: 'k', value: null }]);
   * ```
   */
  sendBatch(
    messages: Iterable<Message | ProduceRecord>,
    options: SendOptions = {},
  ): Promise<SendResult[]> {
    try {
      const topic = this.#topicFor(options.topic);
      const signal = options.signal;
      let index = 0;
      const items: PendingMessage[] = [];
      for (const message of messages) items.push(this.#prepare(message, index++, signal));
      throwIfAborted(signal);
      this.#batcher.addAll(topic, items, signal);
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
    return this.#batcher.queued;
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
    return this.#batcher.whenRoom();
  }

  /**
   * Sends every queued batch now, including sends still waiting for room, and resolves once all
   * batches sent so far are settled.
   */
  flush(): Promise<void> {
    return this.#batcher.flush();
  }

  /**
   * Makes `topic` the server's default topic (`POST /topic/{topic}`). Messages already queued for
   * the default topic are sent first, so they land where the default pointed when they were sent.
   */
  async setTopic(topic: string, options: { signal?: AbortSignal } = {}): Promise<void> {
    this.#assertOpen();
    checkTopic(topic);
    await this.#batcher.flushTopic(undefined);
    await this.#admin.setTopic(topic, options.signal);
  }

  /** The server's current default topic (`GET /topic`). */
  async getTopic(options: { signal?: AbortSignal } = {}): Promise<string> {
    this.#assertOpen();
    return this.#admin.getTopic(options.signal);
  }

  /**
   * Asks `GET /healthz` and `GET /readyz` once each (no retries). Rejects only when the server
   * cannot be reached.
   */
  async health(options: { signal?: AbortSignal } = {}): Promise<HealthStatus> {
    this.#assertOpen();
    return this.#admin.health(options.signal);
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
    message: Message | ProduceRecord,
    index: number | undefined,
    signal: AbortSignal | undefined,
  ): PendingMessage {
    const item = new PendingMessage(toOutgoing(message, index));
    if (item.payloadBytes > this.#options.maxMessageBytes) {
      throw new KafkaProxyError(
        'message_too_large',
        `${describeWhere(index)} is ${item.payloadBytes} bytes${item.record ? ' as a record' : ''}; the limit is ${this.#options.maxMessageBytes} (maxMessageBytes)`,
      );
    }
    throwIfAborted(signal);
    return item;
  }

  #abortAll(error: KafkaProxyError): void {
    this.#batcher.failAll(error);
    this.#lifetime.abort(error);
    this.#closing ??= this.flush().finally(() => this.#transport.destroy());
  }
}
