// Client-side batching: each message joins the open batch of its topic (and of its partition, if
// it names one), which is cut at `maxMessages` or `maxBytes`, or `lingerMs` after its first
// message; the queue bound admits messages (or makes them wait, or refuses them); cut batches go
// out `maxInFlight` at a time, except that a batch never overtakes an earlier one of its topic
// that holds one of its keys (see `#mustWait`).
import { Aborts } from './abort.js';
import { Batch, type PendingMessage } from './batch.js';
import { KafkaProxyError } from './errors.js';
import type { ResolvedOptions } from './options.js';
import { Room, Waiter } from './room.js';

/** Where open batches are kept: one per topic, and one per (topic, partition) named by a send. */
function laneOf(topic: string | undefined, partition: number | undefined): string {
  // A topic name never holds '/', so this cannot mix up two lanes.
  return `${topic ?? ''}/${partition ?? ''}`;
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

export type BatchLimits = Pick<
  ResolvedOptions,
  | 'maxMessages'
  | 'maxBytes'
  | 'lingerMs'
  | 'maxInFlight'
  | 'maxQueuedBytes'
  | 'maxQueuedMessages'
  | 'onFull'
>;

/**
 * Holds a client's messages from `send` or `sendBatch` until their batch is sent, and hands each
 * cut batch to `dispatch`, which sends it and settles its messages (and never rejects).
 *
 * @example
 * ```ts
 * const batcher = new Batcher(options, (batch) => produce(batch, context));
 * batcher.add('events', new PendingMessage(toOutgoing(bytes)), signal);
 * ```
 */
export class Batcher {
  readonly #limits: BatchLimits;
  readonly #dispatch: (batch: Batch) => Promise<void>;
  readonly #room: Room;
  readonly #aborts = new Aborts((item, error) => this.#withdraw(item, error));
  readonly #open = new Map<string, Batch>();
  readonly #queue: Batch[] = [];
  readonly #unsettled = new Set<Batch>();
  readonly #inFlight = new Set<Batch>();

  constructor(limits: BatchLimits, dispatch: (batch: Batch) => Promise<void>) {
    this.#limits = limits;
    this.#dispatch = dispatch;
    this.#room = new Room(limits.maxQueuedBytes, limits.maxQueuedMessages);
  }

  get queued(): QueueStatus {
    return { bytes: this.#room.bytes, messages: this.#room.messages, waiting: this.#room.waiting };
  }

  /** Resolves once nobody waits for room and another message fits. */
  whenRoom(): Promise<void> {
    return this.#room.whenRoom();
  }

  /** Queues one message of a `send`, once there is room for it; throws `queue_full` if refused. */
  add(topic: string | undefined, item: PendingMessage, signal: AbortSignal | undefined): void {
    if (this.#room.tryTake(item.framedBytes, 1)) this.#enqueue(topic, item);
    else if (this.#limits.onFull === 'reject') throw this.#queueFull();
    else this.#room.wait(new Waiter([item], item.framedBytes, () => this.#enqueue(topic, item)));
    this.#aborts.watch(signal, [item]);
  }

  /**
   * Sends the messages of a `sendBatch` now, after what is queued for their topic, as few
   * requests as the limits allow; each request waits for room for all of it. A request that is
   * refused rejects its messages with `queue_full`, and so do the ones after it.
   */
  addAll(
    topic: string | undefined,
    items: readonly PendingMessage[],
    signal: AbortSignal | undefined,
  ): void {
    this.#cutTopic(topic);
    const chunks: Batch[] = [];
    const current = new Map<string, Batch>();
    for (const item of items) {
      const lane = laneOf(topic, item.partition);
      // A later message of this key must not ride in an earlier request of another partition.
      if (item.key !== undefined) {
        for (const [other, chunk] of current) {
          if (other !== lane && chunk.keys.has(item.key)) current.delete(other);
        }
      }
      let chunk = current.get(lane);
      if (!chunk?.fits(item, this.#limits.maxMessages, this.#limits.maxBytes)) {
        chunk = new Batch(topic, item.partition);
        chunks.push(chunk);
        current.set(lane, chunk);
      }
      chunk.add(item);
    }
    // Once one request is refused, later ones are too, so none overtakes it.
    let refused = false;
    for (const chunk of chunks) refused = !this.#admitChunk(chunk, refused);
    this.#aborts.watch(signal, items);
  }

  /** Sends every batch, waiters included, and resolves once all batches sent so far settle. */
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

  /** Sends what is queued for `topic` and resolves once every batch to it so far settles. */
  async flushTopic(topic: string | undefined): Promise<void> {
    this.#cutTopic(topic);
    const batches = [...this.#unsettled].filter((b) => b.topic === topic);
    await Promise.all(batches.map((b) => b.done));
  }

  /** Rejects every message not sent yet with `error`: the client is being torn down. */
  failAll(error: KafkaProxyError): void {
    for (const waiter of this.#room.clear()) waiter.fail(error);
    for (const batch of [...this.#open.values(), ...this.#queue]) {
      clearTimeout(batch.timer);
      for (const item of batch.items) item.reject(error);
    }
  }

  #enqueue(topic: string | undefined, item: PendingMessage): void {
    const { maxMessages, maxBytes, lingerMs } = this.#limits;
    const lane = laneOf(topic, item.partition);
    // An open batch of another partition holding this key goes first: it is queued before this
    // message's batch, so the pump keeps the key's order.
    if (item.key !== undefined) {
      for (const [other, open] of this.#open) {
        if (other !== lane && open.topic === topic && open.keys.has(item.key)) this.#cut(open);
      }
    }
    let batch = this.#open.get(lane);
    if (batch && !batch.fits(item, maxMessages, maxBytes)) {
      this.#cut(batch);
      batch = undefined;
    }
    if (!batch) {
      const lingering = new Batch(topic, item.partition);
      this.#unsettled.add(lingering);
      this.#open.set(lane, lingering);
      lingering.timer = setTimeout(() => this.#cut(lingering), lingerMs);
      batch = lingering;
    }
    batch.add(item);
    if (batch.isFull(maxMessages, maxBytes)) this.#cut(batch);
  }

  /** Sends one request of a `sendBatch` once there is room for all of it; `false` if refused. */
  #admitChunk(chunk: Batch, refuse: boolean): boolean {
    const send = (): void => {
      for (const item of chunk.items) item.holder = chunk;
      this.#unsettled.add(chunk);
      this.#ready(chunk);
    };
    if (!refuse && this.#room.tryTake(chunk.heldBytes, chunk.items.length)) {
      send();
      return true;
    }
    if (refuse || this.#limits.onFull === 'reject') {
      const error = this.#queueFull();
      for (const item of chunk.items) item.reject(error);
      return false;
    }
    this.#room.wait(new Waiter(chunk.items, chunk.heldBytes, send));
    return true;
  }

  #queueFull(): KafkaProxyError {
    const { maxQueuedBytes, maxQueuedMessages } = this.#limits;
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

  /** Cuts every open batch of `topic`, whatever its partition. */
  #cutTopic(topic: string | undefined): void {
    for (const batch of [...this.#open.values()]) if (batch.topic === topic) this.#cut(batch);
  }

  /** Closes an open batch to new messages and queues it for sending. */
  #cut(batch: Batch): void {
    clearTimeout(batch.timer);
    const lane = laneOf(batch.topic, batch.partition);
    if (this.#open.get(lane) === batch) this.#open.delete(lane);
    this.#ready(batch);
  }

  #ready(batch: Batch): void {
    this.#queue.push(batch);
    this.#pump();
  }

  /**
   * Sends queued batches in the order they were cut, `maxInFlight` at a time. A batch with keys
   * waits while an earlier batch of its topic holding one of its keys is queued or in flight
   * (retries included), so a key's messages reach Kafka in the order they were sent; batches
   * without a shared key go past it.
   */
  #pump(): void {
    // Keys of the batches left waiting in this pass, per topic: those behind must not pass them.
    const waiting = new Map<string | undefined, Set<string>>();
    for (let i = 0; i < this.#queue.length && this.#inFlight.size < this.#limits.maxInFlight;) {
      const batch = this.#queue[i] as Batch;
      if (this.#mustWait(batch, waiting.get(batch.topic))) {
        const keys = waiting.get(batch.topic) ?? new Set<string>();
        for (const key of batch.keys) keys.add(key);
        waiting.set(batch.topic, keys);
        i++;
        continue;
      }
      this.#queue.splice(i, 1);
      this.#inFlight.add(batch);
      batch.sent = true;
      void this.#dispatch(batch).finally(() => {
        this.#inFlight.delete(batch);
        this.#unsettled.delete(batch);
        this.#room.release(batch.heldBytes, batch.items.length);
        batch.finish();
        this.#pump();
      });
    }
  }

  #mustWait(batch: Batch, waitingKeys: ReadonlySet<string> | undefined): boolean {
    if (batch.keys.size === 0) return false;
    if (waitingKeys && batch.sharesKeyWith(waitingKeys)) return true;
    for (const other of this.#inFlight) {
      if (other.topic === batch.topic && other.sharesKeyWith(batch.keys)) return true;
    }
    return false;
  }
}
