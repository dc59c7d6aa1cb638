import type { PendingMessage } from './batch.js';
import type { KafkaProxyError } from './errors.js';

/** A send (or a `sendBatch` request) waiting for room in the client's queue. */
export class Waiter {
  state: 'waiting' | 'admitted' | 'cancelled' = 'waiting';

  constructor(
    /** The messages it waits for: one for a send, one request's worth for a `sendBatch`. */
    readonly items: readonly PendingMessage[],
    /** Their framed bytes. */
    readonly bytes: number,
    /** Called once room has been taken for it: it joins a batch. */
    readonly admit: () => void,
  ) {
    for (const item of items) item.holder = this;
  }

  get messages(): number {
    return this.items.length;
  }

  /** The client gives up on it (the client's own signal was aborted). */
  fail(error: KafkaProxyError): void {
    for (const item of this.items) item.reject(error);
  }
}

/**
 * Bounds the framed bytes and the messages a client holds in batches, queued or in flight.
 * Waiters are let in strictly first come, first served: a small send never overtakes a large one
 * that waits, so the order of sends to a topic is the order they were made in.
 */
export class Room {
  #bytes = 0;
  #messages = 0;
  /** The waiting line; `#head` is the first entry still of interest (cheap dequeue). */
  #line: Waiter[] = [];
  #head = 0;
  #waiting = 0;
  #roomWaiters: (() => void)[] = [];

  constructor(
    readonly maxBytes: number,
    readonly maxMessages: number,
  ) {}

  /** How many sends (or `sendBatch` requests) wait for room. */
  get waiting(): number {
    return this.#waiting;
  }

  /** Framed bytes held in batches, queued or in flight. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Messages held in batches, queued or in flight. */
  get messages(): number {
    return this.#messages;
  }

  /** The last waiter in line, if any. */
  get last(): Waiter | undefined {
    for (let i = this.#line.length - 1; i >= this.#head; i--) {
      const waiter = this.#line[i];
      if (waiter?.state === 'waiting') return waiter;
    }
    return undefined;
  }

  /** Takes room now if nobody is waiting and it fits; otherwise takes nothing. */
  tryTake(bytes: number, messages: number): boolean {
    if (this.#waiting > 0 || !this.#fits(bytes, messages)) return false;
    this.#bytes += bytes;
    this.#messages += messages;
    return true;
  }

  /** Puts a waiter at the end of the line. */
  wait(waiter: Waiter): void {
    this.#line.push(waiter);
    this.#waiting++;
  }

  /** Takes a waiter out of line; `false` if it was no longer waiting. */
  cancel(waiter: Waiter): boolean {
    if (waiter.state !== 'waiting') return false;
    waiter.state = 'cancelled';
    this.#waiting--;
    // Whoever stood behind it may fit now.
    this.#drain();
    return true;
  }

  /** Gives back room (a batch settled, or a queued message was taken out) and lets waiters in. */
  release(bytes: number, messages: number): void {
    this.#bytes -= bytes;
    this.#messages -= messages;
    this.#drain();
  }

  /** Resolves once nobody waits and there is room for at least one more message. */
  whenRoom(): Promise<void> {
    if (this.#hasRoom()) return Promise.resolve();
    return new Promise((resolve) => this.#roomWaiters.push(resolve));
  }

  /** Empties the line without admitting anyone: the client is being torn down. */
  clear(): Waiter[] {
    const left = this.#line.slice(this.#head).filter((w) => w.state === 'waiting');
    for (const waiter of left) waiter.state = 'cancelled';
    this.#line = [];
    this.#head = 0;
    this.#waiting = 0;
    this.#wakeRoomWaiters(true);
    return left;
  }

  #fits(bytes: number, messages: number): boolean {
    return this.#bytes + bytes <= this.maxBytes && this.#messages + messages <= this.maxMessages;
  }

  #hasRoom(): boolean {
    return this.#waiting === 0 && this.#bytes < this.maxBytes && this.#messages < this.maxMessages;
  }

  #drain(): void {
    while (this.#head < this.#line.length) {
      const waiter = this.#line[this.#head];
      if (waiter === undefined) break;
      if (waiter.state === 'waiting') {
        if (!this.#fits(waiter.bytes, waiter.messages)) break;
        waiter.state = 'admitted';
        this.#waiting--;
        this.#bytes += waiter.bytes;
        this.#messages += waiter.messages;
        this.#head++;
        waiter.admit();
      } else {
        this.#head++;
      }
    }
    if (this.#head > 1024 && this.#head * 2 > this.#line.length) {
      this.#line = this.#line.slice(this.#head);
      this.#head = 0;
    }
    this.#wakeRoomWaiters(false);
  }

  #wakeRoomWaiters(always: boolean): void {
    if (this.#roomWaiters.length === 0 || (!always && !this.#hasRoom())) return;
    const waiters = this.#roomWaiters;
    this.#roomWaiters = [];
    for (const resolve of waiters) resolve();
  }
}
