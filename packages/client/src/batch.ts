import { FRAME_HEADER_BYTES } from '@kproxy/framing';
import type { KafkaProxyError } from './errors.js';

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

export interface PendingMessage {
  bytes: Uint8Array;
  settled: boolean;
  resolve: (result: SendResult) => void;
  reject: (error: KafkaProxyError) => void;
}

/** Messages going into one request to one topic (`undefined`: the server's default topic). */
export class Batch {
  readonly items: PendingMessage[] = [];
  bodyBytes = 0;
  timer: ReturnType<typeof setTimeout> | undefined;
  readonly done: Promise<void>;
  finish!: () => void;

  constructor(
    readonly topic: string | undefined,
    readonly signal?: AbortSignal,
  ) {
    this.done = new Promise((resolve) => (this.finish = resolve));
  }

  fits(bytes: number, maxMessages: number, maxBytes: number): boolean {
    return (
      this.items.length < maxMessages && this.bodyBytes + FRAME_HEADER_BYTES + bytes <= maxBytes
    );
  }

  add(item: PendingMessage): void {
    this.items.push(item);
    this.bodyBytes += FRAME_HEADER_BYTES + item.bytes.length;
  }

  /** Takes a message out; `false` if it was not in this batch. */
  remove(item: PendingMessage): boolean {
    const i = this.items.indexOf(item);
    if (i < 0) return false;
    this.items.splice(i, 1);
    this.bodyBytes -= FRAME_HEADER_BYTES + item.bytes.length;
    return true;
  }

  isFull(maxMessages: number, maxBytes: number): boolean {
    return this.items.length >= maxMessages || this.bodyBytes + FRAME_HEADER_BYTES > maxBytes;
  }
}
