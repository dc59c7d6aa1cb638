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

/** Metadata errors a topic's partitions go through while a new topic settles on every broker. */
const SETTLING = new Set([
  'UNKNOWN_TOPIC_OR_PARTITION',
  'LEADER_NOT_AVAILABLE',
  'NOT_LEADER_FOR_PARTITION',
]);
const SETTLE_TIMEOUT_MS = 30_000;

/** Whether an error, or the one kafkajs's retries gave up on, is one of those. */
function isSettling(error: unknown): boolean {
  for (let e = error as { type?: string; originalError?: unknown } | undefined; e;) {
    if (SETTLING.has(e.type ?? '')) return true;
    e = e.originalError as typeof e;
  }
  return false;
}

/**
 * Creates a topic and waits until every partition has a leader; resolves to its name. A topic
 * that already exists is left as it is.
 *
 * The wait is its own: right after the topic is created, a broker other than the controller may
 * not know it yet and answers metadata with UNKNOWN_TOPIC_OR_PARTITION, which kafkajs's own
 * `waitForLeaders` does not retry (it retries only LEADER_NOT_AVAILABLE), and a leader the
 * metadata names may still answer NOT_LEADER_OR_FOLLOWER for a moment. So it waits until every
 * partition has a leader that answers for its offsets.
 *
 * @example
 * const topic = await createTopic(uniqueTopic(), { partitions: 3 });
 */
export async function createTopic(name: string, options: CreateTopicOptions = {}): Promise<string> {
  const admin = kafka(options.brokers ? { brokers: options.brokers } : {}).admin();
  await admin.connect();
  try {
    await admin.createTopics({
      waitForLeaders: false,
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
    const deadline = Date.now() + SETTLE_TIMEOUT_MS;
    for (;;) {
      let settling: unknown;
      try {
        const { topics } = await admin.fetchTopicMetadata({ topics: [name] });
        const partitions = topics[0]?.partitions ?? [];
        if (partitions.length > 0 && partitions.every((p) => p.leader >= 0)) {
          // A leader named in the metadata may not act as one yet; a test reads offsets first.
          await admin.fetchTopicOffsets(name);
          break;
        }
        settling = new Error(`topic ${name}: not every partition has a leader yet`);
      } catch (error) {
        if (!isSettling(error)) throw error;
        settling = error;
      }
      if (Date.now() > deadline) throw settling;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  } finally {
    await admin.disconnect();
  }
  return name;
}
