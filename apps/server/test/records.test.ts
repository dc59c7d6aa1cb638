// Records with keys, headers, timestamps and tombstones (apps/server/README.md, "Records"), and
// the Confluent-v2-compatible JSON bodies, through the built server into a real broker: every
// record is read back with a consumer and compared field by field.
import { encodeFrames, encodeRecords, type ProxyRecord } from '@kproxy/framing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { partitionForKey } from '../src/partition.js';
import { brokers, createTopic, readAll, uniqueTopic, type Record as ReadRecord } from './kafka.js';
import { spawnServer, type ServerProcess } from '@kproxy/testkit/proxy-process';

const TOKEN = 'records-token-5e6f';
const PARTITIONS = 4;
const utf8 = (s: string): Buffer => Buffer.from(s, 'utf8');

let proxy: ServerProcess;

beforeAll(async () => {
  proxy = await spawnServer({
    KAFKA_PROXY_TOKEN: TOKEN,
    KAFKA_PROXY_KAFKA_SERVER: brokers().join(','),
    KAFKA_PROXY_TOPIC: uniqueTopic('records-default'),
  });
});

afterAll(async () => {
  expect(await proxy.stop()).toBe(0);
});

async function post(
  topic: string | undefined,
  body: Uint8Array | string,
  headers: Record<string, string>,
): Promise<{ status: number; json: unknown }> {
  const res = await fetch(`${proxy.url}/${topic === undefined ? '' : `topics/${topic}`}`, {
    method: 'POST',
    headers: { 'x-kafka-proxy-token': TOKEN, accept: 'application/json', ...headers },
    body,
  });
  return { status: res.status, json: await res.json() };
}

async function freshTopic(name: string): Promise<string> {
  const topic = uniqueTopic(name);
  await createTopic(topic, PARTITIONS);
  return topic;
}

/** A read-back record as plain values, for comparing with what was sent. */
const seen = (r: ReadRecord) => ({
  partition: r.partition,
  key: r.key?.toString() ?? null,
  value: r.tombstone ? null : r.value.toString(),
  headers: r.headers.map(([name, value]) => [name, value?.toString() ?? null]),
});

const RECORDS = 'application/vnd.kafka-proxy.records.v1';

describe('a records body (real process, real Kafka)', () => {
  it('writes keys, headers (a null value among them), timestamps and tombstones as sent', async () => {
    const topic = await freshTopic('records');
    const records: ProxyRecord[] = [
      {
        key: utf8('user-1'),
        value: utf8('{"n":1}'),
        headers: [
          { name: 'source', value: utf8('web') },
          { name: 'empty', value: null },
        ],
        timestamp: 1_700_000_000_123,
      },
      { key: utf8('user-3'), value: null, headers: [], timestamp: null },
      { key: null, value: utf8('no key'), headers: [], timestamp: null },
      { key: utf8('user-1'), value: utf8('{"n":2}'), headers: [], timestamp: 1_790_000_000_777 },
    ];
    const before = Date.now();
    const { status, json } = await post(topic, encodeRecords(records), {
      'content-type': RECORDS,
    });
    expect(status).toBe(200);
    const offsets = (json as { offsets: { partition: number; offset: string }[] }).offsets;
    expect(offsets).toHaveLength(4);

    const read = await readAll(topic);
    expect(read).toHaveLength(4);
    const at = (i: number) => {
      const { partition, offset } = offsets[i] as { partition: number; offset: string };
      const found = read.find((r) => r.partition === partition && r.offset === BigInt(offset));
      expect(found, `record ${i} at ${partition}/${offset}`).toBeDefined();
      return found as ReadRecord;
    };
    expect(seen(at(0))).toEqual({
      partition: partitionForKey(utf8('user-1'), PARTITIONS),
      key: 'user-1',
      value: '{"n":1}',
      headers: [
        ['source', 'web'],
        ['empty', null],
      ],
    });
    expect(at(0).timestamp).toBe(1_700_000_000_123);
    expect(seen(at(1))).toEqual({
      partition: partitionForKey(utf8('user-3'), PARTITIONS),
      key: 'user-3',
      value: null,
      headers: [],
    });
    // Without a timestamp Kafka's (the producer's) time is used.
    expect(at(1).timestamp).toBeGreaterThanOrEqual(before - 1000);
    expect(at(1).timestamp).toBeLessThanOrEqual(Date.now());
    expect(seen(at(2))).toMatchObject({ key: null, value: 'no key' });
    // A key's records keep their order in its partition.
    expect(at(3).partition).toBe(at(0).partition);
    expect(at(3).offset).toBeGreaterThan(at(0).offset);
    // Records 0 and 3 share a record batch, years apart: each keeps its own time (a delta past
    // 2^31 ms from the batch's first timestamp).
    expect(at(3).timestamp).toBe(1_790_000_000_777);
  });

  it('gives every value of a framed body the request key, and copies the trace context', async () => {
    const topic = await freshTopic('request-key');
    const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    const { status } = await post(topic, encodeFrames([utf8('a'), utf8('b'), utf8('c')]), {
      'content-type': 'application/octet-stream',
      'x-kafka-proxy-key': 'tenant-7',
      traceparent,
    });
    expect(status).toBe(200);
    const read = await readAll(topic);
    expect(read.map(seen)).toEqual(
      ['a', 'b', 'c'].map((value) => ({
        partition: partitionForKey(utf8('tenant-7'), PARTITIONS),
        key: 'tenant-7',
        value,
        headers: [['traceparent', traceparent]],
      })),
    );
  });

  it('sends a whole request to the partition its header names', async () => {
    const topic = await freshTopic('explicit');
    const body = encodeRecords([
      { key: utf8('k'), value: utf8('v'), headers: [], timestamp: null },
    ]);
    const { status } = await post(topic, body, {
      'content-type': RECORDS,
      'x-kafka-proxy-partition': '3',
    });
    expect(status).toBe(200);
    expect((await readAll(topic)).map((r) => r.partition)).toEqual([3]);
  });

  it.each([
    [
      'a malformed record',
      () =>
        Buffer.concat([
          encodeRecords([{ key: null, value: utf8('ok'), headers: [], timestamp: null }]),
          encodeFrames([new Uint8Array(3)]),
        ]),
      { 'content-type': RECORDS },
      400,
      'malformed_record',
    ],
    [
      'an out-of-range partition',
      () => encodeRecords([{ key: null, value: utf8('v'), headers: [], timestamp: null }]),
      { 'content-type': RECORDS, 'x-kafka-proxy-partition': String(PARTITIONS) },
      400,
      'invalid_partition',
    ],
    [
      'an unknown content type',
      () => encodeRecords([{ key: null, value: utf8('v'), headers: [], timestamp: null }]),
      { 'content-type': 'application/vnd.kafka-proxy.records.v2' },
      415,
      'unsupported_media_type',
    ],
  ])('produces nothing of a request with %s', async (_name, body, headers, status, error) => {
    const topic = await freshTopic('refused');
    const answer = await post(topic, body(), headers);
    expect({ status: answer.status, error: (answer.json as { error: string }).error }).toEqual({
      status,
      error,
    });
    expect(await readAll(topic)).toEqual([]);
  });
});

describe('Confluent-v2-compatible JSON bodies (real process, real Kafka)', () => {
  it('answer the offsets a consumer reads, in record order (binary embedding)', async () => {
    const topic = await freshTopic('confluent-binary');
    // The body a Confluent REST v2 client sends.
    const body = JSON.stringify({
      records: [
        { key: utf8('alice').toString('base64'), value: utf8('v1').toString('base64') },
        { value: utf8('v2').toString('base64'), partition: 1 },
        { key: utf8('alice').toString('base64'), value: null },
      ],
    });
    const { status, json } = await post(topic, body, {
      'content-type': 'application/vnd.kafka.binary.v2+json',
    });
    expect(status).toBe(200);
    const reply = json as {
      key_schema_id: null;
      value_schema_id: null;
      offsets: { partition: number; offset: number }[];
    };
    expect(reply.key_schema_id).toBeNull();
    const read = await readAll(topic);
    const byOffset = reply.offsets.map(({ partition, offset }) =>
      read.find((r) => r.partition === partition && r.offset === BigInt(offset)),
    );
    expect(byOffset.map((r) => r && seen(r))).toEqual([
      {
        partition: partitionForKey(utf8('alice'), PARTITIONS),
        key: 'alice',
        value: 'v1',
        headers: [],
      },
      { partition: 1, key: null, value: 'v2', headers: [] },
      {
        partition: partitionForKey(utf8('alice'), PARTITIONS),
        key: 'alice',
        value: null,
        headers: [],
      },
    ]);
  });

  it('produce JSON keys and values as their JSON text (json embedding)', async () => {
    const topic = await freshTopic('confluent-json');
    const { status } = await post(topic, '{"records":[{"key":"k","value":{"a":[1,2]}}]}', {
      'content-type': 'application/vnd.kafka.json.v2+json',
    });
    expect(status).toBe(200);
    expect((await readAll(topic)).map(seen)).toMatchObject([{ key: '"k"', value: '{"a":[1,2]}' }]);
  });

  it('produce nothing when one record names a partition the topic does not have', async () => {
    const topic = await freshTopic('confluent-range');
    const body = JSON.stringify({ records: [{ value: null }, { value: null, partition: 99 }] });
    const answer = await post(topic, body, {
      'content-type': 'application/vnd.kafka.binary.v2+json',
    });
    expect(answer.status).toBe(400);
    expect((answer.json as { error: string }).error).toBe('invalid_partition');
    expect(await readAll(topic)).toEqual([]);
  });
});
