import type { ProxyRecord } from '@kproxy/framing';

/**
 * The server's own view of a Kafka producer. The flusher depends on this interface only, so it can
 * be unit-tested with a fake and the Kafka client library can be swapped after measuring.
 */
export interface ProduceBatch {
  topic: string;
  partition: number;
  messages: readonly Message[];
}

/**
 * One message to write: its value alone (a framed body's message: no key, no headers, Kafka's
 * time), or a whole record (a records or JSON body's, or a framed one given a key).
 */
export type Message = Uint8Array | ProxyRecord;

/** The bytes `message` holds: its value's, or its record's key, value and headers. */
export function messageBytes(message: Message): number {
  if (message instanceof Uint8Array) return message.byteLength;
  let bytes = (message.key?.byteLength ?? 0) + (message.value?.byteLength ?? 0);
  for (const header of message.headers)
    bytes += header.name.length + (header.value?.byteLength ?? 0);
  return bytes;
}

/** Where a batch landed: Kafka's base offset of its first message. */
export interface ProduceResult {
  topic: string;
  partition: number;
  baseOffset: string;
}

/**
 * What became of one batch of a send: written (`result`), or not (`error`, a `ProxyError` whose
 * `retriable` says whether sending it again may succeed). The batches of one send can end
 * differently: partitions led by a broker that answered are written even when another failed.
 */
export type ProduceOutcome = { result: ProduceResult } | { error: Error };

/**
 * A connection to Kafka that writes whole batches to explicit partitions.
 *
 * Failures are `ProxyError`s whose code says what happened and whether a client may retry
 * (`kafka_unavailable` retriable; `kafka_rejected`, `message_too_large` not).
 *
 * @example
 * const [outcome] = await producer.send([{ topic: 'orders', partition: 0, messages }]);
 * if ('result' in outcome) console.log(outcome.result.baseOffset);
 */
export interface Producer {
  /**
   * Starts connecting; resolves after the first attempt whether or not Kafka answered, and keeps
   * trying in the background. {@link isReady} tells when produce can succeed.
   */
  connect(): Promise<void>;
  /**
   * Sends every batch; resolves once each was acknowledged (acks as configured) or failed, with
   * one outcome per batch in the same order. Never rejects. A batch's messages are written in
   * order. Their bytes are the producer's only until it resolves: the server frees a body as soon
   * as every message of it is written, so nothing may read them after that.
   */
  send(batches: readonly ProduceBatch[]): Promise<ProduceOutcome[]>;
  /** Number of partitions of a topic (creating it if the cluster auto-creates topics). */
  partitionCount(topic: string): Promise<number>;
  /** True while connected and able to produce. */
  isReady(): boolean;
  disconnect(): Promise<void>;
}
