// The management listener (KAFKA_PROXY_METRICS_PORT; docs/deploying.md, "Metrics") of a real server process: metrics
// and probes without a token, nothing else; the main port's /metrics still wants the token; the
// listener outlives the main one in a graceful shutdown; promtool accepts what it serves.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { request } from 'node:http';
import { createServer, type AddressInfo } from 'node:net';
import { encodeFrames } from '@kproxy/framing';
import { createTopic, kafkaBrokers, uniqueTopic } from '@kproxy/testkit';
import { spawnServer, type ServerProcess } from '@kproxy/testkit/proxy-process';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const TOKEN = 'management-token';
// Pinned; built from its Go module (the Go module proxy) into the project's cache once.
const PROMTOOL_MODULE = 'github.com/prometheus/prometheus/cmd/promtool@v0.316.0';
const cacheDir =
  process.env.KPROXY_CACHE_DIR ??
  join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'kafka-proxy');
const promtoolDir = join(cacheDir, 'promtool-v0.316.0');
const promtool = join(promtoolDir, 'promtool');

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const { port } = s.address() as AddressInfo;
  await new Promise((resolve) => s.close(resolve));
  return port;
}

let server: ServerProcess | undefined;
afterEach(async () => {
  await server?.stop('SIGKILL');
  server = undefined;
});

async function start(): Promise<{ main: string; metrics: string; topic: string }> {
  const topic = await createTopic(uniqueTopic('management'));
  const port = await freePort();
  server = await spawnServer({
    KAFKA_PROXY_TOKEN: TOKEN,
    KAFKA_PROXY_KAFKA_SERVER: kafkaBrokers().join(','),
    KAFKA_PROXY_TOPIC: topic,
    KAFKA_PROXY_METRICS_PORT: String(port),
  });
  const metrics = `http://127.0.0.1:${port}`;
  await expect
    .poll(() => fetch(`${server?.url}/readyz`).then((r) => r.status), { timeout: 30_000 })
    .toBe(200);
  return { main: server.url, metrics, topic };
}

describe('the metrics port', () => {
  it('serves /metrics, /healthz and /readyz without a token, and 404 for anything else', async () => {
    const { main, metrics } = await start();
    const scrape = await fetch(`${metrics}/metrics`);
    expect(scrape.status).toBe(200);
    expect(scrape.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await scrape.text();
    expect(text).toContain('kafka_proxy_build_info{version=');
    expect(text).toContain('kafka_proxy_log_lines_dropped_total 0');
    expect((await fetch(`${metrics}/healthz`)).status).toBe(200);
    expect(await (await fetch(`${metrics}/readyz`)).json()).toEqual({ status: 'ready' });
    const body = encodeFrames([new TextEncoder().encode('never produced')]);
    const headers = {
      'x-kafka-proxy-token': TOKEN,
      'content-type': 'application/octet-stream',
    };
    for (const [method, path] of [
      ['POST', '/'],
      ['POST', '/topics/x'],
      ['GET', '/topic'],
      ['GET', '/openapi.json'],
      ['POST', '/metrics'],
    ] as const) {
      const res = await fetch(`${metrics}${path}`, {
        method,
        headers,
        ...(method === 'POST' ? { body } : {}),
      });
      expect(`${method} ${path} ${res.status}`).toBe(`${method} ${path} 404`);
    }
    // The main port is unchanged: its /metrics wants the token.
    expect((await fetch(`${main}/metrics`)).status).toBe(401);
    const authorized = await fetch(`${main}/metrics`, { headers });
    expect(authorized.status).toBe(200);
  });

  it('stays open through a graceful shutdown until the main listener has closed', async () => {
    const { main, metrics } = await start();
    const url = new URL(main);
    // A push whose body has not all arrived holds the main listener open after SIGTERM.
    const frame = encodeFrames([new TextEncoder().encode('sent during the shutdown')]);
    const answered = new Promise<number>((resolve, reject) => {
      const req = request(
        {
          host: url.hostname,
          port: url.port,
          method: 'POST',
          path: '/',
          headers: {
            'x-kafka-proxy-token': TOKEN,
            'content-type': 'application/octet-stream',
            'content-length': String(frame.length),
          },
        },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', reject);
      req.write(frame.subarray(0, 2));
      setTimeout(() => req.end(frame.subarray(2)), 1_500);
    });
    await new Promise((resolve) => setTimeout(resolve, 200));
    server?.child.kill('SIGTERM');
    // Draining: the metrics port still answers, and says so.
    await expect
      .poll(() => fetch(`${metrics}/readyz`).then((r) => r.json()))
      .toEqual({ error: 'shutting_down', message: 'the proxy is shutting down' });
    expect((await fetch(`${metrics}/metrics`)).status).toBe(200);
    expect(await answered).toBe(200);
    expect(await server?.exited).toBe(0);
    await expect(fetch(`${metrics}/healthz`)).rejects.toThrow();
    const logs = server?.logs.join('\n') ?? '';
    expect(logs.indexOf('"shutdown complete"')).toBeGreaterThan(logs.indexOf('"signal received"'));
  });
});

describe('promtool check metrics', () => {
  beforeAll(async () => {
    if (existsSync(promtool)) return;
    // Fails, never skips, when Go or the module proxy is not there.
    await run('go', ['install', PROMTOOL_MODULE], {
      env: { ...process.env, GOBIN: promtoolDir },
      timeout: 1_500_000,
    });
  }, 1_600_000);

  it('accepts everything the server exposes', async () => {
    const { metrics, topic } = await start();
    // A push first, so the labelled counters and histograms have series.
    const res = await fetch(`${server?.url}/topics/${topic}`, {
      method: 'POST',
      headers: { 'x-kafka-proxy-token': TOKEN, 'content-type': 'application/octet-stream' },
      body: encodeFrames([new TextEncoder().encode('scraped')]),
    });
    expect(res.status).toBe(200);
    const text = await (await fetch(`${metrics}/metrics`)).text();
    const checked = await new Promise<{ code: number | null; out: string }>((resolve) => {
      const child = execFile(promtool, ['check', 'metrics'], (error, stdout, stderr) =>
        resolve({
          code: error ? ((error as { code?: number }).code ?? 1) : 0,
          out: stdout + stderr,
        }),
      );
      child.stdin?.end(text);
    });
    expect(checked.out).toBe('');
    expect(checked.code).toBe(0);
  });
});
