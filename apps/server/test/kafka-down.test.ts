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
  it('answers 503 with Retry-After within the ack timeout, produces nothing refused, and recovers', async () => {
    expect((await push('before')).status).toBe(200);
    expect(await readyStatus()).toBe(200);

    await cluster.stopNode(1);

    // A request that reaches Kafka's client before the outage is noticed times out: 503 in time.
    // Its messages may still land once Kafka is back (at-least-once), so it is not checked below.
    const started = Date.now();
    const inFlight = await push('maybe-delivered');
    expect(inFlight.status).toBe(503);
    expect(inFlight.headers.get('retry-after')).not.toBeNull();
    expect(Date.now() - started).toBeLessThan(ACK_TIMEOUT_S * 1000 + 1000);

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

    const values = texts(await readAll(topic, cluster.brokers));
    expect(values).toContain('before');
    expect(values).toContain('after');
    expect(values).not.toContain('refused-while-down');
  }, 180_000);
});
