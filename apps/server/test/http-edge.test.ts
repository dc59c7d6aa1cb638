// The HTTP edge through a real listening socket: what a client sees when its bytes are not quite
// what the routes expect (dot-segments, transfer codings, trailing garbage) and when the server
// shuts down under a client that keeps its connections alive. The server runs in this process on
// a fake producer, so what was produced can be checked exactly; no broker is needed.
import { connect, type Socket } from 'node:net';
import { Writable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { encodeFrames, encodeRecords } from '@kproxy/framing';
import { CONTENT_TYPES } from '@kproxy/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { ProxyError } from '../src/errors.js';
import { createLogger } from '../src/logger.js';
import { partitionForKey } from '../src/partition.js';
import type { Message, ProduceBatch } from '../src/producer.js';
import { startServer, type RunningServer } from '../src/server.js';
import { TOKEN, testApp } from './support/test-app.js';

let running: RunningServer | undefined;
afterEach(async () => {
  running?.forceClose();
  await running?.shutdown();
  running = undefined;
});

async function serve(env: Record<string, string> = {}) {
  const proxy = await testApp({ KAFKA_PROXY_HOST: '127.0.0.1', KAFKA_PROXY_PORT: '0', ...env });
  const quiet = new Writable({ write: (_chunk, _encoding, done) => done() });
  running = await startServer({
    proxy,
    config: proxy.config,
    logger: createLogger('info', quiet),
    producer: proxy.producer,
    topicStore: proxy.topicStore,
  });
  return { ...proxy, server: running };
}

/** One client connection speaking raw bytes, so nothing between the test and the server fixes them. */
class RawConnection {
  private received = '';
  private consumed = 0;
  /** The socket error, if the connection ended in one (`ECONNRESET`, `EPIPE`). */
  error: string | undefined;
  closed = false;
  private waiters: (() => void)[] = [];

  private constructor(private readonly socket: Socket) {
    socket.setEncoding('latin1');
    socket.on('data', (text: string) => {
      this.received += text;
      this.wake();
    });
    socket.on('error', (error: NodeJS.ErrnoException) => {
      this.error = error.code ?? error.message;
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
  }

  static open(url: string): Promise<RawConnection> {
    const { hostname, port } = new URL(url);
    return new Promise((resolve, reject) => {
      const socket = connect(Number(port), hostname);
      socket.once('connect', () => resolve(new RawConnection(socket)));
      socket.once('error', reject);
    });
  }

  send(bytes: string | Uint8Array): void {
    this.socket.write(bytes);
  }

  /** The next complete response (framed by its Content-Length), or what arrived before the close. */
  async response(timeoutMs = 5_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const rest = this.received.slice(this.consumed);
      const end = rest.indexOf('\r\n\r\n');
      if (end !== -1) {
        const length = Number(/\r\ncontent-length: *(\d+)/i.exec(rest.slice(0, end))?.[1] ?? 0);
        if (rest.length >= end + 4 + length) {
          this.consumed += end + 4 + length;
          return rest.slice(0, end + 4 + length);
        }
      }
      if (this.closed || Date.now() > deadline) {
        this.consumed = this.received.length;
        return rest;
      }
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
  }

  /** Resolves once the server closed the connection (false after `timeoutMs`). */
  async whenClosed(timeoutMs = 5_000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed && Date.now() < deadline) {
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
    return this.closed;
  }

  destroy(): void {
    this.socket.destroy();
  }

  private wake(): void {
    for (const waiter of this.waiters.splice(0)) waiter();
  }
}

/** Sends one request with `Connection: close` and returns the status line's code and the body. */
async function rawRequest(url: string, request: string | Uint8Array) {
  const connection = await RawConnection.open(url);
  connection.send(request);
  const text = await connection.response();
  connection.destroy();
  const [head = '', body = ''] = text.split('\r\n\r\n');
  const status = Number(/^HTTP\/1\.1 (\d{3}) /.exec(head)?.[1]);
  let json: { error?: string } = {};
  try {
    json = JSON.parse(body) as typeof json;
  } catch {
    // not every body is JSON: successes are text, metrics are Prometheus text
  }
  return { status, head, body, error: json.error };
}

const FRAME = Buffer.from(encodeFrames([Buffer.from('edge')]));
const request = (method: string, path: string, headers = '', body: string | Buffer = '') =>
  Buffer.concat([
    Buffer.from(
      `${method} ${path} HTTP/1.1\r\nHost: proxy\r\nx-kafka-proxy-token: ${TOKEN}\r\n` +
        `Content-Type: application/octet-stream\r\n${headers}\r\n`,
      'latin1',
    ),
    Buffer.from(body),
  ]);
const post = (path: string, extraHeaders = '') =>
  request('POST', path, `Content-Length: ${FRAME.length}\r\n${extraHeaders}`, FRAME);

describe('dot-segments: the path is routed as sent', () => {
  it.each(['/topics/%2e%2e', '/topics/%2E.', '/topics/..', '/topics/%2e', '/topic/%2e%2e'])(
    'refuses POST %s with 400 invalid_topic and produces nothing',
    async (path) => {
      const { server, producer, topicStore } = await serve();
      const res = await rawRequest(server.url, post(path, 'Connection: close\r\n'));
      expect({ status: res.status, error: res.error }).toEqual({
        status: 400,
        error: 'invalid_topic',
      });
      expect(producer.sends).toHaveLength(0);
      expect(topicStore.current()).toBe('default-topic');
    },
  );

  it.each([
    ['POST', '/topics/%2e%2e/topic/hijacked'],
    ['POST', '/topics/../topic/hijacked'],
    ['GET', '/topics/%2e%2e/metrics'],
    ['GET', '/topics/%2e%2e/%2e%2e/metrics'],
    ['GET', '/topics/./../openapi.json'],
  ])('answers %s %s with 404: no route of that shape exists', async (method, path) => {
    const { server, producer, topicStore } = await serve();
    const res = await rawRequest(
      server.url,
      method === 'POST' ? post(path, 'Connection: close\r\n') : request(method, path),
    );
    expect({ status: res.status, error: res.error }).toEqual({ status: 404, error: 'not_found' });
    expect(res.body).not.toContain('kafka_proxy_');
    expect(producer.sends).toHaveLength(0);
    expect(topicStore.current()).toBe('default-topic');
  });

  it('still routes ordinary paths and percent-encoded topic characters', async () => {
    const { server, producer } = await serve();
    expect((await rawRequest(server.url, post('/topics/a%2Db.c'))).status).toBe(200);
    expect([...producer.text('a-b.c').values()].flat()).toEqual(['edge']);
  });
});

describe('transfer codings', () => {
  it('answers a coding other than chunked with 501 in the JSON error format and produces nothing', async () => {
    const { server, producer } = await serve();
    const gzipped = gzipSync(FRAME);
    const chunked = `${gzipped.length.toString(16)}\r\n${gzipped.toString('latin1')}\r\n0\r\n\r\n`;
    for (const codings of ['gzip, chunked', 'deflate,chunked', 'x-custom ; q=1, CHUNKED']) {
      const res = await rawRequest(
        server.url,
        request('POST', '/', `Transfer-Encoding: ${codings}\r\n`, Buffer.from(chunked, 'latin1')),
      );
      expect({ status: res.status, error: res.error }, codings).toEqual({
        status: 501,
        error: 'unsupported_transfer_coding',
      });
      expect(res.head).toMatch(/\r\nconnection: close\r\n/i);
      expect(res.head).toMatch(/\r\nx-request-id: [\w-]+\r\n/i);
    }
    // Two Transfer-Encoding fields are one list (RFC 9110 §5.3).
    const split = await rawRequest(
      server.url,
      request(
        'POST',
        '/',
        'Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n',
        Buffer.from(chunked, 'latin1'),
      ),
    );
    expect(split.status).toBe(501);
    expect(producer.sends).toHaveLength(0);
  });

  it('accepts plain chunked bodies', async () => {
    const { server, producer } = await serve();
    const body = `${FRAME.length.toString(16)}\r\n${FRAME.toString('latin1')}\r\n0\r\n\r\n`;
    const res = await rawRequest(
      server.url,
      request('POST', '/', 'Transfer-Encoding: Chunked\r\n', Buffer.from(body, 'latin1')),
    );
    expect(res.status).toBe(200);
    expect([...producer.text('default-topic').values()].flat()).toEqual(['edge']);
  });
});

describe('a valid request followed by bytes that are not HTTP', () => {
  it('answers the valid request in full, then refuses the rest with 400 and closes', async () => {
    const { server, producer } = await serve();
    const connection = await RawConnection.open(server.url);
    // Content-Length covers the frame only: what follows is read as the next request line.
    connection.send(Buffer.concat([post('/topics/first'), Buffer.from('and some trailing bytes')]));
    const first = await connection.response();
    expect(first).toMatch(/^HTTP\/1\.1 200 [\s\S]*\r\n\r\n1 messages received$/);
    const second = await connection.response();
    expect(second).toMatch(/^HTTP\/1\.1 400 [\s\S]*"error":"bad_request"/);
    expect(await connection.whenClosed()).toBe(true);
    expect(connection.error).toBeUndefined();
    expect([...producer.text('first').values()].flat()).toEqual(['edge']);
  });

  it('answers a durable request still waiting for Kafka before refusing what follows it', async () => {
    const { server, producer } = await serve();
    let release!: () => void;
    producer.gate = new Promise((resolve) => (release = resolve));
    const connection = await RawConnection.open(server.url);
    try {
      connection.send(
        Buffer.concat([post('/topics/held'), Buffer.from('\x00\x01garbage\r\n\r\n')]),
      );
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(connection.closed).toBe(false);
    } finally {
      release();
    }
    expect(await connection.response()).toMatch(/^HTTP\/1\.1 200 /);
    expect(await connection.response()).toMatch(/^HTTP\/1\.1 400 /);
    expect(await connection.whenClosed()).toBe(true);
  });
});

describe('refusals from the HTTP parser', () => {
  it.each([
    ['400', 'POST / HTTP/1.1\r\nHost: proxy\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n'],
    ['431', `GET /healthz HTTP/1.1\r\nHost: proxy\r\nX-Padding: ${'a'.repeat(70_000)}\r\n\r\n`],
  ])('carry an x-request-id like every other response (%s)', async (status, raw) => {
    const { server } = await serve();
    const res = await rawRequest(server.url, raw);
    expect(res.status).toBe(Number(status));
    expect(res.head).toMatch(/\r\nx-request-id: [0-9a-f-]{36}\r\n/i);
  });
});

describe('graceful shutdown with idle keep-alive connections', () => {
  it('answers a request sent on each idle connection after shutdown began: 503 with Connection: close, never a reset', async () => {
    const { server, producer } = await serve();
    const connections = await Promise.all(
      Array.from({ length: 5 }, () => RawConnection.open(server.url)),
    );
    for (const connection of connections) {
      connection.send(request('GET', '/healthz'));
      expect(await connection.response()).toMatch(/^HTTP\/1\.1 200 /);
    }
    const done = server.shutdown();
    for (const connection of connections) connection.send(post('/'));
    for (const connection of connections) {
      const answer = await connection.response();
      expect(answer).toMatch(/^HTTP\/1\.1 503 /);
      expect(answer).toMatch(/\r\nconnection: close\r\n/i);
      expect(answer).toMatch(/\r\nretry-after: \d+\r\n/i);
      expect(answer).toMatch(/"error":"shutting_down"/);
      expect(await connection.whenClosed()).toBe(true);
      expect(connection.error).toBeUndefined();
    }
    await done;
    expect(producer.sends).toHaveLength(0);
  });

  it('closes connections that stay idle, so shutdown completes well within its timeout', async () => {
    const { server } = await serve();
    const idle = await RawConnection.open(server.url);
    idle.send(request('GET', '/healthz'));
    await idle.response();
    const started = Date.now();
    await server.shutdown();
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(await idle.whenClosed(1_000)).toBe(true);
  });
});

describe("a body's memory, given back once Kafka has it", () => {
  /** Keeps the very views the flusher hands the producer, not the fake's copies. */
  function captureViews(producer: { send(batches: readonly ProduceBatch[]): Promise<unknown> }) {
    const views: Message[] = [];
    const send = producer.send.bind(producer);
    producer.send = (batches) => {
      for (const batch of batches) views.push(...batch.messages);
      return send(batches);
    };
    return views;
  }
  const valueOf = (m: Message) => (m instanceof Uint8Array ? m : m.value);
  const postBody = (url: string, body: Uint8Array, contentType = 'application/octet-stream') =>
    fetch(`${url}/topics/orders`, {
      method: 'POST',
      headers: { 'x-kafka-proxy-token': TOKEN, 'content-type': contentType },
      body: Buffer.from(body),
    });

  it('frees the chunks and reassembled frames of an acknowledged body; what Kafka got is whole', async () => {
    const { server, producer } = await serve();
    const views = captureViews(producer);
    // 3000-byte values over a 600 KB body: many frames cross the socket's 64 KiB reads; and two
    // of 300 KB, each in pieces of several reads.
    const values = Array.from({ length: 200 }, (_, i) => Buffer.alloc(3000, i % 256));
    values.splice(50, 0, Buffer.alloc(300_000, 'x'));
    values.push(Buffer.alloc(300_000, 'y'));
    const res = await postBody(server.url, encodeFrames(values));
    expect(res.status).toBe(200);
    await res.text();
    expect(views).toHaveLength(202);
    expect(views.every((m) => valueOf(m)?.byteLength === 0)).toBe(true);
    const written = [...producer.logs.values()].flat();
    expect(written.map((m) => Buffer.from(valueOf(m) ?? []))).toEqual(values);
  });

  it("keeps a body whole until every partition of it is written: a partition's retry sends its bytes intact", async () => {
    const { server, producer } = await serve();
    producer.partitions = 4;
    const views = captureViews(producer);
    const keys = ['a', 'c'];
    const failing = partitionForKey(Buffer.from('c'), 4);
    expect(partitionForKey(Buffer.from('a'), 4)).not.toBe(failing);
    // The first batch for 'c' fails retriably after the one for 'a' was written.
    let failures = 0;
    producer.failBatch = (batch) =>
      batch.partition === failing && failures++ === 0
        ? new ProxyError('kafka_unavailable', 'leader moved')
        : undefined;
    const records = keys.map((key) => ({
      key: Buffer.from(key),
      value: Buffer.alloc(70_000, key),
      headers: [],
      timestamp: null,
    }));
    const res = await postBody(server.url, encodeRecords(records), CONTENT_TYPES.records);
    expect(res.status).toBe(200);
    await res.text();
    expect(failures).toBeGreaterThan(1);
    const text = producer.text('orders');
    expect(text.get(failing)).toEqual(['c'.repeat(70_000)]);
    expect(text.get(partitionForKey(Buffer.from('a'), 4))).toEqual(['a'.repeat(70_000)]);
    expect(views.every((m) => valueOf(m)?.byteLength === 0)).toBe(true);
  });

  it('keeps a body Kafka refused: nothing is freed that a failed send may still hold', async () => {
    const { server, producer } = await serve();
    const views = captureViews(producer);
    producer.failWith = new ProxyError('kafka_rejected', 'refused');
    const res = await postBody(server.url, encodeFrames([Buffer.alloc(5000, 7)]));
    expect(res.status).toBe(502);
    await res.text();
    expect(views.map((m) => valueOf(m)?.byteLength)).toEqual([5000]);
  });

  it('frees a buffered request only once Kafka acknowledged it, after the answer', async () => {
    const { server, producer } = await serve({ KAFKA_PROXY_ACK_MODE: 'buffered' });
    const views = captureViews(producer);
    let open!: () => void;
    producer.gate = new Promise((resolve) => (open = resolve));
    const value = Buffer.alloc(100_000, 9);
    const res = await postBody(server.url, encodeFrames([value]));
    try {
      expect(res.status).toBe(202);
      await res.text();
      await expect.poll(() => views.length).toBe(1);
      expect(valueOf(views[0] as Message)?.byteLength).toBe(100_000);
    } finally {
      open();
    }
    await expect.poll(() => valueOf(views[0] as Message)?.byteLength).toBe(0);
    expect([...producer.text('orders').values()].flat()).toEqual([value.toString()]);
  });
});
