// Durable mode under concurrency ("Delivery" in apps/server/README.md). Every message lands exactly
// once, each request's messages sit together in one partition in request order, and the JSON
// reply says where.
import { Pool } from 'undici';
import { encodeFrames } from '@kproxy/framing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { brokers, createTopic, readAll, uniqueTopic } from './kafka.js';
import { spawnServer, type ServerProcess } from '@kproxy/testkit/proxy-process';

const TOKEN = 'durable-token-9c0d';
const CLIENTS = 100;
const REQUESTS_PER_CLIENT = 50;
const MESSAGES_PER_REQUEST = 20;
const PARTITIONS = 6;

let proxy: ServerProcess;
let topic: string;

beforeAll(async () => {
  topic = uniqueTopic('durable');
  await createTopic(topic, PARTITIONS);
  proxy = await spawnServer({
    KAFKA_PROXY_TOKEN: TOKEN,
    KAFKA_PROXY_KAFKA_SERVER: brokers().join(','),
    KAFKA_PROXY_TOPIC: topic,
  });
});

afterAll(async () => {
  expect(await proxy.stop()).toBe(0);
});

interface Reply {
  topic: string;
  count: number;
  bytes: number;
  partition: number;
  baseOffset: string;
}

describe('durable mode under load (real socket, real Kafka)', () => {
  it(`${CLIENTS} concurrent clients x ${REQUESTS_PER_CLIENT} requests x ${MESSAGES_PER_REQUEST} messages: exactly once, one partition per request, in order, where the reply says`, async () => {
    const pool = new Pool(proxy.url, { connections: CLIENTS });
    const replies = new Map<string, Reply>();
    const started = Date.now();
    try {
      await Promise.all(
        Array.from({ length: CLIENTS }, async (_, client) => {
          for (let r = 0; r < REQUESTS_PER_CLIENT; r++) {
            const id = `c${client}-r${r}`;
            const messages = Array.from({ length: MESSAGES_PER_REQUEST }, (_, m) =>
              Buffer.from(`${id}-m${m}`),
            );
            const res = await pool.request({
              path: '/',
              method: 'POST',
              headers: {
                'x-kafka-proxy-token': TOKEN,
                'content-type': 'application/octet-stream',
                accept: 'application/json',
              },
              body: encodeFrames(messages),
            });
            const body = await res.body.text();
            expect(res.statusCode, body).toBe(200);
            replies.set(id, JSON.parse(body) as Reply);
          }
        }),
      );
    } finally {
      await pool.close();
    }
    const elapsed = (Date.now() - started) / 1000;
    const total = CLIENTS * REQUESTS_PER_CLIENT * MESSAGES_PER_REQUEST;
    console.log(
      `durable: ${total} messages in ${CLIENTS * REQUESTS_PER_CLIENT} requests took ${elapsed.toFixed(1)} s (${Math.round(total / elapsed)} msg/s)`,
    );

    const records = await readAll(topic);
    expect(records).toHaveLength(total);
    const byValue = new Map(records.map((r) => [r.value.toString(), r]));
    expect(byValue.size).toBe(total);
    const partitionsUsed = new Set<number>();
    for (const [id, reply] of replies) {
      expect(reply).toMatchObject({ topic, count: MESSAGES_PER_REQUEST });
      partitionsUsed.add(reply.partition);
      for (let m = 0; m < MESSAGES_PER_REQUEST; m++) {
        const record = byValue.get(`${id}-m${m}`);
        expect(record?.partition, id).toBe(reply.partition);
        expect(record?.offset, `${id}-m${m}`).toBe(BigInt(reply.baseOffset) + BigInt(m));
      }
    }
    expect(partitionsUsed.size).toBe(PARTITIONS);
  }, 180_000);
});
