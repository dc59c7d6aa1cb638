// Runs the real kafka-proxy server (apps/server, built) as a child process, the way an operator
// runs it, for the integration tests. Also a "flaky ingress" that can stand in front of it.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { HEADERS, ROUTES } from '@kproxy/protocol';

const SERVER_PACKAGE = '@kproxy/server';

/**
 * The built server's entry point: the bin of the `@kproxy/server` package, found the way Node
 * finds a package from `from` (default: the workspace whose tests run). That workspace is the
 * server itself or lists `@kproxy/server` as a devDependency, so turbo builds it first.
 */
export function serverMain(from: string = process.cwd()): string {
  for (let dir = from; ; dir = dirname(dir)) {
    for (const pkgDir of [dir, join(dir, 'node_modules', SERVER_PACKAGE)]) {
      const manifest = join(pkgDir, 'package.json');
      if (!existsSync(manifest)) continue;
      const pkg = JSON.parse(readFileSync(manifest, 'utf8')) as {
        name?: string;
        bin?: Record<string, string>;
      };
      const bin = pkg.name === SERVER_PACKAGE ? pkg.bin?.['kafka-proxy'] : undefined;
      if (bin !== undefined) return join(pkgDir, bin);
    }
    if (dirname(dir) === dir) break;
  }
  throw new Error(`${SERVER_PACKAGE} not found from ${from}: add it as a devDependency`);
}

/** A running `kafka-proxy` process. */
export interface ServerProcess {
  url: string;
  child: ChildProcess;
  /** Everything it logged, one string per line. */
  logs: string[];
  /** Resolves with the exit code once the process ended. */
  exited: Promise<number | null>;
  /** Sends `signal` (SIGTERM: graceful; SIGKILL: a crash) and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/**
 * The Node options the server's entry point asks for on its `#!` line (`#!/usr/bin/env -S node
 * --max-semi-space-size=8`), so a server spawned with `node <main>` runs as the bin does.
 *
 * @example
 * spawn(process.execPath, [...entryNodeOptions(main), main]);
 */
export function entryNodeOptions(main: string): string[] {
  const first = readFileSync(main, 'utf8').split('\n', 1)[0] ?? '';
  const match = /^#!.*?\bnode\b(.*)$/.exec(first);
  return (match?.[1] ?? '').split(' ').filter(Boolean);
}

/**
 * Spawns the built server with exactly `env` (plus `PATH` and a loopback host on a free port,
 * unless `env` says otherwise) and resolves once it logged "listening".
 */
export async function spawnServer(env: Record<string, string>): Promise<ServerProcess> {
  const main = serverMain();
  const child = spawn(process.execPath, [...entryNodeOptions(main), main], {
    env: {
      PATH: process.env.PATH ?? '',
      KAFKA_PROXY_HOST: '127.0.0.1',
      KAFKA_PROXY_PORT: '0',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: string[] = [];
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  let timer: NodeJS.Timeout | undefined;
  const url = await new Promise<string>((resolve, reject) => {
    let buffer = '';
    child.stdout.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      let newline: number;
      while ((newline = buffer.indexOf('\n')) !== -1) {
        const line = buffer.slice(0, newline);
        buffer = buffer.slice(newline + 1);
        logs.push(line);
        const match = /"url":"([^"]+)"/.exec(line);
        if (match?.[1] !== undefined && line.includes('"listening"')) resolve(match[1]);
      }
    });
    child.stderr.on('data', (chunk: Buffer) => logs.push(chunk.toString()));
    void exited.then((code) =>
      reject(new Error(`kafka-proxy exited with ${code} before listening:\n${logs.join('\n')}`)),
    );
    // Never leave an orphan behind: a server that does not come up in time is killed.
    timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`kafka-proxy did not log "listening" within 30 s:\n${logs.join('\n')}`));
    }, 30_000);
  }).finally(() => clearTimeout(timer));
  return {
    url,
    child,
    logs,
    exited,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

/** A server started by `startProxy`: its URL has no trailing slash. */
export interface ProxyProcess extends ServerProcess {
  token: string;
  port: number;
  /** Produce requests answered with `status` so far, from the server's `/metrics`. */
  produceRequests(status?: number): Promise<number>;
}

export interface ProxyOptions {
  brokers: string[];
  token?: string;
  port?: number;
  /** Topic cache file; default: a new one in a temporary directory. */
  topicCache?: string;
  env?: Record<string, string>;
}

/** Starts the server against `brokers` with the settings a client's tests need. */
export async function startProxy(options: ProxyOptions): Promise<ProxyProcess> {
  const token = options.token ?? 'integration-token';
  const topicCache =
    options.topicCache ?? join(await mkdtemp(join(tmpdir(), 'kproxy-cache-')), 'topic');
  // A cache of its own is removed once the server has stopped.
  const ownCache = options.topicCache === undefined ? dirname(topicCache) : undefined;
  const server = await spawnServer({
    KAFKA_PROXY_PORT: String(options.port ?? 0),
    KAFKA_PROXY_TOKEN: token,
    KAFKA_PROXY_KAFKA_SERVER: options.brokers.join(','),
    KAFKA_FLUSHER_TOPIC_CACHE: topicCache,
    KAFKA_PROXY_TOPIC: 'kproxy-default',
    LOG_LEVEL: 'info',
    ...options.env,
  });
  const base = server.url.replace(/\/$/, '');
  return {
    ...server,
    url: base,
    token,
    port: Number(new URL(base).port),
    async stop(signal) {
      const code = await server.stop(signal);
      if (ownCache !== undefined) await rm(ownCache, { recursive: true, force: true });
      return code;
    },
    async produceRequests(status = 200) {
      const res = await fetch(`${base}${ROUTES.metrics.path}`, {
        headers: { [HEADERS.token]: token },
      });
      const text = await res.text();
      let total = 0;
      for (const line of text.split('\n')) {
        if (!line.startsWith('kafka_proxy_http_requests_total{')) continue;
        const labels = line.slice(0, line.lastIndexOf(' '));
        const produce = /route="\/(topics\/\{topic\})?"/.test(labels);
        if (produce && labels.includes(`status="${status}"`)) {
          total += Number(line.slice(line.lastIndexOf(' ') + 1));
        }
      }
      return total;
    },
  };
}

export interface FlakyIngress {
  url: string;
  /** Answers for the next requests, before forwarding resumes. */
  failures: { status: number; headers?: Record<string, string>; body?: string }[];
  /** When each request arrived (ms since epoch). */
  arrivals: number[];
  close(): Promise<void>;
}

/** An HTTP hop in front of `target` that answers scripted failures, then forwards requests. */
export async function startFlakyIngress(target: string): Promise<FlakyIngress> {
  const to = new URL(target);
  const ingress: FlakyIngress = {
    url: '',
    failures: [],
    arrivals: [],
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  const forward = (req: IncomingMessage, res: ServerResponse): void => {
    ingress.arrivals.push(Date.now());
    const failure = ingress.failures.shift();
    if (failure) {
      req.resume();
      res.writeHead(failure.status, failure.headers ?? {});
      res.end(failure.body ?? '');
      return;
    }
    const upstream = request(
      { host: to.hostname, port: to.port, path: req.url, method: req.method, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  };
  const server = createServer(forward);
  server.keepAliveTimeout = 1000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  ingress.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return ingress;
}
