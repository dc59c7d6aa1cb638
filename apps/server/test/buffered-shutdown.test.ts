// Buffered mode (202, flushed within the flush interval) and graceful shutdown, as "Delivery" in
// apps/server/README.md describes them: whatever got 200/202 is in Kafka, late connections are
// refused, and the process exits 0.
import { connect } from 'node:net';
import { encodeFrames } from '@kproxy/framing';
import { afterEach, describe, expect, it } from 'vitest';
import { brokers, createTopic, readAll, texts, uniqueTopic } from './kafka.js';
import { spawnServer, type ServerProcess } from '@kproxy/testkit/proxy-process';

const TOKEN = 'buffered-token-5e2a';
const frames = (...values: string[]) => encodeFrames(values.map((v) => Buffer.from(v)));

let running: ServerProcess | undefined;
afterEach(async () => {
  await running?.stop('SIGKILL');
  running = undefined;
});

function post(url: string, body: RequestInit['body'], headers: Record<string, string> = {}) {
  return fetch(`${url}/`, {
    method: 'POST',
    headers: {
      'x-kafka-proxy-token': TOKEN,
      'content-type': 'application/octet-stream',
      ...headers,
    },
    body,
    duplex: 'half',
  } as RequestInit);
}

function connectionRefused(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect(Number(port), hostname);
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code === 'ECONNREFUSED'));
  });
}

describe('buffered mode and graceful shutdown (real process, real Kafka)', () => {
  it('answers 202 at once and the messages appear in Kafka within the flush interval', async () => {
    const topic = uniqueTopic('buffered');
    await createTopic(topic, 1);
    running = await spawnServer({
      KAFKA_PROXY_TOKEN: TOKEN,
      KAFKA_PROXY_KAFKA_SERVER: brokers().join(','),
      KAFKA_PROXY_TOPIC: topic,
      KAFKA_PROXY_ACK_MODE: 'buffered',
      KAFKA_FLUSHER_TIMEOUT: '0.5',
    });
    const sent = Date.now();
    const res = await post(running.url, frames('one', 'two'));
    expect(res.status).toBe(202);
    expect(await res.text()).toBe('2 messages received');
    expect(Date.now() - sent).toBeLessThan(400);
    await expect
      .poll(async () => texts(await readAll(topic)), { timeout: 5_000, interval: 100 })
      .toEqual(['one', 'two']);
    // The linger is 0.5 s; reading back adds consumer start-up time, so allow a generous margin.
    expect(Date.now() - sent).toBeLessThan(5_000);
  });

  it('on SIGTERM finishes in-flight requests, flushes the buffer, refuses new connections and exits 0', async () => {
    const topic = uniqueTopic('shutdown');
    await createTopic(topic, 3);
    const proxy = await spawnServer({
      KAFKA_PROXY_TOKEN: TOKEN,
      KAFKA_PROXY_KAFKA_SERVER: brokers().join(','),
      KAFKA_PROXY_TOPIC: topic,
      KAFKA_PROXY_ACK_MODE: 'buffered',
      // A long linger keeps the buffered requests in memory when the signal arrives.
      KAFKA_FLUSHER_TIMEOUT: '3',
    });
    running = proxy;

    const buffered = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        post(proxy.url, frames(`buffered-${i}-a`, `buffered-${i}-b`)),
      ),
    );
    expect(buffered.map((r) => r.status)).toEqual(Array(20).fill(202));

    // Durable requests waiting for their batch, and an upload still streaming, when the signal comes.
    const durable = Array.from({ length: 5 }, (_, i) =>
      post(proxy.url, frames(`durable-${i}`), { 'x-kafka-proxy-ack': 'durable' }),
    );
    let push!: ReadableStreamDefaultController<Uint8Array>;
    const upload = post(
      proxy.url,
      new ReadableStream<Uint8Array>({ start: (c) => void (push = c) }),
    );
    push.enqueue(frames('streamed-1'));
    await new Promise((r) => setTimeout(r, 300));

    const exitCode = proxy.exited;
    proxy.child.kill('SIGTERM');
    await expect
      .poll(() => connectionRefused(proxy.url), { timeout: 2_000, interval: 50 })
      .toBe(true);
    push.enqueue(frames('streamed-2'));
    push.close();

    const durableStatuses = await Promise.all(durable.map(async (r) => (await r).status));
    expect(durableStatuses).toEqual(Array(5).fill(200));
    expect((await upload).status).toBe(202);
    expect(await exitCode).toBe(0);

    const values = new Set(texts(await readAll(topic)));
    for (let i = 0; i < 20; i++) {
      expect(values.has(`buffered-${i}-a`) && values.has(`buffered-${i}-b`), `buffered-${i}`).toBe(
        true,
      );
    }
    for (let i = 0; i < 5; i++) expect(values.has(`durable-${i}`), `durable-${i}`).toBe(true);
    expect(values.has('streamed-1') && values.has('streamed-2')).toBe(true);
    expect(values.size).toBe(20 * 2 + 5 + 2);
  });

  describe('when a shutdown cannot finish (an upload stalls)', () => {
    async function stalledUpload(proxy: ServerProcess) {
      let push!: ReadableStreamDefaultController<Uint8Array>;
      const body = new ReadableStream<Uint8Array>({ start: (c) => void (push = c) });
      push.enqueue(frames('never finished'));
      const done = post(proxy.url, body).catch(() => undefined);
      await expect
        .poll(async () => {
          const text = await (
            await fetch(`${proxy.url}/metrics`, { headers: { 'x-kafka-proxy-token': TOKEN } })
          ).text();
          return Number(/^kafka_proxy_reserved_bytes (\d+)/m.exec(text)?.[1] ?? 0);
        })
        .toBeGreaterThan(0);
      return done;
    }

    it('a second signal exits at once with 130', async () => {
      const topic = uniqueTopic('second-signal');
      await createTopic(topic, 1);
      const proxy = await spawnServer({
        KAFKA_PROXY_TOKEN: TOKEN,
        KAFKA_PROXY_KAFKA_SERVER: brokers().join(','),
        KAFKA_PROXY_TOPIC: topic,
      });
      running = proxy;
      void stalledUpload(proxy);
      await new Promise((r) => setTimeout(r, 100));
      proxy.child.kill('SIGTERM');
      await new Promise((r) => setTimeout(r, 500));
      expect(proxy.child.exitCode).toBeNull();
      const started = Date.now();
      proxy.child.kill('SIGINT');
      expect(await proxy.exited).toBe(130);
      expect(Date.now() - started).toBeLessThan(2_000);
    });

    it('gives up after the shutdown timeout with exit code 1', async () => {
      const topic = uniqueTopic('shutdown-timeout');
      await createTopic(topic, 1);
      const proxy = await spawnServer({
        KAFKA_PROXY_TOKEN: TOKEN,
        KAFKA_PROXY_KAFKA_SERVER: brokers().join(','),
        KAFKA_PROXY_TOPIC: topic,
        KAFKA_PROXY_SHUTDOWN_TIMEOUT: '1',
      });
      running = proxy;
      void stalledUpload(proxy);
      await new Promise((r) => setTimeout(r, 100));
      const started = Date.now();
      proxy.child.kill('SIGTERM');
      expect(await proxy.exited).toBe(1);
      expect(Date.now() - started).toBeGreaterThanOrEqual(900);
      expect(Date.now() - started).toBeLessThan(3_000);
    });
  });
});
