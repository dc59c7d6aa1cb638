// The shared default topic when Kafka goes away and comes back: a one-node cluster of its own,
// crashed and restarted under running replicas (the run's shared broker cannot be stopped).
import { startCluster, uniqueTopic, type Cluster } from '@kproxy/testkit';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ProxyError } from '../src/errors.js';
import { KafkaTopicStore } from '../src/kafka-topic-store.js';
import type { KafkaTopicStoreOptions, StoreLogger } from '../src/kafka-topic-store.js';

let cluster: Cluster;

beforeAll(async () => {
  cluster = await startCluster({ nodes: 1 });
}, 180_000);

afterAll(async () => {
  await cluster?.stop();
});

/** A logger that keeps its warnings, which is where an operator sees the follower recover. */
function recordingLogger(): StoreLogger & { warnings: string[] } {
  const warnings: string[] = [];
  return {
    warnings,
    debug() {},
    info() {},
    warn(_obj: object, msg?: string) {
      warnings.push(msg ?? '');
    },
    error() {},
  };
}

describe('KafkaTopicStore when its broker crashes and comes back', () => {
  it('answers 503 while Kafka is down and follows again, on every replica, once it is back', async () => {
    const storeTopic = uniqueTopic('_kp-store-reconnect');
    const options = (logger: StoreLogger): KafkaTopicStoreOptions => ({
      kafka: { clientId: 'topic-store-reconnect-test', bootstrapBrokers: cluster.brokers },
      logger,
      storeTopic,
      seedTopic: 'before',
      setTimeoutMs: 5_000,
      maxResumeDelayMs: 1_000,
    });
    const logA = recordingLogger();
    const logB = recordingLogger();
    const a = new KafkaTopicStore(options(logA));
    const b = new KafkaTopicStore(options(logB));
    try {
      await a.start();
      await b.start();
      expect(b.current()).toBe('before');

      await cluster.stopNode(1, { kill: true });
      try {
        const err: unknown = await a.set('during-outage').catch((e: unknown) => e);
        expect(err).toBeInstanceOf(ProxyError);
        expect((err as ProxyError).code).toBe('kafka_unavailable');
        expect(a.current()).toBe('before');
        // Down long enough for both followers' fetches to give up, not just to be retried.
        const lost = 'the default-topic follower lost Kafka; following again';
        await vi.waitFor(
          () => {
            expect(logA.warnings).toContain(lost);
            expect(logB.warnings).toContain(lost);
          },
          { timeout: 30_000, interval: 50 },
        );
      } finally {
        await cluster.startNode(1);
      }

      // a reads its own record back (its follower is following again), b picks it up.
      await a.set('after-outage');
      expect(a.current()).toBe('after-outage');
      await vi.waitFor(() => expect(b.current()).toBe('after-outage'), {
        timeout: 10_000,
        interval: 20,
      });
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  }, 120_000);
});
