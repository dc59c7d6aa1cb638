import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KafkaProxyClient, KafkaProxyError } from '../src/index.js';
import { createTopic, kafkaBrokers, readAllValues, readValues, uniqueTopic } from '@kproxy/testkit';
import { startFlakyIngress, startProxy, type ProxyProcess } from '@kproxy/testkit/proxy-process';
import { runReadmeQuickStart } from './readme.js';

let proxy: ProxyProcess;
beforeAll(async () => {
  proxy = await startProxy({ brokers: kafkaBrokers() });
});
afterAll(async () => {
  await proxy.stop();
});

const hex = (values: Uint8Array[]): string[] =>
  values.map((v) => Buffer.from(v).toString('hex')).sort();

describe('against a real server and broker', () => {
  it('10,000 concurrent sends land byte for byte, in far fewer requests', async () => {
    const topic = uniqueTopic('sdk-10k');
    await createTopic(topic);
    const client = new KafkaProxyClient({ url: proxy.url, token: proxy.token });
    // Binary payloads with newlines and zero bytes, each unique.
    const payloads = Array.from({ length: 10_000 }, (_, i) => {
      const p = Buffer.concat([Buffer.from(`${i}\n\0`), randomBytes(i % 300)]);
      return p;
    });
    const before = await proxy.produceRequests();
    const results = await Promise.all(payloads.map((p) => client.send(p, { topic })));
    await client.close();
    const requests = (await proxy.produceRequests()) - before;
    const stored = await readValues(topic, 10_000);
    expect(stored).toHaveLength(10_000);
    expect(hex(stored)).toEqual(hex(payloads));
    expect(requests).toBeLessThanOrEqual(20);
    // Each result names the offset its message was stored at.
    const byOffset = new Map(stored.map((v, offset) => [String(offset), v]));
    results.forEach((r, i) => expect(byOffset.get(r.offset!)).toEqual(payloads[i]));
    console.info(`10,000 sends -> ${requests} produce requests`);
  });

  it('waits out two 503 Retry-After: 1 answers from an ingress, then lands', async () => {
    const topic = uniqueTopic('sdk-retry');
    await createTopic(topic);
    const ingress = await startFlakyIngress(proxy.url);
    const unavailable = {
      status: 503,
      headers: { 'content-type': 'application/json', 'retry-after': '1' },
      body: '{"error":"kafka_unavailable","message":"retry later"}',
    };
    ingress.failures.push(unavailable, unavailable);
    const client = new KafkaProxyClient({ url: ingress.url, token: proxy.token });
    const started = Date.now();
    const result = await client.send('after two 503s', { topic });
    const elapsed = Date.now() - started;
    await client.close();
    await ingress.close();
    expect(elapsed).toBeGreaterThanOrEqual(2000);
    expect(ingress.arrivals).toHaveLength(3);
    expect(result).toMatchObject({ topic, offset: '0', durable: true });
    expect((await readValues(topic, 1)).map(String)).toEqual(['after two 503s']);
  });

  it('fails at once on a wrong token (401) and an oversized message (413)', async () => {
    const topic = uniqueTopic('sdk-4xx');
    const wrong = new KafkaProxyClient({ url: proxy.url, token: 'not-the-token' });
    const err401 = await wrong.send('x', { topic }).catch((e: unknown) => e);
    await wrong.close();
    expect(err401).toBeInstanceOf(KafkaProxyError);
    expect(err401).toMatchObject({
      status: 401,
      code: 'unauthorized',
      attempts: 1,
      retriable: false,
    });

    const client = new KafkaProxyClient({ url: proxy.url, token: proxy.token });
    // Over the server's 1,000,000-byte message limit, under the client's own.
    const err413 = await client.send(Buffer.alloc(1_040_000), { topic }).catch((e: unknown) => e);
    await client.close();
    expect(err413).toMatchObject({ status: 413, code: 'message_too_large', attempts: 1 });
  });

  it('every resolved send is in Kafka after the server is killed and restarted', async () => {
    const topic = uniqueTopic('sdk-restart');
    await createTopic(topic);
    let server = await startProxy({ brokers: kafkaBrokers() });
    let retries = 0;
    const port = server.port;
    const client = new KafkaProxyClient({
      url: server.url,
      token: server.token,
      batch: { maxMessages: 100, lingerMs: 5 },
      retry: { attempts: 50, maxDelayMs: 500, maxElapsedMs: 60_000 },
      hooks: { onRetry: () => void retries++ },
    });
    const sends: Promise<unknown>[] = [];
    for (let i = 0; i < 3000; i++) {
      sends.push(client.send(`m${i}`, { topic }));
      if (i === 1000) await server.stop('SIGKILL');
      if (i === 1500) server = await startProxy({ brokers: kafkaBrokers(), port });
      if (i % 10 === 0) await new Promise((r) => setTimeout(r, 2));
    }
    const settled = await Promise.allSettled(sends);
    await client.close();
    const resolved = settled.flatMap((s, i) => (s.status === 'fulfilled' ? [`m${i}`] : []));
    const stored = (await readAllValues(topic)).map(String);
    const storedSet = new Set(stored);
    expect(resolved.filter((m) => !storedSet.has(m))).toEqual([]);
    expect(retries).toBeGreaterThan(0); // the outage was felt, and ridden out
    const duplicates = stored.length - storedSet.size;
    console.info(
      `restart: ${resolved.length}/3000 resolved, ${settled.length - resolved.length} rejected, ` +
        `${duplicates} duplicates, ${retries} retries`,
    );
    await server.stop();
  });

  it('close() resolves only after messages sent just before it are in Kafka', async () => {
    const topic = uniqueTopic('sdk-close');
    await createTopic(topic);
    const client = new KafkaProxyClient({
      url: proxy.url,
      token: proxy.token,
      batch: { lingerMs: 60_000 },
    });
    const sends = ['x', 'y', 'z'].map((m) => client.send(m, { topic }));
    await client.close();
    expect((await readValues(topic, 3)).map(String)).toEqual(['x', 'y', 'z']);
    await Promise.all(sends);
  });

  it('the README quick start sends to a real server', async () => {
    const stdout = await runReadmeQuickStart(proxy.url, proxy.token);
    expect(stdout).toMatch(/^readme-events partition \d+ offset \d+\n/);
    const offsets = [...stdout.matchAll(/offset (\d+)/g)].map((m) => Number(m[1]));
    const values = (await readValues('readme-events', Math.max(...offsets) + 1)).map(String);
    expect(offsets.map((o) => values[o])).toEqual(['first', 'second', 'third']);
  });
});
