// Requests a front door on the internet must survive: smuggling attempts, slow uploads and bodies
// of a great many tiny messages. Each must be refused quickly, without holding memory or sockets.
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { brokers, createTopic, uniqueTopic } from './kafka.js';
import { spawnServer, type ServerProcess } from '@kproxy/testkit/proxy-process';

const TOKEN = 'hostile-token-5e1f';
const MiB = 1024 * 1024;

let proxy: ServerProcess;
let topic: string;

beforeAll(async () => {
  topic = uniqueTopic('hostile');
  await createTopic(topic);
  proxy = await spawnServer({
    KAFKA_PROXY_TOKEN: TOKEN,
    KAFKA_PROXY_KAFKA_SERVER: brokers().join(','),
    KAFKA_PROXY_TOPIC: topic,
    KAFKA_PROXY_REQUEST_TIMEOUT: '1',
  });
});

afterAll(async () => {
  const code = await proxy.stop();
  expect(code, proxy.logs.filter((l) => !l.includes('"request"')).join('\n')).toBe(0);
});

/** Writes `parts` to a raw socket (pausing `gapMs` between them); resolves to all it read. */
function rawExchange(
  parts: (string | Uint8Array)[],
  { gapMs = 0, timeoutMs = 5000 } = {},
): Promise<{ text: string; closed: boolean; ms: number }> {
  const { port, hostname } = new URL(proxy.url);
  const started = Date.now();
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const socket = connect(Number(port), hostname);
    let settled = false;
    const finish = (closed: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ text: Buffer.concat(chunks).toString('latin1'), closed, ms: Date.now() - started });
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    socket.on('data', (d: Buffer) => chunks.push(d));
    socket.on('error', () => finish(true));
    socket.on('close', () => finish(true));
    socket.on('connect', () => {
      void (async () => {
        for (const part of parts) {
          if (socket.destroyed) return;
          socket.write(part);
          if (gapMs > 0) await new Promise((r) => setTimeout(r, gapMs));
        }
      })();
    });
  });
}

async function metric(name: string): Promise<number> {
  const text = await (
    await fetch(`${proxy.url}/metrics`, { headers: { 'x-kafka-proxy-token': TOKEN } })
  ).text();
  return Number(new RegExp(`^${name} (\\d+)`, 'm').exec(text)?.[1]);
}

const head = (extra: string) =>
  `POST /topics/${topic} HTTP/1.1\r\nHost: proxy\r\nx-kafka-proxy-token: ${TOKEN}\r\n` +
  `Content-Type: application/octet-stream\r\n${extra}\r\n`;
const FRAME = '\x01\x00\x00\x00a';

describe('request smuggling', () => {
  it.each([
    ['Content-Length and Transfer-Encoding', 'Content-Length: 5\r\nTransfer-Encoding: chunked\r\n'],
    ['two Content-Lengths', 'Content-Length: 5\r\nContent-Length: 40\r\n'],
    ['an unknown Transfer-Encoding', 'Transfer-Encoding: xchunked\r\n'],
    ['chunked not last', 'Transfer-Encoding: chunked, identity\r\n'],
    ['a space before the colon', 'Transfer-Encoding : chunked\r\n'],
  ])('refuses %s with 400 and closes the connection', async (_name, headers) => {
    // What a front end reading the other header would take for a second request.
    const smuggled = `GET /topic HTTP/1.1\r\nHost: proxy\r\nx-kafka-proxy-token: ${TOKEN}\r\n\r\n`;
    const res = await rawExchange([head(headers), `0\r\n\r\n${smuggled}`]);
    expect(res.text).toMatch(/^HTTP\/1\.1 400 /);
    expect(res.text).toMatch(/\r\n\r\n\{"error":"bad_request","message":"[^"]+"\}$/);
    expect(res.text.match(/HTTP\/1\.1 /g)).toHaveLength(1);
    expect(res.closed).toBe(true);
  });
});

describe('oversized headers', () => {
  it('answers 431 in the JSON error format and closes the connection', async () => {
    const res = await rawExchange([head(`X-Padding: ${'a'.repeat(64 * 1024)}\r\n`)]);
    expect(res.text).toMatch(/^HTTP\/1\.1 431 [\s\S]*\{"error":"headers_too_large",/);
    expect(res.closed).toBe(true);
  });
});

describe('slow clients', () => {
  it('cuts off a body that dribbles in after KAFKA_PROXY_REQUEST_TIMEOUT and gives its bytes back', async () => {
    const body = FRAME.repeat(40);
    const parts = [head(`Content-Length: ${body.length}\r\n`), ...body.match(/[\s\S]{1,5}/g)!];
    const res = await rawExchange(parts, { gapMs: 250, timeoutMs: 8000 });
    expect(res.closed).toBe(true);
    expect(res.ms).toBeLessThan(4000);
    expect(res.text).toMatch(/^HTTP\/1\.1 408 [\s\S]*"error":"request_timeout"/);
    await expect.poll(() => metric('kafka_proxy_reserved_bytes')).toBe(0);
  });

  it('cuts off headers that dribble in', async () => {
    const parts = head('').match(/[\s\S]{1,4}/g)!;
    const res = await rawExchange(parts, { gapMs: 200, timeoutMs: 8000 });
    expect(res.closed).toBe(true);
    expect(res.ms).toBeLessThan(4000);
  });
});

describe('many tiny messages', () => {
  it('refuses a million empty messages with 413 before holding them', async () => {
    const before = await metric('process_resident_memory_bytes');
    const res = await fetch(`${proxy.url}/topics/${topic}`, {
      method: 'POST',
      headers: { 'x-kafka-proxy-token': TOKEN, 'content-type': 'application/octet-stream' },
      body: new Uint8Array(4 * 1_000_000),
    });
    expect(res.status).toBe(413);
    expect(((await res.json()) as { error: string }).error).toBe('too_many_messages');
    const after = await metric('process_resident_memory_bytes');
    // Unbounded, a million messages held ~340 MB; 200 000 of them are decoded before the refusal.
    expect(after - before).toBeLessThan(128 * MiB);
    await expect.poll(() => metric('kafka_proxy_reserved_bytes')).toBe(0);
  });
});
