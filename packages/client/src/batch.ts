import { FRAME_HEADER_BYTES, recordSize, type ProxyRecord } from '@kproxy/framing';
import type { KafkaProxyError } from './errors.js';
import type { Outgoing } from './record.js';

/** What a record costs besides its value when a plain message travels in a records body. */
const BARE_RECORD_BYTES = recordSize({ key: null, value: null, headers: [], timestamp: null });
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

  /** The value as a framed body carries it. */
  readonly bytes: Uint8Array;
  /** Set when it needs a records body (a key, headers, a timestamp or a null value). */
  readonly record: ProxyRecord | undefined;
  /** The partition it was sent to explicitly, if any. */
  readonly partition: number | undefined;
  /** Its key as text of one character per byte, to compare keys cheaply; undefined: no key. */
  readonly key: string | undefined;
  /** Its payload as a records body carries it (a plain value becomes a record without a key). */
  readonly recordBytes: number;

  constructor(outgoing: Outgoing) {
    this.bytes = outgoing.bytes;
    this.record = outgoing.record;
    this.partition = outgoing.partition;
    const key = outgoing.record?.key;
    this.key = key
      ? Buffer.from(key.buffer, key.byteOffset, key.length).toString('latin1')
      : undefined;
    this.recordBytes = outgoing.record
      ? recordSize(outgoing.record)
      : BARE_RECORD_BYTES + this.bytes.length;
    this.promise = new Promise<SendResult>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
  }

  /** The size of its payload: as a record if it needs one, else as a plain value. */
  get payloadBytes(): number {
    return this.record ? this.recordBytes : this.bytes.length;
  }

  /** Framed size, the room it takes in the queue: the frame header plus the payload. */
  get framedBytes(): number {
    return FRAME_HEADER_BYTES + this.payloadBytes;
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

/**
 * Messages going into one request to one topic (`undefined`: the server's default topic), and to
 * one `partition` when they name it. The body is a records body as soon as one message needs it,
 * else the original framed body.
 */
export class Batch {
  readonly items: PendingMessage[] = [];
  /** Framed bytes its messages hold in the queue (each counted as it was sent). */
  heldBytes = 0;
  /** Keys of its messages (see {@link PendingMessage.key}); taking one out leaves its key here. */
  readonly keys = new Set<string>();
  #framesBytes = 0;
  #recordsBytes = 0;
  #recordItems = 0;
  timer: ReturnType<typeof setTimeout> | undefined;
  /** Set once its request is made: from then on a message can no longer be taken out. */
  sent = false;
  /** HTTP attempts made for its request so far. */
  attempts = 0;
  /** Cancels its request: nobody waits for any of its messages any more. */
  readonly cancel = new AbortController();
  readonly done: Promise<void>;
  finish!: () => void;

  constructor(
    readonly topic: string | undefined,
    readonly partition: number | undefined = undefined,
  ) {
    this.done = new Promise((resolve) => (this.finish = resolve));
  }

  /** Whether its body is a records body. */
  get records(): boolean {
    return this.#recordItems > 0;
  }

  /** The size of its request body. */
  get bodyBytes(): number {
    return this.records ? this.#recordsBytes : this.#framesBytes;
  }

  /** Whether `item` can join without the body going over `maxBytes`. */
  fits(item: PendingMessage, maxMessages: number, maxBytes: number): boolean {
    if (this.items.length >= maxMessages) return false;
    const body =
      this.records || item.record
        ? this.#recordsBytes + item.recordBytes
        : this.#framesBytes + item.bytes.length;
    return body + FRAME_HEADER_BYTES <= maxBytes;
  }

  add(item: PendingMessage): void {
    this.items.push(item);
    this.#count(item, 1);
    if (item.key !== undefined) this.keys.add(item.key);
    item.holder = this;
  }

  /** Whether it holds a message with one of `keys`. */
  sharesKeyWith(keys: ReadonlySet<string>): boolean {
    if (this.keys.size === 0 || keys.size === 0) return false;
    for (const key of this.keys) if (keys.has(key)) return true;
    return false;
  }

  /** Takes a message out; `false` if it was not in this batch. */
  remove(item: PendingMessage): boolean {
    const i = this.items.indexOf(item);
    if (i < 0) return false;
    this.items.splice(i, 1);
    this.#count(item, -1);
    return true;
  }

  #count(item: PendingMessage, sign: 1 | -1): void {
    this.heldBytes += sign * item.framedBytes;
    this.#framesBytes += sign * (FRAME_HEADER_BYTES + item.bytes.length);
    this.#recordsBytes += sign * (FRAME_HEADER_BYTES + item.recordBytes);
    if (item.record) this.#recordItems += sign;
  }

  isFull(maxMessages: number, maxBytes: number): boolean {
    return this.items.length >= maxMessages || this.bodyBytes + FRAME_HEADER_BYTES > maxBytes;
  }
}
