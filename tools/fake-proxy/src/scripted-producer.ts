import type { ProduceBatch, ProduceOutcome, Producer } from '@kproxy/server';

/**
 * Kafka for the fake proxy: every topic with `partitions` partitions (1 unless told), every batch
 * written at once with consecutive offsets per partition, and `ready` to say whether Kafka is
 * reachable (false: the real routes answer 503 `kafka_unavailable`).
 */
export class ScriptedProducer implements Producer {
  ready = true;
  readonly #nextOffset = new Map<string, number>();

  constructor(readonly partitions = 1) {}

  connect(): Promise<void> {
    return Promise.resolve();
  }

  send(batches: readonly ProduceBatch[]): Promise<ProduceOutcome[]> {
    return Promise.resolve(
      batches.map(({ topic, partition, messages }) => {
        const key = `${topic}/${partition}`;
        const baseOffset = this.#nextOffset.get(key) ?? 0;
        this.#nextOffset.set(key, baseOffset + messages.length);
        return { result: { topic, partition, baseOffset: String(baseOffset) } };
      }),
    );
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
}
