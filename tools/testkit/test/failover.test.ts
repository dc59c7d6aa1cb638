// Three brokers, replication factor 3, min.insync.replicas 2: losing the partition leader must not
// lose an acknowledged message. Starts its own cluster, so it is slow (tens of seconds).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Cluster } from '../src/index.js';
import {
  createProducer,
  createTopic,
  kafka,
  readMessages,
  startCluster,
  uniqueTopic,
} from '../src/index.js';

describe('a three-node cluster', () => {
  let cluster: Cluster | undefined;
  let stopped: number | undefined;

  beforeAll(async () => {
    cluster = await startCluster({ nodes: 3 });
  });

  afterAll(async () => {
    await cluster?.stop();
  });

  it('keeps every acknowledged message when the partition leader dies', async () => {
    if (cluster === undefined) throw new Error('cluster did not start');
    const { brokers } = cluster;
    const topic = await createTopic(uniqueTopic('failover'), { replicationFactor: 3, brokers });

    const admin = kafka({ brokers }).admin();
    await admin.connect();
    const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
    await admin.disconnect();
    const partition = metadata.topics[0]?.partitions[0];
    expect(partition?.replicas).toHaveLength(3);
    const leader = partition?.leader;
    if (leader === undefined) throw new Error(`no leader for ${topic}`);

    const producer = createProducer({ brokers });
    await producer.connect();
    const before = Array.from({ length: 20 }, (_, i) => Buffer.from(`before ${i}`));
    const after = Array.from({ length: 20 }, (_, i) => Buffer.from(`after ${i}`));
    try {
      await producer.send({ topic, acks: -1, messages: before.map((value) => ({ value })) });
      await cluster.stopNode(leader, { kill: true });
      stopped = leader;
      for (const value of after) {
        await producer.send({ topic, acks: -1, messages: [{ value }] });
      }
    } finally {
      await producer.disconnect();
    }

    const survivors = brokers.filter((_, i) => i + 1 !== leader);
    const read = await readMessages(topic, { count: 40, brokers: survivors, timeoutMs: 45_000 });
    expect(read.map((m) => m.value.toString())).toEqual(
      [...before, ...after].map((b) => b.toString()),
    );
  });

  it('takes a stopped node back on its old ports', async () => {
    if (cluster === undefined || stopped === undefined) throw new Error('no node was stopped');
    await cluster.startNode(stopped);

    const admin = kafka({ brokers: cluster.brokers }).admin();
    await admin.connect();
    try {
      const { brokers } = await admin.describeCluster();
      expect(brokers.map((b) => b.nodeId).sort()).toEqual([1, 2, 3]);
      expect(brokers.find((b) => b.nodeId === stopped)?.port).toBe(
        Number(cluster.brokers[stopped - 1]?.split(':')[1]),
      );
    } finally {
      await admin.disconnect();
    }
  });
});
