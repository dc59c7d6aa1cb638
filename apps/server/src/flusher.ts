import type { Reservation } from './buffer-budget.js';
import { withDeadline } from './deadline.js';
import { ProxyError } from './errors.js';
import type { Metrics } from './metrics.js';
import type { Message, ProduceBatch, Producer } from './producer.js';

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
  /** First and longest wait before a batch that failed retriably is sent again. */
  retryDelayMs?: { min: number; max: number };
  now?: () => number;
}

/** A validated request, ready to be buffered. Its reservation is released when it settles. */
export interface FlushRequest {
  topic: string;
  messages: readonly Message[];
  bytes: number;
  reservation: Reservation;
  /**
   * The partition its messages go to, when the request says (a key's or an explicit one, checked
   * against {@link Flusher.partitionCount}); otherwise the flusher picks one round-robin.
   */
  partition?: number | undefined;
  /**
   * Called once every message of the request is in Kafka, after its waiter was answered (never
   * when it failed or was dropped). Nothing reads the messages' bytes after it: the caller may
   * free them.
   */
  written?: (() => void) | undefined;
}

/** How long a request may wait for Kafka. */
export interface EnqueueOptions {
  /**
   * Milliseconds from now within which the request must be sent to Kafka (durable mode). Past
   * it a request never sent is dropped and `delivered` rejects with `ack_timeout`: truthfully,
   * nothing of it is in Kafka. A request already sent once is not answered then: Kafka may have
   * written it, so it is sent (again) until Kafka acknowledges it, and answered by that outcome,
   * never by a guess. Without it the request is retried until it is written (buffered mode).
   */
  ackTimeoutMs?: number | undefined;
}

/** A buffered request: `delivered` settles once Kafka acknowledged it, or it was given up. */
export interface Ticket {
  readonly partition: number;
  readonly delivered: Promise<Delivery>;
}

/** What is still buffered or in flight: what a shutdown that runs out of time would drop. */
export interface Unsent {
  requests: number;
  messages: number;
  bytes: number;
  topics: Record<string, number>;
}

interface Pending {
  request: FlushRequest;
  partition: number;
  /** Settled: delivered, failed or timed out; nothing more happens to it. */
  settled: boolean;
  /** Sent to Kafka at least once: from then on only Kafka's answer settles it. */
  sent: boolean;
  timer: NodeJS.Timeout | undefined;
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
 * - A batch is settled per partition: requests whose partition was written are delivered even
 *   when another partition of the same send failed. Requests that failed retriably (Kafka
 *   unreachable, a request timed out) go back to the head of the queue and are sent again after
 *   a backoff, until they are written: a failed attempt may still have been written, so only
 *   Kafka's answer settles a request once sent (the ack timeout drops only requests never
 *   sent). Only a non-retriable failure (the broker refuses the records) rejects them.
 * - The partition of a request is picked round-robin over the topic's partitions (count cached),
 *   then sent with an explicit partition, so placement does not depend on a client partitioner.
 *
 * @example
 * const flusher = new Flusher({ producer, maxMessages: 10_000, maxBytes: 1 << 20, lingerMs: 5 });
 * const ticket = await flusher.enqueue({ topic, messages, bytes, reservation }, { ackTimeoutMs: 10_000 });
 * const { partition, baseOffset } = await ticket.delivered;
 */
export class Flusher {
  readonly #options: FlusherOptions;
  readonly #now: () => number;
  #queue: Pending[] = [];
  #queuedMessages = 0;
  #queuedBytes = 0;
  #oldestAt = 0;
  #timer: NodeJS.Timeout | undefined;
  readonly #inFlight = new Map<Promise<void>, Pending[]>();
  readonly #maxInFlight: number;
  #closing = false;
  #eager = false;
  /** Consecutive sends that failed retriably: the backoff grows with it. */
  #failures = 0;
  #retryAt = 0;
  readonly #partitions = new Map<string, { count: number; at: number; next: number }>();
  readonly #lookups = new Map<string, Promise<number>>();

  constructor(options: FlusherOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#maxInFlight = options.maxInFlight ?? 2;
  }

  /**
   * Picks the request's partition and buffers it. Resolves once it is queued (a buffered-mode
   * request can be answered then); `ticket.delivered` settles when Kafka acknowledged it.
   * Throws `shutting_down` after {@link close}, `kafka_unavailable` when partitions can't be
   * read, `ack_timeout` when not even that happened within the ack timeout. From this call on
   * the request's reservation is the flusher's: released when the request is refused here, or
   * once it settled.
   */
  async enqueue(request: FlushRequest, options: EnqueueOptions = {}): Promise<Ticket> {
    const { ackTimeoutMs } = options;
    const started = this.#now();
    let partition: number;
    try {
      if (this.#closing) throw shuttingDown();
      if (request.partition !== undefined) partition = request.partition;
      else {
        const pick = this.#partitionCount(request.topic).then((count) =>
          this.#next(request.topic, count),
        );
        partition =
          ackTimeoutMs === undefined
            ? await pick
            : await withDeadline(pick, ackTimeoutMs, () => ackTimeout(ackTimeoutMs));
      }
      if (this.#closing) throw shuttingDown();
    } catch (error) {
      request.reservation.release();
      throw error;
    }
    let pending!: Pending;
    const delivered = new Promise<Delivery>((resolve, reject) => {
      pending = {
        request,
        partition,
        settled: false,
        sent: false,
        timer: undefined,
        resolve,
        reject,
      };
    });
    // A caller that only waits for `enqueue` (buffered mode) must not trigger unhandled rejections.
    delivered.catch(() => undefined);
    if (ackTimeoutMs !== undefined) {
      const left = Math.max(0, ackTimeoutMs - (this.#now() - started));
      pending.timer = setTimeout(() => this.#timeOut(pending, ackTimeoutMs), left);
    }
    if (this.#queue.length === 0) this.#oldestAt = this.#now();
    this.#queue.push(pending);
    this.#queuedMessages += request.messages.length;
    this.#queuedBytes += request.bytes;
    this.#updateGauges();
    this.#schedule();
    return { partition, delivered };
  }

  /** Sends everything buffered now and resolves when the buffer is empty and nothing is in flight. */
  async flush(): Promise<void> {
    this.#eager = true;
    while (this.#queue.length > 0 || this.#inFlight.size > 0) {
      this.#schedule();
      const waits: Promise<unknown>[] = [...this.#inFlight.keys()];
      // A backoff before a retry leaves nothing in flight for a while: wait for it to pass.
      if (waits.length === 0) waits.push(sleep(Math.max(1, this.#retryAt - this.#now())));
      await Promise.race(waits);
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

  /** Refuses new requests, then flushes what is buffered (retrying it while Kafka is away). */
  async close(): Promise<void> {
    this.#closing = true;
    this.#clearTimer();
    await this.flush();
  }

  /** Requests buffered or in flight now, with their messages and bytes, by topic. */
  unsent(): Unsent {
    const unsent: Unsent = { requests: 0, messages: 0, bytes: 0, topics: {} };
    const count = (pending: Pending): void => {
      if (pending.settled) return;
      const { topic, messages, bytes } = pending.request;
      unsent.requests += 1;
      unsent.messages += messages.length;
      unsent.bytes += bytes;
      unsent.topics[topic] = (unsent.topics[topic] ?? 0) + messages.length;
    };
    this.#queue.forEach(count);
    for (const sent of this.#inFlight.values()) sent.forEach(count);
    return unsent;
  }

  /**
   * The number of partitions of `topic`, as Kafka last reported it (looked up again once older
   * than the partition-count TTL). Throws `kafka_unavailable` when Kafka can't say.
   */
  partitionCount(topic: string): Promise<number> {
    return this.#partitionCount(topic);
  }

  async #partitionCount(topic: string): Promise<number> {
    const ttl = this.#options.partitionCountTtlMs ?? 60_000;
    const entry = this.#partitions.get(topic);
    if (entry !== undefined && this.#now() - entry.at <= ttl) return entry.count;
    let lookup = this.#lookups.get(topic);
    if (lookup === undefined) {
      lookup = this.#options.producer.partitionCount(topic).finally(() => {
        this.#lookups.delete(topic);
      });
      this.#lookups.set(topic, lookup);
    }
    const count = await lookup;
    if (!Number.isInteger(count) || count < 1) {
      throw new ProxyError('kafka_unavailable', `Kafka reports no partitions for topic "${topic}"`);
    }
    const previous = this.#partitions.get(topic);
    this.#partitions.set(topic, {
      count,
      at: this.#now(),
      next: previous?.next ?? Math.floor(Math.random() * count),
    });
    return count;
  }

  /** The next partition round-robin over `count` partitions of `topic`. */
  #next(topic: string, count: number): number {
    const entry = this.#partitions.get(topic) ?? { count, at: this.#now(), next: 0 };
    const partition = entry.next % count;
    entry.next = (partition + 1) % count;
    this.#partitions.set(topic, entry);
    return partition;
  }

  /**
   * The partition round-robin would give the next request to `topic`, taken as if a request had
   * been enqueued there (for a request whose messages go to several partitions).
   */
  async nextPartition(topic: string): Promise<number> {
    return this.#next(topic, await this.#partitionCount(topic));
  }

  /**
   * The ack timeout passed. A request never sent is dropped and answered 503: nothing of it can
   * be in Kafka. One already sent (in flight, or queued again after a failed attempt) may have
   * been written, so it is left to Kafka's answer: a 503 now could be a lie.
   */
  #timeOut(pending: Pending, ackTimeoutMs: number): void {
    if (pending.settled || pending.sent) return;
    const index = this.#queue.indexOf(pending);
    if (index !== -1) {
      this.#queue.splice(index, 1);
      this.#queuedMessages -= pending.request.messages.length;
      this.#queuedBytes -= pending.request.bytes;
      this.#updateGauges();
      if (this.#queue.length === 0) this.#clearTimer();
    }
    this.#settle(pending, { error: ackTimeout(ackTimeoutMs) });
    pending.request.reservation.release();
  }

  /** Answers the request's waiter, once; its bytes are released where it leaves the flusher. */
  #settle(pending: Pending, outcome: { delivery: Delivery } | { error: unknown }): void {
    if (pending.settled) return;
    pending.settled = true;
    clearTimeout(pending.timer);
    if ('delivery' in outcome) pending.resolve(outcome.delivery);
    else pending.reject(outcome.error);
  }

  #schedule(): void {
    if (this.#inFlight.size >= this.#maxInFlight || this.#queue.length === 0) return;
    const now = this.#now();
    if (now < this.#retryAt) {
      this.#armTimer(this.#retryAt - now);
      return;
    }
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
    this.#armTimer(this.#oldestAt + lingerMs - now);
  }

  #armTimer(wait: number): void {
    if (this.#timer !== undefined) return;
    this.#timer = setTimeout(
      () => {
        this.#timer = undefined;
        if (this.#now() < this.#retryAt) this.#schedule();
        else if (this.#inFlight.size < this.#maxInFlight) this.#sendNext();
      },
      Math.max(0, wait),
    );
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
    for (const pending of taken) pending.sent = true;
    this.#queuedMessages -= messages;
    this.#queuedBytes -= bytes;
    if (this.#queue.length > 0) this.#oldestAt = this.#now();
    this.#updateGauges();

    // One ProduceBatch per topic-partition; each request remembers where its messages start.
    const batches: ProduceBatch[] = [];
    const byKey = new Map<string, { index: number; messages: Message[] }>();
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
        (outcomes) => {
          stopTimer?.();
          // Counted per topic and batch, not per request: a label lookup each is not free.
          const out = new Map<string, { messages: number; bytes: number }>();
          const retry: Pending[] = [];
          const failed = new Set<number>();
          for (const { pending, batchIndex, first } of placement) {
            const outcome = outcomes[batchIndex] ?? {
              error: new ProxyError('internal', 'Kafka returned no outcome for a batch'),
            };
            if ('error' in outcome) {
              if (!failed.has(batchIndex)) {
                failed.add(batchIndex);
                metrics?.kafkaErrors.inc({ code: errorCode(outcome.error) });
              }
              if (isRetriable(outcome.error) && !pending.settled) {
                retry.push(pending);
              } else {
                this.#settle(pending, { error: outcome.error });
                pending.request.reservation.release();
              }
              continue;
            }
            const { topic, partition, baseOffset } = outcome.result;
            const counted = out.get(topic) ?? { messages: 0, bytes: 0 };
            counted.messages += pending.request.messages.length;
            counted.bytes += pending.request.bytes;
            out.set(topic, counted);
            const offset = (BigInt(baseOffset) + BigInt(first)).toString();
            this.#settle(pending, { delivery: { topic, partition, baseOffset: offset } });
            pending.request.reservation.release();
            pending.request.written?.();
          }
          for (const [topic, counted] of out) {
            metrics?.messagesOut.inc({ topic }, counted.messages);
            metrics?.bytesOut.inc({ topic }, counted.bytes);
          }
          this.#afterSend(retry, failed.size === 0);
        },
        (error: unknown) => {
          // Producer.send never rejects; should one, its requests are failed, not lost silently.
          stopTimer?.();
          for (const { pending } of placement) {
            this.#settle(pending, { error });
            pending.request.reservation.release();
          }
        },
      )
      .finally(() => {
        this.#inFlight.delete(sent);
        this.#schedule();
      });
    this.#inFlight.set(
      sent,
      placement.map((p) => p.pending),
    );
  }

  /** Puts retriable failures back at the head of the queue, in order, behind a backoff. */
  #afterSend(retry: Pending[], succeeded: boolean): void {
    if (succeeded) {
      this.#failures = 0;
      return;
    }
    if (retry.length === 0) return;
    this.#failures += 1;
    const { min, max } = this.#options.retryDelayMs ?? { min: 100, max: 2_000 };
    const delay = Math.min(max, min * 2 ** Math.min(this.#failures - 1, 10));
    this.#retryAt = Math.max(this.#retryAt, this.#now() + delay);
    this.#clearTimer();
    this.#queue = [...retry, ...this.#queue];
    for (const pending of retry) {
      this.#queuedMessages += pending.request.messages.length;
      this.#queuedBytes += pending.request.bytes;
    }
    this.#oldestAt = this.#now();
    this.#updateGauges();
  }

  #updateGauges(): void {
    this.#options.metrics?.bufferedMessages.set(this.#queuedMessages);
    this.#options.metrics?.bufferedBytes.set(this.#queuedBytes);
  }
}

function shuttingDown(): ProxyError {
  return new ProxyError('shutting_down', 'the proxy is shutting down');
}

/** The `ack_timeout` (503) of a request Kafka did not acknowledge within `ms`. */
export function ackTimeout(ms: number): ProxyError {
  return new ProxyError(
    'ack_timeout',
    `Kafka did not acknowledge the messages within ${ms} ms of their arrival (KAFKA_PROXY_ACK_TIMEOUT); retry later`,
  );
}

const isRetriable = (error: unknown): boolean => error instanceof ProxyError && error.retriable;
const errorCode = (error: unknown): string =>
  error instanceof ProxyError ? error.code : 'internal';
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
