import type { Reservation } from './buffer-budget.js';
import { ProxyError } from './errors.js';
import type { Metrics } from './metrics.js';
import type { ProduceBatch, Producer } from './producer.js';

/** Where a request's messages were written: its partition and the offset of its first message. */
export interface Delivery {
  topic: string;
  partition: number;
  baseOffset: string;
}

/** Thresholds: a batch is sent when any one is reached. */
export interface FlusherOptions {
  producer: Producer;
  /** Send once this many messages are buffered. */
  maxMessages: number;
  /** Send once this many payload bytes are buffered. */
  maxBytes: number;
  /** Send this long after the oldest buffered message arrived. */
  lingerMs: number;
  /**
   * Sends that may be in flight at once (default 2). While one waits for Kafka the next is already
   * encoded and queued behind it on the broker connection, so the broker is never left waiting
   * for the proxy between two batches.
   */
  maxInFlight?: number | undefined;
  metrics?: Metrics | undefined;
  /** How long a topic's partition count is trusted before it is looked up again. */
  partitionCountTtlMs?: number;
  now?: () => number;
}

/** A validated request, ready to be buffered. Its reservation is released when it settles. */
export interface FlushRequest {
  topic: string;
  messages: readonly Uint8Array[];
  bytes: number;
  reservation: Reservation;
}

/** A buffered request: `delivered` settles with its batch; `withdraw()` drops it if still queued. */
export interface Ticket {
  readonly partition: number;
  readonly delivered: Promise<Delivery>;
  /** Removes the request from the buffer if it was not sent yet; true when it was removed. */
  withdraw(): boolean;
}

interface Pending {
  request: FlushRequest;
  partition: number;
  resolve(delivery: Delivery): void;
  reject(error: unknown): void;
}

/**
 * The embedded flusher: buffers validated requests from all connections and sends them to Kafka
 * in batches, on count, bytes or linger time, whichever comes first.
 *
 * - A request is never split: its messages go to one partition, in order, in one batch. A request
 *   larger than the thresholds is sent in a batch of its own.
 * - Up to `maxInFlight` sends are in flight at once (2 by default). The Kafka client writes them
 *   to a broker one after the other, in the order they were sent, so a partition's requests keep
 *   their order; while they are in flight the next batch grows, which is where batching comes
 *   from under load.
 * - The partition of a request is picked round-robin over the topic's partitions (count cached),
 *   then sent with an explicit partition, so placement does not depend on a client partitioner.
 *
 * @example
 * const flusher = new Flusher({ producer, maxMessages: 10_000, maxBytes: 1 << 20, lingerMs: 5 });
 * const ticket = await flusher.enqueue({ topic, messages, bytes, reservation });
 * const { partition, baseOffset } = await ticket.delivered;
 */
export class Flusher {
  readonly #options: FlusherOptions;
  readonly #now: () => number;
  readonly #queue: Pending[] = [];
  #queuedMessages = 0;
  #queuedBytes = 0;
  #oldestAt = 0;
  #timer: NodeJS.Timeout | undefined;
  readonly #inFlight = new Set<Promise<void>>();
  readonly #maxInFlight: number;
  #closing = false;
  #eager = false;
  readonly #partitions = new Map<string, { count: number; at: number; next: number }>();
  readonly #lookups = new Map<string, Promise<number>>();

  constructor(options: FlusherOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#maxInFlight = options.maxInFlight ?? 2;
  }

  /** Messages buffered and not yet sent. */
  get bufferedMessages(): number {
    return this.#queuedMessages;
  }

  /**
   * Picks the request's partition and buffers it. Resolves once it is queued (a buffered-mode
   * request can be answered then); `ticket.delivered` settles when Kafka acknowledged its batch.
   * Throws `shutting_down` after {@link close}, `kafka_unavailable` when partitions can't be read.
   */
  async enqueue(request: FlushRequest): Promise<Ticket> {
    if (this.#closing) throw new ProxyError('shutting_down', 'the proxy is shutting down');
    const partition = await this.#pickPartition(request.topic);
    if (this.#closing) throw new ProxyError('shutting_down', 'the proxy is shutting down');
    let pending!: Pending;
    const delivered = new Promise<Delivery>((resolve, reject) => {
      pending = { request, partition, resolve, reject };
    });
    // A caller that only waits for `enqueue` (buffered mode) must not trigger unhandled rejections.
    delivered.catch(() => undefined);
    if (this.#queue.length === 0) this.#oldestAt = this.#now();
    this.#queue.push(pending);
    this.#queuedMessages += request.messages.length;
    this.#queuedBytes += request.bytes;
    this.#updateGauges();
    this.#schedule();
    return {
      partition,
      delivered,
      withdraw: () => {
        const index = this.#queue.indexOf(pending);
        if (index === -1) return false;
        this.#queue.splice(index, 1);
        this.#queuedMessages -= request.messages.length;
        this.#queuedBytes -= request.bytes;
        request.reservation.release();
        this.#updateGauges();
        if (this.#queue.length === 0) this.#clearTimer();
        return true;
      },
    };
  }

  /** Sends everything buffered now and resolves when the buffer is empty and nothing is in flight. */
  async flush(): Promise<void> {
    while (this.#queue.length > 0 || this.#inFlight.size > 0) {
      if (this.#inFlight.size < this.#maxInFlight) this.#sendNext();
      await Promise.race(this.#inFlight);
    }
  }

  /**
   * Stops waiting for the linger time: from now on every request is sent as soon as the previous
   * send finished. Used when shutdown starts, so requests still being answered are not held back.
   */
  expedite(): void {
    this.#eager = true;
    this.#clearTimer();
    this.#schedule();
  }

  /** Refuses new requests, then flushes what is buffered. */
  async close(): Promise<void> {
    this.#closing = true;
    this.#clearTimer();
    await this.flush();
  }

  async #pickPartition(topic: string): Promise<number> {
    const ttl = this.#options.partitionCountTtlMs ?? 60_000;
    let entry = this.#partitions.get(topic);
    if (entry === undefined || this.#now() - entry.at > ttl) {
      let lookup = this.#lookups.get(topic);
      if (lookup === undefined) {
        lookup = this.#options.producer.partitionCount(topic).finally(() => {
          this.#lookups.delete(topic);
        });
        this.#lookups.set(topic, lookup);
      }
      const count = await lookup;
      if (!Number.isInteger(count) || count < 1) {
        throw new ProxyError(
          'kafka_unavailable',
          `Kafka reports no partitions for topic "${topic}"`,
        );
      }
      const previous = this.#partitions.get(topic);
      entry = { count, at: this.#now(), next: previous?.next ?? Math.floor(Math.random() * count) };
      this.#partitions.set(topic, entry);
    }
    const partition = entry.next % entry.count;
    entry.next = (partition + 1) % entry.count;
    return partition;
  }

  #schedule(): void {
    if (this.#inFlight.size >= this.#maxInFlight || this.#queue.length === 0) return;
    const { maxMessages, maxBytes, lingerMs } = this.#options;
    if (
      this.#queuedMessages >= maxMessages ||
      this.#queuedBytes >= maxBytes ||
      this.#closing ||
      this.#eager
    ) {
      this.#sendNext();
      return;
    }
    if (this.#timer === undefined) {
      const wait = Math.max(0, this.#oldestAt + lingerMs - this.#now());
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        if (this.#inFlight.size < this.#maxInFlight) this.#sendNext();
      }, wait);
    }
  }

  #clearTimer(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** Takes whole requests from the head of the queue up to the thresholds and sends them. */
  #sendNext(): void {
    this.#clearTimer();
    if (this.#queue.length === 0) return;
    const { maxMessages, maxBytes } = this.#options;
    const taken: Pending[] = [];
    let messages = 0;
    let bytes = 0;
    for (const pending of this.#queue) {
      const n = pending.request.messages.length;
      const b = pending.request.bytes;
      if (taken.length > 0 && (messages + n > maxMessages || bytes + b > maxBytes)) break;
      taken.push(pending);
      messages += n;
      bytes += b;
    }
    this.#queue.splice(0, taken.length);
    this.#queuedMessages -= messages;
    this.#queuedBytes -= bytes;
    if (this.#queue.length > 0) this.#oldestAt = this.#now();
    this.#updateGauges();

    // One ProduceBatch per topic-partition; each request remembers where its messages start.
    const batches: ProduceBatch[] = [];
    const byKey = new Map<string, { index: number; messages: Uint8Array[] }>();
    const placement: { pending: Pending; batchIndex: number; first: number }[] = [];
    for (const pending of taken) {
      const key = `${pending.request.topic}\u0000${pending.partition}`;
      let slot = byKey.get(key);
      if (slot === undefined) {
        slot = { index: batches.length, messages: [] };
        byKey.set(key, slot);
        batches.push({
          topic: pending.request.topic,
          partition: pending.partition,
          messages: slot.messages,
        });
      }
      placement.push({ pending, batchIndex: slot.index, first: slot.messages.length });
      // A loop, not push(...spread): a request may hold more messages than the engine has stack.
      for (const message of pending.request.messages) slot.messages.push(message);
    }

    const metrics = this.#options.metrics;
    metrics?.batchMessages.observe(messages);
    metrics?.batchBytes.observe(bytes);
    const stopTimer = metrics?.flushDuration.startTimer();
    const sent: Promise<void> = this.#options.producer
      .send(batches)
      .then(
        (results) => {
          // Counted per topic and batch, not per request: a label lookup each is not free.
          const out = new Map<string, { messages: number; bytes: number }>();
          for (const { pending, batchIndex, first } of placement) {
            const result = results[batchIndex];
            if (result === undefined) {
              pending.reject(new ProxyError('internal', 'Kafka returned no result for a batch'));
              continue;
            }
            const { topic } = pending.request;
            const counted = out.get(topic) ?? { messages: 0, bytes: 0 };
            counted.messages += pending.request.messages.length;
            counted.bytes += pending.request.bytes;
            out.set(topic, counted);
            pending.resolve({
              topic,
              partition: result.partition,
              baseOffset: (BigInt(result.baseOffset) + BigInt(first)).toString(),
            });
          }
          for (const [topic, counted] of out) {
            metrics?.messagesOut.inc({ topic }, counted.messages);
            metrics?.bytesOut.inc({ topic }, counted.bytes);
          }
        },
        (error: unknown) => {
          const code = error instanceof ProxyError ? error.code : 'internal';
          metrics?.kafkaErrors.inc({ code });
          for (const { pending } of placement) pending.reject(error);
        },
      )
      .finally(() => {
        stopTimer?.();
        for (const { pending } of placement) pending.request.reservation.release();
        this.#inFlight.delete(sent);
        this.#schedule();
      });
    this.#inFlight.add(sent);
  }

  #updateGauges(): void {
    this.#options.metrics?.bufferedMessages.set(this.#queuedMessages);
    this.#options.metrics?.bufferedBytes.set(this.#queuedBytes);
  }
}
