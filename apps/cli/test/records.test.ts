// `kproxy push` with kcat's record flags through the real server into a real broker, read back
// with a consumer.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTopic, kafkaBrokers, readMessages, uniqueTopic } from '@kproxy/testkit';
import { startProxy, type ProxyProcess } from '@kproxy/testkit/proxy-process';
// Kafka's partitioner as the server implements it; a test may read another workspace's source.
import { partitionForKey } from '../../server/src/partition.js';
import { spawnCli } from './run-cli.js';

const PARTITIONS = 3;
let proxy: ProxyProcess;
let env: Record<string, string>;
beforeAll(async () => {
  proxy = await startProxy({ brokers: kafkaBrokers() });
  env = { KPROXY_URL: proxy.url, KPROXY_TOKEN: proxy.token };
});
afterAll(async () => {
  await proxy.stop();
});

describe('kproxy push with keys and headers against a real server and broker', () => {
  it('-K, -H and -Z land as keys, headers and tombstones in the partitions of their keys', async () => {
    const topic = uniqueTopic('cli-records');
    await createTopic(topic, { partitions: PARTITIONS });
    const res = await spawnCli(
      ['push', '--topic', topic, '-K', ':', '-H', 'source=cli', '-H', 'empty=', '-Z'],
      { stdin: 'user-1:{"n":1}\nuser-4:two:parts\nuser-1:\nno key here\n', env },
    );
    expect(res.code).toBe(0);
    const read = await readMessages(topic, { count: 4 });
    const landed = read.map((m) => ({
      key: m.key?.toString() ?? null,
      value: m.isNull ? null : m.value.toString(),
      source: m.headers.source?.toString(),
      empty: m.headers.empty?.toString(),
      partition: m.partition,
    }));
    const keyed = (key: string): number => partitionForKey(Buffer.from(key), PARTITIONS);
    expect(landed.filter((m) => m.key === 'user-1')).toEqual([
      { key: 'user-1', value: '{"n":1}', source: 'cli', empty: '', partition: keyed('user-1') },
      { key: 'user-1', value: null, source: 'cli', empty: '', partition: keyed('user-1') },
    ]);
    expect(landed.filter((m) => m.key !== 'user-1')).toEqual(
      expect.arrayContaining([
        { key: 'user-4', value: 'two:parts', source: 'cli', empty: '', partition: keyed('user-4') },
        expect.objectContaining({ key: null, value: 'no key here', source: 'cli' }),
      ]),
    );
  });
});
