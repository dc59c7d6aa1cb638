// The shared default topic on a three-node cluster: replicated three times, and still changeable
// and followed when the broker leading it crashes.
import { kafka as testKafka, startCluster, uniqueTopic, type Cluster } from '@kproxy/testkit';
import kafkajs from 'kafkajs';
import type { Admin, Kafka as KafkaClient } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KafkaTopicStore } from '../src/kafka-topic-store.js';
import type { StoreLogger } from '../src/kafka-topic-store.js';

const { ConfigResourceTypes } = kafkajs;
const quiet: StoreLogger = { debug() {}, info() {}, warn() {}, error() {} };

let cluster: Cluster;
let kafka: KafkaClient;
let admin: Admin;

beforeAll(async () => {
  cluster = await startCluster({ nodes: 3 });
  kafka = testKafka({ brokers: cluster.brokers, clientId: 'topic-store-cluster-test' });
  admin = kafka.admin();
  await admin.connect();
}, 180_000);

afterAll(async () => {
  await admin?.disconnect();
  await cluster?.stop();
});

async function until(what: string, check: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('KafkaTopicStore on a three-node cluster', () => {
  it('replicates the store topic three times and survives a crash of its leader', async () => {
    const storeTopic = uniqueTopic('_kp-store-cluster');
    const options = {
      kafka: { clientId: 'topic-store-cluster-test', bootstrapBrokers: cluster.brokers },
      logger: quiet,
      storeTopic,
      seedTopic: 'before',
      setTimeoutMs: 20_000,
    };
    const a = new KafkaTopicStore(options);
    const b = new KafkaTopicStore(options);
    try {
      await a.start();
      await b.start();

      const [meta] = (await admin.fetchTopicMetadata({ topics: [storeTopic] })).topics;
      const partition = meta?.partitions[0];
      expect(partition?.replicas).toHaveLength(3);
      const configs = await admin.describeConfigs({
        includeSynonyms: false,
        resources: [
          {
            type: ConfigResourceTypes.TOPIC,
            name: storeTopic,
            configNames: ['min.insync.replicas', 'cleanup.policy'],
          },
        ],
      });
      const entries = configs.resources[0]?.configEntries ?? [];
      const value = (name: string): string | undefined =>
        entries.find((e) => e.configName === name)?.configValue;
      expect(value('min.insync.replicas')).toBe('2');
      expect(value('cleanup.policy')).toBe('compact');

      const leader = partition?.leader ?? 0;
      await cluster.stopNode(leader, { kill: true });
      try {
        await a.set('after-crash');
        expect(a.current()).toBe('after-crash');
        await until('b follows after the failover', () => b.current() === 'after-crash', 20_000);
      } finally {
        await cluster.startNode(leader);
      }
      const late = new KafkaTopicStore({ ...options, seedTopic: 'late' });
      try {
        await late.start();
        expect(late.current()).toBe('after-crash');
      } finally {
        await late.close();
      }
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  }, 120_000);
});
