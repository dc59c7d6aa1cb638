import { describe, expect, it } from 'vitest';
import {
  acceptedTexts,
  kafkaUnavailable,
  startFakeProxy,
  type FakeProxy,
} from '@kproxy/fake-proxy';
import { useFakeProxy } from '../test/fake-proxy-client.js';
import { KafkaProxyError } from './errors.js';
import type { RetryEvent } from './options.js';

const setup = useFakeProxy();
const { open } = setup;
const fastRetry = { initialDelayMs: 5, maxDelayMs: 20 };

describe('retries', () => {
  it('waits out Retry-After: 1 twice, then succeeds', async () => {
    setup.fake.script.push(kafkaUnavailable('1'), kafkaUnavailable('1'));
    const retries: RetryEvent[] = [];
    const c = open({ retry: fastRetry, hooks: { onRetry: (e) => retries.push(e) } });
    const started = Date.now();
    const result = await c.send('patient', { topic: 't' });
    const elapsed = Date.now() - started;
    expect(result.durable).toBe(true);
    expect(elapsed).toBeGreaterThanOrEqual(2000);
    expect(elapsed).toBeLessThan(8000);
    expect(setup.fake.requests.filter((r) => r.path === '/topics/t')).toHaveLength(3);
    expect(retries.map((e) => [e.attempt, e.delayMs >= 1000, e.error.status])).toEqual([
      [1, true, 503],
      [2, true, 503],
    ]);
  });

  it('honours Retry-After given as an HTTP date', async () => {
    setup.fake.script.push(kafkaUnavailable(new Date(Date.now() + 1500).toUTCString()));
    const c = open({ retry: fastRetry });
    const started = Date.now();
    await c.send('dated');
    // HTTP dates have one-second resolution, so the wait is between 0.5 s and 1.5 s.
    expect(Date.now() - started).toBeGreaterThanOrEqual(450);
  });

  it('retries 429 and dropped connections', async () => {
    setup.fake.script.push(
      { status: 429, body: '{"error":"rate_limited","message":"slow down"}' },
      { status: 0, destroy: true },
    );
    const c = open({ retry: fastRetry });
    await expect(c.send('x')).resolves.toMatchObject({ durable: true });
    expect(setup.fake.accepted).toHaveLength(1);
    expect(setup.fake.requests).toHaveLength(3);
  });

  it('fails at once on 401 with the status and the server code', async () => {
    const c = open({ token: 'wrong', retry: fastRetry });
    const err = await c.send('x').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KafkaProxyError);
    expect(err).toMatchObject({
      status: 401,
      code: 'unauthorized',
      retriable: false,
      attempts: 1,
      message: 'invalid token',
    });
    expect(setup.fake.requests).toHaveLength(1);
  });

  it('fails at once on 400 and 413', async () => {
    setup.fake.script.push(
      { status: 400, body: '{"error":"truncated_frame","message":"frame 0 truncated"}' },
      { status: 413, body: '{"error":"body_too_large","message":"too big"}' },
    );
    const c = open({ retry: fastRetry });
    await expect(c.sendBatch(['a'])).rejects.toMatchObject({
      status: 400,
      code: 'truncated_frame',
    });
    await expect(c.sendBatch(['b'])).rejects.toMatchObject({ status: 413, code: 'body_too_large' });
    expect(setup.fake.requests).toHaveLength(2);
  });

  it("does not retry the proxy's own 502 (Kafka rejected the messages)", async () => {
    setup.fake.script.push({ status: 502, body: '{"error":"kafka_rejected","message":"too big"}' });
    const c = open({ retry: fastRetry });
    await expect(c.send('x')).rejects.toMatchObject({
      status: 502,
      code: 'kafka_rejected',
      retriable: false,
      attempts: 1,
    });
    expect(setup.fake.requests).toHaveLength(1);
  });

  it('retries a 502 or 504 from an ingress in front of the proxy', async () => {
    setup.fake.script.push(
      { status: 502, headers: { 'content-type': 'text/html' }, body: '<h1>Bad Gateway</h1>' },
      { status: 504, headers: { 'content-type': 'text/html' }, body: '<h1>Gateway Timeout</h1>' },
    );
    const c = open({ retry: fastRetry });
    await expect(c.send('x')).resolves.toMatchObject({ durable: true });
    expect(setup.fake.requests).toHaveLength(3);
  });

  it('names a non-JSON error answer by its status', async () => {
    setup.fake.script.push({
      status: 502,
      headers: { 'content-type': 'text/html' },
      body: 'Bad Gateway',
    });
    const c = open({ retry: { ...fastRetry, attempts: 1 } });
    await expect(c.send('x')).rejects.toMatchObject({
      status: 502,
      code: 'http_error',
      retriable: true,
      message: expect.stringContaining('Bad Gateway') as string,
    });
  });

  it('gives up after retry.attempts with the last error and the attempt count', async () => {
    setup.fake.script.push(
      kafkaUnavailable(),
      kafkaUnavailable(),
      kafkaUnavailable(),
      kafkaUnavailable(),
    );
    const failures: string[] = [];
    const c = open({
      retry: { ...fastRetry, attempts: 3 },
      hooks: { onFailure: (e) => failures.push(`${e.messages}:${e.error.code}`) },
    });
    await expect(c.send('x')).rejects.toMatchObject({
      code: 'kafka_unavailable',
      status: 503,
      attempts: 3,
      retriable: true,
    });
    expect(setup.fake.requests).toHaveLength(3);
    expect(failures).toEqual(['1:kafka_unavailable']);
  });

  it('keeps retrying past six attempts when only the time budget is set', async () => {
    setup.fake.script.push(...Array.from({ length: 10 }, () => kafkaUnavailable('0.01')));
    const c = open({ retry: fastRetry });
    await expect(c.send('x')).resolves.toMatchObject({ durable: true });
    expect(setup.fake.requests).toHaveLength(11);
  });

  it('gives up on a longer outage once retry.maxElapsedMs has passed', async () => {
    setup.fake.script.push(...Array.from({ length: 1000 }, () => kafkaUnavailable('0.05')));
    const c = open({ retry: { ...fastRetry, maxElapsedMs: 500 } });
    const started = Date.now();
    const err = (await c.send('x').catch((e: unknown) => e)) as KafkaProxyError;
    expect(err).toMatchObject({ code: 'kafka_unavailable', status: 503 });
    expect(err.attempts).toBeGreaterThan(6);
    expect(Date.now() - started).toBeGreaterThanOrEqual(450);
    expect(Date.now() - started).toBeLessThan(1500);
  });

  it('does not wait for a Retry-After beyond retry.maxElapsedMs', async () => {
    setup.fake.script.push(kafkaUnavailable('3600'));
    const c = open({ retry: { ...fastRetry, maxElapsedMs: 2000 } });
    const started = Date.now();
    await expect(c.send('x')).rejects.toMatchObject({ code: 'kafka_unavailable', attempts: 1 });
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('reports an unreachable server as a retriable network_error', async () => {
    const url = setup.fake.url;
    await setup.fake.close();
    const c = open({ url, retry: { ...fastRetry, attempts: 2 } });
    await expect(c.send('x')).rejects.toMatchObject({
      code: 'network_error',
      retriable: true,
      attempts: 2,
      status: undefined,
      message: expect.stringContaining('ECONNREFUSED') as string,
    });
    setup.fake = await startFakeProxy(); // for afterEach
  });

  it('times out a request that gets no answer and retries it', async () => {
    setup.fake.script.push({ status: 0, hang: true });
    const c = open({ requestTimeoutMs: 200, retry: fastRetry });
    await expect(c.send('x')).resolves.toMatchObject({ durable: true });
    await c.close();
    const c2 = open({ requestTimeoutMs: 200, retry: { attempts: 1 } });
    setup.fake.script.push({ status: 0, hang: true });
    await expect(c2.send('y')).rejects.toMatchObject({ code: 'timeout', retriable: true });
  });
});

describe('a server restart during a stream of sends', () => {
  it('delivers every resolved send once the server is back', async () => {
    const port = Number(new URL(setup.fake.url).port);
    const first = setup.fake;
    const c = open({
      batch: { maxMessages: 50, lingerMs: 5 },
      retry: { initialDelayMs: 20, maxDelayMs: 200, attempts: 30 },
    });
    const sends: Promise<unknown>[] = [];
    let second: FakeProxy | undefined;
    for (let i = 0; i < 300; i++) {
      sends.push(c.send(`m${i}`, { topic: 'restart' }));
      if (i === 100) await first.close();
      if (i === 200) second = await startFakeProxy({ port });
      await new Promise((r) => setTimeout(r, 1));
    }
    const settled = await Promise.allSettled(sends);
    expect(settled.filter((s) => s.status === 'rejected')).toEqual([]);
    const landed = [...acceptedTexts(first), ...acceptedTexts(second!)];
    expect(new Set(landed)).toEqual(new Set(Array.from({ length: 300 }, (_, i) => `m${i}`)));
    expect(acceptedTexts(second!).length).toBeGreaterThan(0);
    setup.fake = second!;
  });
});
