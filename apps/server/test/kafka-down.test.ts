// Kafka stopped: a dedicated one-node cluster is stopped under the proxy. Readiness turns 503,
// requests get 503 + Retry-After within the ack timeout, nothing of a refused request is produced,
// and the proxy recovers when the broker is back.
import { encodeFrames } from '@kproxy/framing';
import { startCluster, type Cluster } from '@kproxy/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTopic, readAll, texts, uniqueTopic } from './kafka.js';
import { spawnServer, type ServerProcess } from '@kproxy/testkit/proxy-process';

const TOKEN = 'kafka-down-token-6f3b';
const ACK_TIMEOUT_S = 3;
let cluster: Cluster;
let proxy: ServerProcess;
let topic: string;

beforeAll(async () => {
  cluster = await startCluster({ nodes: 1 });
  topic = await createTopic(uniqueTopic('kafka-down'), 1, cluster.brokers);
  proxy = await spawnServer({
    KAFKA_PROXY_TOKEN: TOKEN,
    KAFKA_PROXY_KAFKA_SERVER: cluster.brokers.join(','),
    KAFKA_PROXY_TOPIC: topic,
    KAFKA_PROXY_ACK_TIMEOUT: String(ACK_TIMEOUT_S),
  });
}, 180_000);

afterAll(async () => {
  await proxy?.stop('SIGKILL');
  await cluster?.stop();
}, 60_000);

const push = (value: string) =>
  fetch(`${proxy.url}/`, {
    method: 'POST',
    headers: { 'x-kafka-proxy-token': TOKEN, 'content-type': 'application/octet-stream' },
    body: encodeFrames([Buffer.from(value)]),
  });

const readyStatus = async () => (await fetch(`${proxy.url}/readyz`)).status;

describe('Kafka stopped under the proxy (dedicated broker)', () => {
  it('refuses with 503 and Retry-After while Kafka is down, answers truthfully what was sent, and recovers', async () => {
    expect((await push('before')).status).toBe(200);
    expect(await readyStatus()).toBe(200);

    await cluster.stopNode(1);

    // A request that reaches Kafka's client before the outage is noticed is sent, and may be
    // written: it is answered by Kafka's outcome, once Kafka is back, never by a guess.
    const inFlight = push('in-flight');

    // Once readiness reports the outage, requests are refused at once and nothing is queued.
    await expect.poll(readyStatus, { timeout: 15_000, interval: 200 }).toBe(503);
    const refused = await push('refused-while-down');
    expect(refused.status).toBe(503);
    expect(((await refused.json()) as { error: string }).error).toBe('kafka_unavailable');
    expect(refused.headers.get('retry-after')).not.toBeNull();

    await cluster.startNode(1);
    await expect.poll(readyStatus, { timeout: 60_000, interval: 500 }).toBe(200);
    await expect
      .poll(async () => (await push('after')).status, { timeout: 60_000, interval: 500 })
      .toBe(200);
    const answered = await inFlight;

    const values = texts(await readAll(topic, cluster.brokers));
    expect(values).toContain('before');
    expect(values).toContain('after');
    expect(values).not.toContain('refused-while-down');
    // 200 only if it is in Kafka, and a 5xx only if it is not.
    expect({ status: answered.status, inKafka: values.includes('in-flight') }).toEqual(
      answered.status === 200 ? { status: 200, inKafka: true } : { status: 503, inKafka: false },
    );
  }, 180_000);

  it('starts while Kafka is down: serves, answers 503, and turns ready by itself when Kafka starts', async () => {
    await cluster.stopNode(1);
    const early = await spawnServer({
      KAFKA_PROXY_TOKEN: TOKEN,
      KAFKA_PROXY_KAFKA_SERVER: cluster.brokers.join(','),
      KAFKA_PROXY_TOPIC: topic,
      KAFKA_PROXY_ACK_TIMEOUT: String(ACK_TIMEOUT_S),
    });
    try {
      expect((await fetch(`${early.url}/healthz`)).status).toBe(200);
      const ready = await fetch(`${early.url}/readyz`);
      expect(ready.status).toBe(503);
      const refused = await fetch(`${early.url}/`, {
        method: 'POST',
        headers: { 'x-kafka-proxy-token': TOKEN, 'content-type': 'application/octet-stream' },
        body: encodeFrames([Buffer.from('before-kafka')]),
      });
      expect(refused.status).toBe(503);
      expect(refused.headers.get('retry-after')).not.toBeNull();

      await cluster.startNode(1);
      await expect
        .poll(async () => (await fetch(`${early.url}/readyz`)).status, {
          timeout: 60_000,
          interval: 250,
        })
        .toBe(200);
      const pushed = await fetch(`${early.url}/`, {
        method: 'POST',
        headers: { 'x-kafka-proxy-token': TOKEN, 'content-type': 'application/octet-stream' },
        body: encodeFrames([Buffer.from('after-kafka-started')]),
      });
      expect(pushed.status).toBe(200);
      const values = texts(await readAll(topic, cluster.brokers));
      expect(values).toContain('after-kafka-started');
      expect(values).not.toContain('before-kafka');
    } finally {
      await early.stop('SIGKILL');
    }
  }, 180_000);

  it('delivers every buffered request it answered 202 across a broker restart', async () => {
    const sent: string[] = [];
    const pushBuffered = async (value: string) =>
      fetch(`${proxy.url}/`, {
        method: 'POST',
        headers: {
          'x-kafka-proxy-token': TOKEN,
          'content-type': 'application/octet-stream',
          'x-kafka-proxy-ack': 'buffered',
        },
        body: encodeFrames([Buffer.from(value)]),
      });
    await expect.poll(readyStatus, { timeout: 60_000, interval: 250 }).toBe(200);
    // Pushes keep arriving while the broker stops and starts; every one answered 202 must land.
    let stop = false;
    const pusher = (async () => {
      for (let i = 0; !stop; i++) {
        const value = `buffered-${i}`;
        const res = await pushBuffered(value);
        if (res.status === 202) sent.push(value);
        else expect(res.status).toBe(503);
        await res.body?.cancel();
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    await new Promise((r) => setTimeout(r, 300));
    await cluster.stopNode(1);
    await new Promise((r) => setTimeout(r, 5_000));
    await cluster.startNode(1);
    await expect.poll(readyStatus, { timeout: 60_000, interval: 250 }).toBe(200);
    await new Promise((r) => setTimeout(r, 300));
    stop = true;
    await pusher;
    expect(sent.length).toBeGreaterThan(10);
    await expect
      .poll(
        async () => {
          const values = new Set(texts(await readAll(topic, cluster.brokers)));
          return sent.filter((v) => !values.has(v));
        },
        { timeout: 60_000, interval: 1_000 },
      )
      .toEqual([]);
  }, 180_000);
});
