// Records through the real server into a real broker, read back with a consumer.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createTopic,
  kafkaBrokers,
  messageCount,
  readMessages,
  uniqueTopic,
} from '@kproxy/testkit';
import { startProxy, type ProxyProcess } from '@kproxy/testkit/proxy-process';
// Kafka's partitioner as the server implements it; a test may read another workspace's source.
import { partitionForKey } from '../../../apps/server/src/partition.js';
import { KafkaProxyClient, KafkaProxyError, type ProduceRecord } from '../src/index.js';

const PARTITIONS = 6;
let proxy: ProxyProcess;
beforeAll(async () => {
  proxy = await startProxy({ brokers: kafkaBrokers() });
});
afterAll(async () => {
  await proxy.stop();
});

const utf8 = (text: string): Buffer => Buffer.from(text);

describe('records against a real server and broker', () => {
  it('keys, headers (a null one too), timestamps, tombstones and partitions land as sent', async () => {
    const topic = uniqueTopic('sdk-records');
    await createTopic(topic, { partitions: PARTITIONS });
    const client = new KafkaProxyClient({ url: proxy.url, token: proxy.token, topic });
    const sent: ProduceRecord[] = [
      {
        key: 'user-1',
        value: '{"n":1}',
        headers: { source: 'web', trace: null },
        timestamp: 1_700_000_000_001,
      },
      { key: 'user-5', value: utf8('\0binary\n'), headers: [{ name: 'h', value: 'x' }] },
      { key: 'user-1', value: null, timestamp: 1_700_000_000_003 },
      // user-4 alone would go to partition 1: the explicit partition wins.
      { key: 'user-4', value: 'to partition 5', partition: 5 },
      { value: 'no key', headers: { only: 'header' } },
    ];
    const results = await client.sendBatch(sent);
    await client.close();

    const read = await readMessages(topic, { count: sent.length });
    const byOffset = new Map(read.map((m) => [`${m.partition}/${m.offset}`, m]));
    const landed = results.map((r) => byOffset.get(`${r.partition}/${r.offset}`));
    expect(landed.every((m) => m !== undefined)).toBe(true);
    const [first, second, tombstone, pinned, keyless] = landed;

    expect(first?.key?.toString()).toBe('user-1');
    expect(first?.value.toString()).toBe('{"n":1}');
    expect(first?.headers.source?.toString()).toBe('web');
    expect(first?.headers).toHaveProperty('trace', null);
    expect(first?.timestamp).toBe('1700000000001');
    expect(first?.partition).toBe(partitionForKey(utf8('user-1'), PARTITIONS));

    expect(second?.value).toEqual(utf8('\0binary\n'));
    expect(second?.headers.h?.toString()).toBe('x');
    expect(second?.partition).toBe(partitionForKey(utf8('user-5'), PARTITIONS));
    expect(second?.partition).not.toBe(first?.partition);

    expect(tombstone?.isNull).toBe(true);
    expect(tombstone?.key?.toString()).toBe('user-1');
    expect(tombstone?.timestamp).toBe('1700000000003');
    expect(tombstone?.partition).toBe(first?.partition);
    expect(BigInt(tombstone!.offset)).toBeGreaterThan(BigInt(first!.offset));

    expect(pinned?.partition).toBe(5);
    expect(pinned?.key?.toString()).toBe('user-4');
    expect(partitionForKey(utf8('user-4'), PARTITIONS)).not.toBe(5);

    expect(keyless?.key).toBeNull();
    expect(keyless?.headers.only?.toString()).toBe('header');
  });

  it('keeps each key in order with four batches in flight', async () => {
    const topic = uniqueTopic('sdk-key-order');
    await createTopic(topic, { partitions: PARTITIONS });
    const client = new KafkaProxyClient({
      url: proxy.url,
      token: proxy.token,
      topic,
      maxInFlight: 4,
      batch: { maxMessages: 7, lingerMs: 1 },
    });
    const keys = ['a', 'b', 'c', 'd', 'e'];
    const sends = Array.from({ length: 500 }, (_, i) =>
      client.send({ key: keys[i % keys.length]!, value: String(i) }),
    );
    await Promise.all(sends);
    await client.close();
    const read = await readMessages(topic, { count: 500 });
    for (const key of keys) {
      const mine = read.filter((m) => m.key?.toString() === key);
      expect(new Set(mine.map((m) => m.partition))).toEqual(
        new Set([partitionForKey(utf8(key), PARTITIONS)]),
      );
      const values = mine.map((m) => Number(m.value.toString()));
      expect(values).toEqual([...values].sort((x, y) => x - y));
      expect(values).toHaveLength(100);
    }
  });

  it('an out-of-range partition is refused with invalid_partition and nothing is produced', async () => {
    const topic = uniqueTopic('sdk-bad-partition');
    await createTopic(topic, { partitions: 2 });
    const client = new KafkaProxyClient({ url: proxy.url, token: proxy.token, topic });
    const error = await client
      .sendBatch([
        { key: 'k', value: 'v', partition: 2 },
        { key: 'k', value: 'w', partition: 2 },
      ])
      .catch((e: unknown) => e);
    await client.close();
    expect(error).toBeInstanceOf(KafkaProxyError);
    expect(error).toMatchObject({ code: 'invalid_partition', status: 400, attempts: 1 });
    expect(await messageCount(topic)).toBe(0);
  });
});
