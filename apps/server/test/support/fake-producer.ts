import type { Message, ProduceBatch, ProduceOutcome, Producer } from '../../src/producer.js';

/** A copy of `message`, as Kafka keeps one: the server frees a body once it is written. */
function copy(message: Message): Message {
  // Of the same class as the original; Buffer.from(view) copies, a Buffer's slice() would not.
  const bytes = (view: Uint8Array | null) =>
    view === null ? null : Buffer.isBuffer(view) ? Buffer.from(view) : new Uint8Array(view);
  if (message instanceof Uint8Array) return bytes(message) as Uint8Array;
  return {
    ...message,
    key: bytes(message.key),
    value: bytes(message.value),
    headers: message.headers.map((h) => ({ ...h, value: bytes(h.value) })),
  };
}

/**
 * An in-memory {@link Producer} for unit tests: keeps a log per topic-partition, and can be told to
 * fail, hang, or wait for a go-ahead before acknowledging. What it keeps are copies, taken when
 * `send` is called, as Kafka has its own.
 */
export class FakeProducer implements Producer {
  readonly sends: ProduceBatch[][] = [];
  readonly logs = new Map<string, Message[]>();
  partitions = 3;
  ready = true;
  /** When set, every batch of a send fails with it. */
  failWith: Error | undefined;
  /** When set, the batches it picks fail with what it returns (the others are written). */
  failBatch: ((batch: ProduceBatch) => Error | undefined) | undefined;
  /** When set, `send` waits for it before acknowledging (to hold a batch in flight). */
  gate: Promise<void> | undefined;
  inFlight = 0;
  maxInFlight = 0;

  connect(): Promise<void> {
    return Promise.resolve();
  }

  async send(batches: readonly ProduceBatch[]): Promise<ProduceOutcome[]> {
    this.sends.push(batches.map((batch) => ({ ...batch, messages: batch.messages.map(copy) })));
    this.inFlight += 1;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      await this.gate;
      await Promise.resolve();
      return batches.map((batch) => {
        const error = this.failWith ?? this.failBatch?.(batch);
        if (error !== undefined) return { error };
        const key = `${batch.topic}/${batch.partition}`;
        const log = this.logs.get(key) ?? [];
        this.logs.set(key, log);
        const baseOffset = String(log.length);
        for (const message of batch.messages) log.push(copy(message));
        return { result: { topic: batch.topic, partition: batch.partition, baseOffset } };
      });
    } finally {
      this.inFlight -= 1;
    }
  }

  partitionCount(): Promise<number> {
    return Promise.resolve(this.partitions);
  }

  isReady(): boolean {
    return this.ready;
  }

  disconnect(): Promise<void> {
    return Promise.resolve();
  }

  /** Every message held for `topic`, as text, by partition. */
  text(topic: string): Map<number, string[]> {
    const out = new Map<number, string[]>();
    for (const [key, log] of this.logs) {
      const [t, p] = key.split('/');
      if (t === topic)
        out.set(
          Number(p),
          log.map((m) => Buffer.from(m instanceof Uint8Array ? m : (m.value ?? [])).toString()),
        );
    }
    return out;
  }
}
