import { kafka as testKafka, kafkaBrokers, readMessages, uniqueTopic } from '@kproxy/testkit';
import kafkajs from 'kafkajs';
import type { Admin, Kafka as KafkaClient } from 'kafkajs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ProxyError } from '../src/errors.js';
import { KafkaTopicStore, RECORD_KEY } from '../src/kafka-topic-store.js';
import type { KafkaTopicStoreOptions, StoreLogger } from '../src/kafka-topic-store.js';

// kafkajs only reads back what the store wrote, as an operator's tool would.
const { ConfigResourceTypes } = kafkajs;

const quiet: StoreLogger = { debug() {}, info() {}, warn() {}, error() {} };

let kafka: KafkaClient;
let admin: Admin;
const stores: KafkaTopicStore[] = [];

beforeAll(async () => {
  kafka = testKafka({ clientId: 'topic-store-test' });
  admin = kafka.admin();
  await admin.connect();
});

afterEach(async () => {
  await Promise.all(stores.splice(0).map((s) => s.close()));
});

afterAll(async () => {
  await admin.disconnect();
});

function store(
  storeTopic: string,
  seedTopic: string,
  extra: Partial<KafkaTopicStoreOptions> = {},
): KafkaTopicStore {
  const s = new KafkaTopicStore({
    kafka: { clientId: 'topic-store-test', bootstrapBrokers: kafkaBrokers() },
    logger: quiet,
    storeTopic,
    seedTopic,
    ...extra,
  });
  stores.push(s);
  return s;
}

/** Every value in the store topic, in log order (each under the store's one key). */
async function logValues(storeTopic: string): Promise<string[]> {
  const [p0] = await admin.fetchTopicOffsets(storeTopic);
  const records = await readMessages(storeTopic, { count: Number(p0?.high ?? 0) });
  for (const r of records) expect(r.key?.toString()).toBe(RECORD_KEY);
  return records.map((r) => r.value.toString());
}

async function until(what: string, check: () => boolean, timeoutMs: number): Promise<number> {
  const started = performance.now();
  while (!check()) {
    if (performance.now() - started > timeoutMs)
      throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
  return performance.now() - started;
}

describe('KafkaTopicStore against a real broker', () => {
  it('creates a compacted one-partition topic and seeds it with the first replica value', async () => {
    const storeTopic = uniqueTopic('_kp-store');
    const first = store(storeTopic, 'seed-one');
    await first.start();
    expect(first.current()).toBe('seed-one');

    const [meta] = (await admin.fetchTopicMetadata({ topics: [storeTopic] })).topics;
    expect(meta?.partitions).toHaveLength(1);
    const configs = await admin.describeConfigs({
      includeSynonyms: false,
      resources: [
        { type: ConfigResourceTypes.TOPIC, name: storeTopic, configNames: ['cleanup.policy'] },
      ],
    });
    const policy = configs.resources[0]?.configEntries.find(
      (e) => e.configName === 'cleanup.policy',
    );
    expect(policy?.configValue).toBe('compact');

    // A second replica with another cache file adopts the shared value instead of its own.
    const second = store(storeTopic, 'seed-two');
    await second.start();
    expect(second.current()).toBe('seed-one');
    expect(await logValues(storeTopic)).toEqual(['seed-one']);
  });

  it('makes a change visible on the replica that made it at once and on the others within a second', async () => {
    const storeTopic = uniqueTopic('_kp-store');
    const [a, b, c] = [
      store(storeTopic, 'start'),
      store(storeTopic, 'start'),
      store(storeTopic, 'start'),
    ];
    await a.start();
    await Promise.all([b.start(), c.start()]);

    const followers = Promise.all([
      until('b follows', () => b.current() === 'changed', 1000),
      until('c follows', () => c.current() === 'changed', 1000),
    ]);
    const t0 = performance.now();
    await a.set('changed');
    const setMs = performance.now() - t0;
    expect(a.current()).toBe('changed');
    const [lagB, lagC] = await followers;
    console.log(
      `set() took ${setMs.toFixed(1)} ms; other replicas saw the change ${lagB.toFixed(1)} and ${lagC.toFixed(1)} ms after it was called`,
    );
  });

  it('starts a later replica on the latest value, not its seed', async () => {
    const storeTopic = uniqueTopic('_kp-store');
    const a = store(storeTopic, 'first');
    await a.start();
    await a.set('second');
    await a.set('third');
    const late = store(storeTopic, 'own-seed');
    await late.start();
    expect(late.current()).toBe('third');
  });

  it('lets a forced topic win over the shared value', async () => {
    const storeTopic = uniqueTopic('_kp-store');
    const a = store(storeTopic, 'shared');
    await a.start();
    const forced = store(storeTopic, 'forced', { force: true });
    await forced.start();
    expect(forced.current()).toBe('forced');
    await until('a follows the forced topic', () => a.current() === 'forced', 2000);
    // Forcing the value the log already holds writes nothing.
    const again = store(storeTopic, 'forced', { force: true });
    await again.start();
    expect(await logValues(storeTopic)).toEqual(['shared', 'forced']);
  });

  it('converges every replica on the last record when replicas change the topic at once', async () => {
    const storeTopic = uniqueTopic('_kp-store');
    const replicas = [store(storeTopic, 't0'), store(storeTopic, 't0'), store(storeTopic, 't0')];
    await Promise.all(replicas.map((r) => r.start()));
    for (let round = 0; round < 5; round++) {
      await Promise.all(replicas.map((r, i) => r.set(`round${round}-replica${i}`)));
    }
    const values = await logValues(storeTopic);
    const last = values.at(-1);
    expect(last).toMatch(/^round4-replica\d$/);
    await until('all replicas agree', () => replicas.every((r) => r.current() === last), 2000);
    const late = store(storeTopic, 'late');
    await late.start();
    expect(late.current()).toBe(last);
  });

  it('mirrors every applied value into the cache, including changes made elsewhere', async () => {
    const storeTopic = uniqueTopic('_kp-store');
    const cached: string[] = [];
    const cache = {
      set(topic: string): Promise<void> {
        cached.push(topic);
        return Promise.resolve();
      },
    };
    const a = store(storeTopic, 'seed', { cache });
    const b = store(storeTopic, 'seed');
    await a.start();
    await b.start();
    expect(cached).toEqual(['seed']);
    await b.set('from-b');
    await until('a mirrors b', () => cached.at(-1) === 'from-b', 2000);
    await a.set('from-a');
    expect(cached).toEqual(['seed', 'from-b', 'from-a']);
  });

  it('keeps the old topic and fails with kafka_unavailable when Kafka does not take the change', async () => {
    const storeTopic = uniqueTopic('_kp-store');
    const a = store(storeTopic, 'kept', { setTimeoutMs: 3000 });
    await a.start();
    await admin.deleteTopics({ topics: [storeTopic] });
    const err: unknown = await a.set('lost').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProxyError);
    expect((err as ProxyError).code).toBe('kafka_unavailable');
    expect((err as ProxyError).retriable).toBe(true);
    expect(a.current()).toBe('kept');
  });

  it('fails to start with kafka_unavailable when no broker answers', async () => {
    const s = new KafkaTopicStore({
      kafka: {
        clientId: 'topic-store-test',
        bootstrapBrokers: ['127.0.0.1:1'],
        connectTimeout: 200,
        retries: 1,
        retryDelay: 50,
      },
      logger: quiet,
      seedTopic: 'x',
      startTimeoutMs: 5000,
    });
    const err: unknown = await s.start().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProxyError);
    expect((err as ProxyError).code).toBe('kafka_unavailable');
    expect(() => s.current()).toThrow(ProxyError);
  });
});
