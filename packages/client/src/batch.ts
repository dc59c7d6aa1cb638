import { FRAME_HEADER_BYTES } from '@kproxy/framing';
import type { KafkaProxyError } from './errors.js';
import type { Waiter } from './room.js';

/** Where one message landed. `partition` and `offset` are known in durable mode only. */
export interface SendResult {
  /** The topic the server reports (or the one asked for, if it reports none). */
  topic: string | undefined;
  partition: number | undefined;
  /** Kafka offset of this message, as a decimal string (offsets are 64-bit). */
  offset: string | undefined;
  /** `true` when the server answered 200 (in Kafka), `false` for 202 (queued, buffered mode). */
  durable: boolean;
}

/** One message of a `send` or `sendBatch`, from the call until its promise settles. */
export class PendingMessage {
  settled = false;
  /** What holds it now: its place in line for room, then its batch. */
  holder: Waiter | Batch | undefined;
  /** Runs once when it settles, however it settles. */
  onSettled: (() => void) | undefined;
  readonly promise: Promise<SendResult>;
  #resolve!: (result: SendResult) => void;
  #reject!: (error: KafkaProxyError) => void;

  constructor(readonly bytes: Uint8Array) {
    this.promise = new Promise<SendResult>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
  }

  /** Framed size: the frame header plus the payload. */
  get framedBytes(): number {
    return FRAME_HEADER_BYTES + this.bytes.length;
  }

  resolve(result: SendResult): void {
    if (this.settled) return;
    this.settled = true;
    this.#resolve(result);
    this.onSettled?.();
  }

  reject(error: KafkaProxyError): void {
    if (this.settled) return;
    this.settled = true;
    this.#reject(error);
    this.onSettled?.();
  }
}

/** Messages going into one request to one topic (`undefined`: the server's default topic). */
export class Batch {
  readonly items: PendingMessage[] = [];
  bodyBytes = 0;
  timer: ReturnType<typeof setTimeout> | undefined;
  /** Set once its request is made: from then on a message can no longer be taken out. */
  sent = false;
  /** HTTP attempts made for its request so far. */
  attempts = 0;
  /** Cancels its request: nobody waits for any of its messages any more. */
  readonly cancel = new AbortController();
  readonly done: Promise<void>;
  finish!: () => void;

  constructor(readonly topic: string | undefined) {
    this.done = new Promise((resolve) => (this.finish = resolve));
  }

  fits(bytes: number, maxMessages: number, maxBytes: number): boolean {
    return (
      this.items.length < maxMessages && this.bodyBytes + FRAME_HEADER_BYTES + bytes <= maxBytes
    );
  }

  add(item: PendingMessage): void {
    this.items.push(item);
    this.bodyBytes += item.framedBytes;
    item.holder = this;
  }

  /** Takes a message out; `false` if it was not in this batch. */
  remove(item: PendingMessage): boolean {
    const i = this.items.indexOf(item);
    if (i < 0) return false;
    this.items.splice(i, 1);
    this.bodyBytes -= item.framedBytes;
    return true;
  }

  isFull(maxMessages: number, maxBytes: number): boolean {
    return this.items.length >= maxMessages || this.bodyBytes + FRAME_HEADER_BYTES > maxBytes;
  }
}
