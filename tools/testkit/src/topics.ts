import { randomBytes } from 'node:crypto';
import { kafka } from './client.js';

/**
 * A topic name no other test uses: `<prefix>-<time>-<random>`, within Kafka's naming rules.
 *
 * @example
 * const topic = uniqueTopic('roundtrip'); // 'roundtrip-mb3k2x1q-9f2c41ab'
 */
export function uniqueTopic(prefix = 'test'): string {
  const safe = prefix.replace(/[^a-zA-Z0-9._-]/g, '-').slice(0, 200) || 'test';
  return `${safe}-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
}

export interface CreateTopicOptions {
  /** Defaults to 1. */
  partitions?: number;
  /** Defaults to the cluster's `default.replication.factor` (1 on one node, 3 on three). */
  replicationFactor?: number;
  /** Topic configs, e.g. `{ 'cleanup.policy': 'compact' }`. */
  config?: Record<string, string>;
  /** Defaults to the test run's broker. */
  brokers?: string[];
}

/**
 * Creates a topic and waits until every partition has a leader; resolves to its name. A topic
 * that already exists is left as it is.
 *
 * @example
 * const topic = await createTopic(uniqueTopic(), { partitions: 3 });
 */
export async function createTopic(name: string, options: CreateTopicOptions = {}): Promise<string> {
  const admin = kafka(options.brokers ? { brokers: options.brokers } : {}).admin();
  await admin.connect();
  try {
    await admin.createTopics({
      waitForLeaders: true,
      topics: [
        {
          topic: name,
          numPartitions: options.partitions ?? 1,
          replicationFactor: options.replicationFactor ?? -1,
          configEntries: Object.entries(options.config ?? {}).map(([n, value]) => ({
            name: n,
            value,
          })),
        },
      ],
    });
  } finally {
    await admin.disconnect();
  }
  return name;
}
