// Every client error status of the API (apps/server/README.md, "Routes"), through a real socket;
// afterwards Kafka must hold none of the rejected requests' messages.
import { writeFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { encodeFrames } from '@kproxy/framing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { brokers, createTopic, readAll, texts, uniqueTopic } from './kafka.js';
import { spawnServer, type ServerProcess } from '@kproxy/testkit/proxy-process';

const TOKEN = 'errors-token-2b9e';
const LIMITED = 'limited-token-41aa';
const frames = (...values: (string | Uint8Array)[]) =>
  encodeFrames(values.map((v) => (typeof v === 'string' ? Buffer.from(v) : v)));

let proxy: ServerProcess;
let topic: string;
let dir: string;
const rejected: string[] = [];

beforeAll(async () => {
  topic = uniqueTopic('errors');
  await createTopic(topic, 2);
  dir = await mkdtemp(join(tmpdir(), 'kp-tokens-'));
  await writeFile(join(dir, 'tokens'), `${LIMITED} ${topic}-allowed.*\n`);
  proxy = await spawnServer({
    KAFKA_PROXY_TOKEN: TOKEN,
    KAFKA_PROXY_TOKENS_FILE: join(dir, 'tokens'),
    KAFKA_PROXY_KAFKA_SERVER: brokers().join(','),
    KAFKA_PROXY_TOPIC: topic,
    KAFKA_PROXY_MAX_MESSAGE_BYTES: '1000',
    KAFKA_PROXY_MAX_BODY_BYTES: '100000',
    KAFKA_PROXY_MAX_BUFFERED_BYTES: '150000',
  });
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
  const code = await proxy.stop();
  expect(code, proxy.logs.filter((l) => !l.includes('"request"')).join('\n')).toBe(0);
});

/** A message value unique to one rejected request, so the read-back can look for it. */
function marker(name: string): string {
  const value = `rejected:${name}`;
  rejected.push(value);
  return value;
}

async function post(
  path: string,
  body: RequestInit['body'] | undefined,
  headers: Record<string, string> = {},
) {
  const res = await fetch(`${proxy.url}${path}`, {
    method: 'POST',
    headers: {
      'x-kafka-proxy-token': TOKEN,
      'content-type': 'application/octet-stream',
      ...headers,
    },
    ...(body === undefined ? {} : { body, duplex: 'half' }),
  });
  const text = await res.text();
  let json: { error?: string; message?: string } = {};
  try {
    json = JSON.parse(text) as typeof json;
  } catch {
    // success bodies are text
  }
  return { status: res.status, headers: res.headers, text, ...json };
}

describe('error statuses (real socket, real Kafka)', () => {
  it('400 truncated_frame names the byte offset', async () => {
    const first = marker('truncated');
    const body = frames(first, 'x'.repeat(10)).subarray(0, -3);
    const res = await post('/', body);
    expect(res).toMatchObject({ status: 400, error: 'truncated_frame' });
    expect(res.message).toContain(`frame 1, which starts at byte offset ${4 + first.length}`);
  });

  it('400 empty_body', async () => {
    expect(await post('/', new Uint8Array())).toMatchObject({ status: 400, error: 'empty_body' });
  });

  it('400 invalid_topic', async () => {
    expect(await post('/topics/no%20spaces', frames(marker('bad-topic')))).toMatchObject({
      status: 400,
      error: 'invalid_topic',
    });
  });

  it('401 without a token and with a wrong one', async () => {
    expect(
      await post('/', frames(marker('no-token')), { 'x-kafka-proxy-token': '' }),
    ).toMatchObject({ status: 401, error: 'unauthorized' });
    expect(
      await post('/', frames(marker('wrong-token')), { 'x-kafka-proxy-token': 'not-it' }),
    ).toMatchObject({ status: 401, error: 'unauthorized' });
  });

  it("403 for a topic outside the token's patterns", async () => {
    const res = await post('/', frames(marker('forbidden')), { 'x-kafka-proxy-token': LIMITED });
    expect(res).toMatchObject({ status: 403, error: 'forbidden' });
  });

  it('413 message_too_large and body_too_large, also for a gzip bomb', async () => {
    expect(await post('/', frames(marker('big-message-ok'), 'y'.repeat(1001)))).toMatchObject({
      status: 413,
      error: 'message_too_large',
    });
    const many = Array.from({ length: 200 }, (_, i) =>
      i === 0 ? marker('big-body') : 'z'.repeat(900),
    );
    expect(await post('/', frames(...many))).toMatchObject({
      status: 413,
      error: 'body_too_large',
    });
    // 256 MiB of zeros after one valid frame: ~1 MB compressed; refused long before it is inflated.
    const bomb = gzipSync(
      Buffer.concat([Buffer.from(frames(marker('bomb'))), Buffer.alloc(1 << 28)]),
      { level: 1 },
    );
    const started = Date.now();
    expect(await post('/', bomb, { 'content-encoding': 'gzip' })).toMatchObject({
      status: 413,
      error: 'body_too_large',
    });
    expect(Date.now() - started).toBeLessThan(3_000);
  });

  it('415 for a wrong Content-Type and an unknown Content-Encoding', async () => {
    expect(
      await post('/', frames(marker('text-plain')), { 'content-type': 'text/plain' }),
    ).toMatchObject({ status: 415, error: 'unsupported_media_type' });
    expect(
      await post('/', frames(marker('compress')), { 'content-encoding': 'compress' }),
    ).toMatchObject({ status: 415, error: 'unsupported_encoding' });
  });

  it('503 buffer_full with Retry-After when uploads in progress hold the buffer bound', async () => {
    // Two uploads that stream 70 KB of complete frames and then stall hold 140 KB of the 150 KB.
    const stalled = [0, 1].map((i) => {
      let push!: ReadableStreamDefaultController<Uint8Array>;
      const body = new ReadableStream<Uint8Array>({ start: (c) => void (push = c) });
      push.enqueue(
        frames(
          ...Array.from({ length: 70 }, (_, j) =>
            j === 0 ? marker(`stalled-${i}`) : 'w'.repeat(999),
          ),
        ),
      );
      const controller = new AbortController();
      const done = fetch(`${proxy.url}/`, {
        method: 'POST',
        headers: { 'x-kafka-proxy-token': TOKEN, 'content-type': 'application/octet-stream' },
        body,
        duplex: 'half',
        signal: controller.signal,
      }).catch(() => undefined);
      return { controller, done };
    });
    await expect
      .poll(
        async () => {
          const metrics = await (
            await fetch(`${proxy.url}/metrics`, { headers: { 'x-kafka-proxy-token': TOKEN } })
          ).text();
          return Number(/^kafka_proxy_reserved_bytes (\d+)/m.exec(metrics)?.[1] ?? 0);
        },
        { timeout: 10_000 },
      )
      .toBeGreaterThanOrEqual(2 * 69 * 999);

    const res = await post(
      '/',
      frames(
        marker('buffer-full'),
        'v'.repeat(999),
        'v'.repeat(999),
        ...Array.from({ length: 20 }, () => 'u'.repeat(999)),
      ),
    );
    expect(res).toMatchObject({ status: 503, error: 'buffer_full' });
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
    for (const s of stalled) s.controller.abort();
    await Promise.all(stalled.map((s) => s.done));
    // The aborted uploads gave their bytes back: a normal request is accepted again.
    await expect
      .poll(async () => (await post('/', frames('accepted after abort'))).status, {
        timeout: 10_000,
      })
      .toBe(200);
  });

  it("Kafka holds none of the rejected requests' messages", async () => {
    expect((await post('/', frames('sentinel'))).status).toBe(200);
    const values = texts(await readAll(topic));
    expect(values).toContain('sentinel');
    for (const value of rejected) expect(values, value).not.toContain(value);
  });
});
