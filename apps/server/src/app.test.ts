import { gzipSync, brotliCompressSync, deflateSync } from 'node:zlib';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeFrames, encodeRecords, type ProxyRecord } from '@kproxy/framing';
import { describe, expect, it, onTestFinished } from 'vitest';
import { ROUTES } from '@kproxy/protocol';
import { ProxyError } from './errors.js';
import { openApiDocument } from './openapi.js';
import { partitionForKey } from './partition.js';
import { TOKEN, testApp } from '../test/support/test-app.js';

/** A directory of its own for the test, removed when the test ends. */
async function scratchDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'kp-'));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const framed = (...texts: string[]): Uint8Array => encodeFrames(texts.map(enc));
const OCTET = { 'content-type': 'application/octet-stream' };
const auth = { 'x-kafka-proxy-token': TOKEN };

async function post(
  app: Awaited<ReturnType<typeof testApp>>['app'],
  path: string,
  body: Uint8Array | undefined,
  headers: Record<string, string> = {},
) {
  return app.request(path, {
    method: 'POST',
    ...(body === undefined ? {} : { body }),
    headers: { ...OCTET, ...auth, ...headers },
  });
}

async function errorOf(res: Response): Promise<{ status: number; error: string; message: string }> {
  const json = (await res.json()) as { error: string; message: string };
  return { status: res.status, ...json };
}

describe('POST / (original client compatibility)', () => {
  it('answers "N messages received" and produces the frames, in order, to the default topic', async () => {
    const { app, producer } = await testApp();
    const res = await post(app, '/', framed('This is a test', '', 'third'));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(await res.text()).toBe('3 messages received');
    const partitions = [...producer.text('default-topic').values()];
    expect(partitions).toEqual([['This is a test', '', 'third']]);
  });

  it('accepts Authorization: Bearer as well', async () => {
    const { app } = await testApp();
    const res = await app.request('/', {
      method: 'POST',
      body: framed('x'),
      headers: { ...OCTET, authorization: `Bearer ${TOKEN}` },
    });
    expect(res.status).toBe(200);
  });

  it('answers JSON with partition and base offset when Accept prefers it', async () => {
    const { app, producer } = await testApp();
    await post(app, '/topics/j', framed('first'));
    const res = await post(app, '/topics/j', framed('a', 'bc'), { accept: 'application/json' });
    const body = (await res.json()) as {
      topic: string;
      count: number;
      bytes: number;
      partition: number;
      baseOffset: string;
    };
    expect(body).toMatchObject({ topic: 'j', count: 2, bytes: 3, ack: 'durable' });
    const log = producer.text('j').get(body.partition) ?? [];
    expect(log[Number(body.baseOffset)]).toBe('a');
    expect(log[Number(body.baseOffset) + 1]).toBe('bc');
  });

  it('answers 202 in buffered mode when the request asks for it', async () => {
    const { app } = await testApp();
    const res = await post(app, '/', framed('x'), { 'x-kafka-proxy-ack': 'buffered' });
    expect(res.status).toBe(202);
    expect(await res.text()).toBe('1 messages received');
  });

  it('decodes gzip, deflate and br bodies', async () => {
    const { app, producer } = await testApp();
    const body = framed('zipped');
    for (const [encoding, data] of [
      ['gzip', gzipSync(body)],
      ['deflate', deflateSync(body)],
      ['br', brotliCompressSync(body)],
    ] as const) {
      const res = await post(app, '/topics/z', data, { 'content-encoding': encoding });
      expect(res.status, encoding).toBe(200);
    }
    expect([...producer.text('z').values()].flat()).toEqual(['zipped', 'zipped', 'zipped']);
  });
});

describe('errors: status, stable code, message, and nothing produced', () => {
  it('rejects a truncated frame with 400 naming its offset', async () => {
    const { app, producer } = await testApp();
    const body = framed('ok', 'cut').subarray(0, 6 + 4 + 1);
    const res = await errorOf(await post(app, '/', body));
    expect(res).toMatchObject({ status: 400, error: 'truncated_frame' });
    expect(res.message).toContain('offset 6');
    expect(producer.sends).toHaveLength(0);
  });

  it('rejects an empty body with 400', async () => {
    const { app } = await testApp();
    expect(await errorOf(await post(app, '/', new Uint8Array()))).toMatchObject({
      status: 400,
      error: 'empty_body',
    });
    expect(await errorOf(await post(app, '/', undefined))).toMatchObject({
      status: 400,
      error: 'empty_body',
    });
  });

  it('rejects a bad topic name with 400', async () => {
    const { app } = await testApp();
    // '.' and '..' cannot be sent through app.request(): its URL resolves them away before the
    // app sees the path. test/http-edge.test.ts sends them over a socket.
    for (const bad of ['a:b', 'a%20b', 'x'.repeat(250), 'caf%C3%A9']) {
      expect(await errorOf(await post(app, `/topics/${bad}`, framed('x'))), bad).toMatchObject({
        status: 400,
        error: 'invalid_topic',
      });
    }
  });

  it('rejects a missing or wrong token with 401 and never logs the token', async () => {
    const { app, lines } = await testApp();
    expect(
      await errorOf(await app.request('/', { method: 'POST', body: framed('x'), headers: OCTET })),
    ).toMatchObject({ status: 401, error: 'unauthorized' });
    const wrong = await post(app, '/', framed('x'), { 'x-kafka-proxy-token': 'wrong-token-value' });
    expect(await errorOf(wrong)).toMatchObject({ status: 401, error: 'unauthorized' });
    await post(app, '/', framed('x'));
    expect(lines.join('')).not.toContain(TOKEN);
    expect(lines.join('')).not.toContain('wrong-token-value');
  });

  it("rejects a topic outside the token's patterns with 403", async () => {
    const dir = await scratchDir();
    const file = join(dir, 'tokens');
    await writeFile(file, '# limited\nlimited-token orders.* logs-?\n');
    const { app, producer } = await testApp({ KAFKA_PROXY_TOKENS_FILE: file });
    const limited = { 'x-kafka-proxy-token': 'limited-token' };
    expect((await post(app, '/topics/orders.eu', framed('x'), limited)).status).toBe(200);
    expect((await post(app, '/topics/logs-1', framed('x'), limited)).status).toBe(200);
    expect(await errorOf(await post(app, '/topics/payments', framed('x'), limited))).toMatchObject({
      status: 403,
      error: 'forbidden',
    });
    expect(await errorOf(await post(app, '/topic/payments', undefined, limited))).toMatchObject({
      status: 403,
      error: 'forbidden',
    });
    expect(producer.text('payments').size).toBe(0);
  });

  it('rejects a message over the limit with 413 before reading the rest', async () => {
    const { app, producer } = await testApp({ KAFKA_PROXY_MAX_MESSAGE_BYTES: '10' });
    const res = await errorOf(await post(app, '/', framed('small', 'x'.repeat(11))));
    expect(res).toMatchObject({ status: 413, error: 'message_too_large' });
    expect(res.message).toContain('frame 1');
    expect(producer.sends).toHaveLength(0);
  });

  it('rejects a body over the limit with 413, also when it only grows that large decompressed', async () => {
    const { app, producer } = await testApp({
      KAFKA_PROXY_MAX_BODY_BYTES: '100000',
      KAFKA_PROXY_MAX_MESSAGE_BYTES: '100000',
    });
    expect(await errorOf(await post(app, '/', framed('x'.repeat(200_000))))).toMatchObject({
      status: 413,
    });
    // 50 MB of zeros gzip to ~50 KB: a small request that must not be inflated in full.
    const bomb = gzipSync(new Uint8Array(50 * 1024 * 1024));
    const started = Date.now();
    const res = await errorOf(await post(app, '/', bomb, { 'content-encoding': 'gzip' }));
    expect(res).toMatchObject({ status: 413 });
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(producer.sends).toHaveLength(0);
  });

  it('rejects a wrong Content-Type and an unknown Content-Encoding with 415', async () => {
    const { app } = await testApp();
    expect(
      await errorOf(await post(app, '/', framed('x'), { 'content-type': 'text/plain' })),
    ).toMatchObject({ status: 415, error: 'unsupported_media_type' });
    expect(
      await errorOf(await post(app, '/', framed('x'), { 'content-encoding': 'zstd' })),
    ).toMatchObject({ status: 415, error: 'unsupported_encoding' });
  });

  it('refuses an empty x-kafka-proxy-ack header with 400 instead of taking the default', async () => {
    const { app, producer } = await testApp();
    const res = await post(app, '/', framed('x'), { 'x-kafka-proxy-ack': '' });
    expect(await errorOf(res)).toMatchObject({ status: 400, error: 'bad_request' });
    expect(producer.text('default-topic').size).toBe(0);
  });

  it('answers 401 with WWW-Authenticate, and names a malformed Authorization header', async () => {
    const { app } = await testApp();
    const missing = await app.request('/topic');
    expect(missing.status).toBe(401);
    expect(missing.headers.get('www-authenticate')).toBe('Bearer realm="kafka-proxy"');
    const basic = await app.request('/topic', { headers: { authorization: `Basic ${TOKEN}` } });
    expect(basic.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect((await errorOf(basic)).message).toContain('Bearer <token>');
    // Two Authorization headers arrive joined: refused, whichever one holds the right token.
    const twice = new Headers();
    twice.append('authorization', `Bearer ${TOKEN}`);
    twice.append('authorization', 'Bearer wrong');
    expect((await app.request('/topic', { headers: twice })).status).toBe(401);
    const repeated = new Headers();
    repeated.append('x-kafka-proxy-token', TOKEN);
    repeated.append('x-kafka-proxy-token', TOKEN);
    expect((await app.request('/topic', { headers: repeated })).status).toBe(401);
    // Bytes outside ASCII in the token are just a wrong token.
    const latin1 = await app.request('/topic', {
      headers: { 'x-kafka-proxy-token': `${TOKEN}\u00e9\u00ff` },
    });
    expect(await errorOf(latin1)).toMatchObject({ status: 401, error: 'unauthorized' });
  });

  it('refuses a body of more messages than KAFKA_PROXY_MAX_BODY_MESSAGES with 413, queueing nothing', async () => {
    const { app, producer } = await testApp({ KAFKA_PROXY_MAX_BODY_MESSAGES: '1000' });
    const res = await post(app, '/', new Uint8Array(4 * 1001));
    expect(await errorOf(res)).toMatchObject({ status: 413, error: 'too_many_messages' });
    expect(producer.text('default-topic').size).toBe(0);
    expect((await post(app, '/', new Uint8Array(4 * 1000))).status).toBe(200);
  });

  it('answers 503 with Retry-After when the buffer bound would be exceeded, queueing nothing', async () => {
    const { app, producer } = await testApp({
      KAFKA_PROXY_MAX_BUFFERED_BYTES: '1000',
      KAFKA_PROXY_MAX_BODY_BYTES: '1000',
    });
    let open!: () => void;
    producer.gate = new Promise((resolve) => (open = resolve));
    const holding = post(app, '/', framed('y'.repeat(900)));
    await new Promise((r) => setTimeout(r, 20));
    const res = await post(app, '/', framed('z'.repeat(200)));
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('1');
    expect((await errorOf(res)).error).toBe('buffer_full');
    open();
    expect((await holding).status).toBe(200);
    expect([...producer.text('default-topic').values()].flat().some((m) => m.startsWith('z'))).toBe(
      false,
    );
  });

  it('answers 503 ack_timeout to a request not sent in time, and withdraws it', async () => {
    const { app, producer } = await testApp({
      KAFKA_PROXY_ACK_TIMEOUT: '0.2',
      KAFKA_FLUSHER_MAX_IN_FLIGHT: '1',
    });
    // The one send allowed in flight never ends, so the second request is never sent.
    producer.gate = new Promise(() => undefined);
    void post(app, '/', framed('stuck'));
    await new Promise((r) => setTimeout(r, 20));
    const res = await post(app, '/', framed('late'));
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).not.toBeNull();
    expect((await errorOf(res)).error).toBe('ack_timeout');
    expect(producer.sends.flat().flatMap((b) => b.messages)).toEqual([enc('stuck')]);
  });

  it('answers 503 kafka_unavailable at once when the producer is not ready', async () => {
    const { app, producer } = await testApp();
    producer.ready = false;
    expect(await errorOf(await post(app, '/', framed('x')))).toMatchObject({
      status: 503,
      error: 'kafka_unavailable',
    });
    const readiness = await app.request('/readyz');
    expect(await errorOf(readiness)).toMatchObject({ status: 503, error: 'kafka_unavailable' });
    expect(readiness.headers.get('retry-after')).toBe('1');
    expect(producer.sends).toHaveLength(0);
  });

  it('answers unknown paths with 404 and wrong methods with 405, as JSON', async () => {
    const { app } = await testApp();
    expect(await errorOf(await app.request('/nope', { headers: auth }))).toMatchObject({
      status: 404,
      error: 'not_found',
    });
    const res = await app.request('/topic', { method: 'DELETE', headers: auth });
    expect(res.headers.get('allow')).toBe('GET');
    expect(await errorOf(res)).toMatchObject({ status: 405, error: 'method_not_allowed' });
    expect(await errorOf(await app.request('/', { headers: auth }))).toMatchObject({ status: 405 });
  });
});

describe('default topic', () => {
  it('changes the default topic, persists it atomically, and later pushes land there', async () => {
    const dir = await scratchDir();
    const cache = join(dir, 'topic');
    const { app, producer } = await testApp({ KAFKA_FLUSHER_TOPIC_CACHE: cache });
    const res = await post(app, '/topic/next-topic', undefined);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('Topic changed to next-topic');
    expect((await readFile(cache, 'utf8')).trim()).toBe('next-topic');
    expect(await (await app.request('/topic', { headers: auth })).json()).toEqual({
      topic: 'next-topic',
    });
    await post(app, '/', framed('m'));
    expect([...producer.text('next-topic').values()].flat()).toEqual(['m']);
    // A new process starts from the cache, unless the configured topic is forced.
    expect((await testApp({ KAFKA_FLUSHER_TOPIC_CACHE: cache })).topicStore.current()).toBe(
      'next-topic',
    );
    expect(
      (
        await testApp({ KAFKA_FLUSHER_TOPIC_CACHE: cache, KAFKA_PROXY_FORCE_TOPIC: 'true' })
      ).topicStore.current(),
    ).toBe('default-topic');
  });

  it('answers 500 and keeps the old topic when the cache cannot be written', async () => {
    const dir = await scratchDir();
    // The cache's directory does not exist, so the write fails (permissions would not stop root).
    const { app } = await testApp({ KAFKA_FLUSHER_TOPIC_CACHE: join(dir, 'missing-dir', 'topic') });
    const res = await errorOf(await post(app, '/topic/other', undefined));
    expect(res).toMatchObject({ status: 500, error: 'topic_store_failed' });
    expect(await (await app.request('/topic', { headers: auth })).json()).toEqual({
      topic: 'default-topic',
    });
  });

  it('rejects an invalid topic name with 400', async () => {
    const { app } = await testApp();
    expect(await errorOf(await post(app, '/topic/bad%20name', undefined))).toMatchObject({
      status: 400,
      error: 'invalid_topic',
    });
  });
});

describe('operations', () => {
  it('echoes a valid x-request-id and makes one up otherwise', async () => {
    const { app, lines } = await testApp();
    const res = await app.request('/healthz', { headers: { 'x-request-id': 'abc-123' } });
    expect(res.headers.get('x-request-id')).toBe('abc-123');
    expect(lines.some((l) => l.includes('"reqId":"abc-123"') && l.includes('"status":200'))).toBe(
      true,
    );
    const other = await app.request('/healthz');
    expect(other.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('logs and counts a request for an unknown path like any other', async () => {
    const { app, lines } = await testApp();
    const res = await app.request('/nowhere', { headers: { 'x-request-id': 'lost-1' } });
    expect(res.status).toBe(404);
    expect(lines.some((l) => l.includes('"reqId":"lost-1"') && l.includes('"status":404'))).toBe(
      true,
    );
    const text = await (await app.request('/metrics', { headers: auth })).text();
    expect(text).toContain('route="unmatched",method="GET",status="404"} 1');
  });

  it('sends the request id on error responses too', async () => {
    const { app } = await testApp();
    for (const [path, init] of [
      ['/nowhere', {}],
      ['/healthz', { method: 'POST' }],
      ['/', { method: 'POST' }],
    ] as const) {
      const res = await app.request(path, { ...init, headers: { 'x-request-id': 'err-1' } });
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(res.headers.get('x-request-id')).toBe('err-1');
    }
  });

  it('turns readiness to 503 and refuses pushes once shutdown begins', async () => {
    const proxy = await testApp();
    const { app } = proxy;
    expect((await app.request('/readyz')).status).toBe(200);
    proxy.beginShutdown();
    expect(await errorOf(await app.request('/readyz'))).toMatchObject({
      status: 503,
      error: 'shutting_down',
    });
    expect(await errorOf(await post(app, '/', framed('x')))).toMatchObject({
      status: 503,
      error: 'shutting_down',
    });
  });

  it('serves Prometheus metrics counting requests and messages', async () => {
    const { app } = await testApp();
    await post(app, '/topics/m', framed('a', 'b'));
    const text = await (await app.request('/metrics', { headers: auth })).text();
    expect(text).toContain(
      'kafka_proxy_http_requests_total{route="/topics/{topic}",method="POST",status="200"} 1',
    );
    expect(text).toContain('kafka_proxy_messages_received_total{topic="m"} 2');
    expect(text).toContain('kafka_proxy_messages_produced_total{topic="m"} 2');
  });

  it('describes byte bodies, every status the HTTP layer can answer and x-request-id in its OpenAPI document', () => {
    type Operation = {
      requestBody?: { content: Record<string, { schema?: Record<string, unknown> }> };
      responses: Record<string, { headers?: Record<string, unknown> }>;
    };
    const doc = openApiDocument() as {
      servers?: { url: string }[];
      paths: Record<string, Record<string, Operation>>;
    };
    expect(doc.servers).toEqual([expect.objectContaining({ url: '/' })]);
    const operations = Object.values(doc.paths).flatMap((ops) => Object.values(ops));
    for (const op of operations) {
      for (const status of ['400', '404', '405', '408', '431', '500', '501'])
        expect(op.responses, status).toHaveProperty(status);
      for (const [status, response] of Object.entries(op.responses))
        expect(response.headers, status).toHaveProperty('x-request-id');
    }
    const bodies = operations.flatMap((op) => Object.entries(op.requestBody?.content ?? {}));
    // Frames and records on both produce routes; the Confluent-v2 JSON bodies on /topics/{topic}.
    expect(bodies.map(([type]) => type).sort()).toEqual([
      'application/octet-stream',
      'application/octet-stream',
      'application/vnd.kafka-proxy.records.v1',
      'application/vnd.kafka-proxy.records.v1',
      'application/vnd.kafka.binary.v2+json',
      'application/vnd.kafka.json.v2+json',
    ]);
    for (const [type, body] of bodies) {
      if (type.endsWith('+json')) {
        expect(body.schema).toMatchObject({ type: 'object', required: ['records'] });
        continue;
      }
      // A JSON Schema `type: string` refuses bytes: raw bodies are described without a type.
      expect(body.schema).not.toHaveProperty('type');
      expect(body.schema).toMatchObject({ contentMediaType: type });
    }
  });

  it('documents exactly the routes the app serves in its OpenAPI document', async () => {
    const { app } = await testApp();
    const served = (await (await app.request('/openapi.json', { headers: auth })).json()) as {
      openapi: string;
      paths: Record<string, Record<string, unknown>>;
    };
    expect(served.openapi).toBe('3.1.0');
    const documented = Object.entries(
      openApiDocument().paths as Record<string, Record<string, unknown>>,
    )
      .flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`))
      .sort();
    const routes = Object.values(ROUTES)
      .flatMap((r) => r.methods.map((m) => `${m} ${r.path}`))
      .sort();
    const registered = [
      ...new Set(
        app.routes
          .filter((r) => r.method !== 'ALL')
          .map((r) => `${r.method} ${r.path.replace(/:(\w+)/g, '{$1}')}`),
      ),
    ].sort();
    expect(documented).toEqual(routes);
    expect(registered).toEqual(routes);
  });
});

/** Bytes the buffer budget holds now (its gauge). */
const reserved = async (metrics: {
  reservedBytes: { get(): Promise<{ values: { value: number }[] }> };
}) => (await metrics.reservedBytes.get()).values[0]?.value;

describe('a request whose records span partitions', () => {
  const RECORDS = { 'content-type': 'application/vnd.kafka-proxy.records.v1' };
  const keyed = (...keys: string[]) =>
    encodeRecords(
      keys.map((k) => ({ key: enc(k), value: enc(`v-${k}`), headers: [], timestamp: null })),
    );

  it('writes each partition in request order and answers each record where it went', async () => {
    const { app, producer } = await testApp();
    producer.partitions = 4;
    const keys = ['a', 'b', 'c', 'd', 'a', 'e', 'b'];
    // Each value names its place in the request, so an order mixed up within a partition shows.
    const body = encodeRecords(
      keys.map((k, i) => ({ key: enc(k), value: enc(`v-${i}`), headers: [], timestamp: null })),
    );
    const res = await post(app, '/topics/t', body, { ...RECORDS, accept: 'application/json' });
    expect(res.status).toBe(200);
    const { offsets } = (await res.json()) as { offsets: { partition: number; offset: string }[] };
    // Each record is in its key's partition, at the offset the reply gives it, after the records
    // before it in the request.
    const last = new Map<number, number>();
    for (const [i, key] of keys.entries()) {
      const { partition, offset } = offsets[i] as { partition: number; offset: string };
      expect(partition).toBe(partitionForKey(enc(key), 4));
      const log = producer.logs.get(`t/${partition}`) ?? [];
      const written = log[Number(offset)] as ProxyRecord;
      expect(written.key).toEqual(enc(key));
      expect(written.value).toEqual(enc(`v-${i}`));
      expect(Number(offset)).toBeGreaterThan(last.get(partition) ?? -1);
      last.set(partition, Number(offset));
    }
  });

  it('answers the error of a partition that failed, and gives every byte back', async () => {
    const { app, producer, metrics } = await testApp();
    producer.partitions = 4;
    // 'a' and 'c' land in different partitions: one written, the other refused.
    const failing = partitionForKey(enc('c'), 4);
    expect(partitionForKey(enc('a'), 4)).not.toBe(failing);
    producer.failBatch = (batch) =>
      batch.partition === failing ? new ProxyError('kafka_rejected', 'refused') : undefined;
    const res = await post(app, '/topics/t', keyed('a', 'c'), RECORDS);
    expect((await errorOf(res)).error).toBe('kafka_rejected');
    expect(await reserved(metrics)).toBe(0);
  });

  it('refuses a partition header out of range, producing nothing and giving every byte back', async () => {
    const { app, producer, metrics } = await testApp();
    producer.partitions = 2;
    const res = await post(app, '/topics/t', keyed('a'), {
      ...RECORDS,
      'x-kafka-proxy-partition': '2',
    });
    expect(await errorOf(res)).toMatchObject({ status: 400, error: 'invalid_partition' });
    expect(producer.sends).toEqual([]);
    expect(await reserved(metrics)).toBe(0);
  });

  it('refuses a request key on a records body', async () => {
    const { app, producer } = await testApp();
    const res = await post(app, '/topics/t', keyed('a'), { ...RECORDS, 'x-kafka-proxy-key': 'k' });
    expect(await errorOf(res)).toMatchObject({ status: 400, error: 'bad_request' });
    expect(producer.sends).toEqual([]);
  });
});
