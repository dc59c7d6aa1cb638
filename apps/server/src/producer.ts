/**
 * The server's own view of a Kafka producer. The flusher depends on this interface only, so it can
 * be unit-tested with a fake and the Kafka client library can be swapped after measuring.
 */
export interface ProduceBatch {
  topic: string;
  partition: number;
  messages: readonly Uint8Array[];
}

/** Where a batch landed: Kafka's base offset of its first message. */
export interface ProduceResult {
  topic: string;
  partition: number;
  baseOffset: string;
}

/**
 * A connection to Kafka that writes whole batches to explicit partitions.
 *
 * Implementations reject with a `ProxyError` whose code says what happened and whether a client
 * may retry (`kafka_unavailable` retriable; `kafka_rejected`, `message_too_large` not).
 *
 * @example
 * const [result] = await producer.send([{ topic: 'orders', partition: 0, messages }]);
 */
export interface Producer {
  connect(): Promise<void>;
  /**
   * Sends every batch; resolves once Kafka acknowledged all of them (acks as configured), with
   * one result per batch in the same order. A batch's messages are written in order.
   */
  send(batches: readonly ProduceBatch[]): Promise<ProduceResult[]>;
  /** Number of partitions of a topic (creating it if the cluster auto-creates topics). */
  partitionCount(topic: string): Promise<number>;
  /** True while connected and able to produce. */
  isReady(): boolean;
  disconnect(): Promise<void>;
}
