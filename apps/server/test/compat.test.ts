// Drop-in compatibility: the original Python proxy's clients keep working unchanged (its routes,
// header, body format, success texts and variable names; see the top of apps/server/README.md),
// through a real listening server.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeFrames } from '@kproxy/framing';
import { afterEach, describe, expect, it, onTestFinished } from 'vitest';
import { brokers, createTopic, readAll, texts, uniqueTopic } from './kafka.js';
import { spawnServer, type ServerProcess } from '@kproxy/testkit/proxy-process';

const TOKEN = 'compat-token-7f1c';
const frames = (...values: string[]) => encodeFrames(values.map((v) => Buffer.from(v)));

let running: ServerProcess[] = [];
afterEach(async () => {
  await Promise.all(running.map((p) => p.stop()));
  running = [];
});

async function proxy(env: Record<string, string>) {
  const p = await spawnServer({
    KAFKA_PROXY_TOKEN: TOKEN,
    KAFKA_PROXY_KAFKA_SERVER: brokers().join(','),
    ...env,
  });
  running.push(p);
  return p;
}

const push = (url: string, path: string, body?: Uint8Array) =>
  fetch(`${url}${path}`, {
    method: 'POST',
    headers: { 'x-kafka-proxy-token': TOKEN, 'content-type': 'application/octet-stream' },
    ...(body === undefined ? {} : { body }),
  });

describe('original client compatibility (real socket, real Kafka)', () => {
  it('POST / with x-kafka-proxy-token answers "N messages received" and Kafka holds the messages byte for byte', async () => {
    const topic = uniqueTopic('compat');
    await createTopic(topic, 1);
    const p = await proxy({ KAFKA_PROXY_TOPIC: topic });
    const res = await push(p.url, '/', frames('This is a test', '', 'ünïcödé'));
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('3 messages received');
    expect(texts(await readAll(topic))).toEqual(['This is a test', '', 'ünïcödé']);
  });

  it('POST /topic/x changes the default topic, later pushes land in x, and x survives a restart', async () => {
    const first = uniqueTopic('compat-a');
    const second = uniqueTopic('compat-b');
    await createTopic(first, 1);
    await createTopic(second, 1);
    const cacheDir = await mkdtemp(join(tmpdir(), 'kp-cache-'));
    onTestFinished(() => rm(cacheDir, { recursive: true, force: true }));
    const cache = join(cacheDir, 'topic');
    const env = { KAFKA_PROXY_TOPIC: first, KAFKA_FLUSHER_TOPIC_CACHE: cache };

    const p1 = await proxy(env);
    expect(await (await push(p1.url, '/', frames('before'))).text()).toBe('1 messages received');
    const change = await push(p1.url, `/topic/${second}`);
    expect(change.status).toBe(200);
    expect(await change.text()).toBe(`Topic changed to ${second}`);
    expect(await (await push(p1.url, '/', frames('after'))).text()).toBe('1 messages received');
    expect(await p1.stop()).toBe(0);

    const p2 = await proxy(env);
    const current = await fetch(`${p2.url}/topic`, { headers: { 'x-kafka-proxy-token': TOKEN } });
    expect(await current.json()).toEqual({ topic: second });
    expect((await push(p2.url, '/', frames('after restart'))).status).toBe(200);

    expect(texts(await readAll(first))).toEqual(['before']);
    expect(texts(await readAll(second))).toEqual(['after', 'after restart']);
  });
});
