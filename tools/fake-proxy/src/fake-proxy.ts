// The real kafka-proxy app (`createApp` of @kproxy/server) on a real socket, with Kafka replaced
// by a scripted producer, for the SDK's and the CLI's unit tests. Every answer not scripted is
// the server's own, so the fake cannot drift from it; on top it records every request and can be
// told to answer, drop or hang a produce request, to delay one, or that Kafka is unreachable.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { brotliDecompressSync, gunzipSync, inflateSync } from 'node:zlib';
import { decodeFrames, decodeRecords, type ProxyRecord } from '@kproxy/framing';
import { CONTENT_TYPES, ROUTES } from '@kproxy/protocol';
import {
  createApp,
  createLogger,
  createMetrics,
  loadConfig,
  type TopicStore,
} from '@kproxy/server';
import { ScriptedProducer } from './scripted-producer.js';

export interface RecordedRequest {
  method: string;
  path: string;
  /** Topic produced to (`undefined` for non-produce routes). */
  topic: string | undefined;
  headers: IncomingMessage['headers'];
  /** Size of the body as sent (compressed if it was). */
  bodyBytes: number;
  /** The messages (values) of a produce request the server accepted; empty for a JSON body. */
  messages: Uint8Array[];
  /** The records of an accepted records body (`CONTENT_TYPES.records`). */
  records?: ProxyRecord[];
  at: number;
}

/** An answer given instead of the server's. */
export interface Scripted {
  status: number;
  headers?: Record<string, string>;
  body?: string;
  /** Drop the connection instead of answering. */
  destroy?: boolean;
  /** Never answer. */
  hang?: boolean;
}

export interface FakeProxy {
  url: string;
  requests: RecordedRequest[];
  /** Produce requests that were accepted, in arrival order. */
  accepted: RecordedRequest[];
  /** Answers for the next produce requests, used in order before the server sees them. */
  script: Scripted[];
  /** The server's default topic. */
  defaultTopic: string;
  /** Whether Kafka is reachable: when false, `/readyz` and produce requests answer 503. */
  ready: boolean;
  /** Delay before a produce request reaches the server, in ms. */
  delayMs: number;
  close(): Promise<void>;
}

export interface FakeProxyOptions {
  /** The token the server accepts (default `secret`). */
  token?: string;
  defaultTopic?: string;
  port?: number;
  /** More server settings, by their variable (`KAFKA_PROXY_MAX_MESSAGE_BYTES`, ...). */
  env?: Record<string, string>;
}

const DECOMPRESS: Record<string, ((body: Buffer) => Buffer) | undefined> = {
  gzip: gunzipSync,
  'x-gzip': gunzipSync,
  deflate: inflateSync,
  br: brotliDecompressSync,
};

/** Headers that describe one hop's connection, not the request. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'host']);

/** The topic a request produces to, or `undefined` when it is not a produce request. */
function produceTopic(method: string, path: string, defaultTopic: string): string | undefined {
  if (method !== 'POST') return undefined;
  if (path === ROUTES.produce.path) return defaultTopic;
  const prefix = ROUTES.produceTo.path.replace('{topic}', '');
  const rest = path.startsWith(prefix) ? path.slice(prefix.length) : undefined;
  return rest === undefined || rest.includes('/') ? undefined : decodeURIComponent(rest);
}

function requestFor(req: IncomingMessage, body: Buffer): Request {
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined || HOP_BY_HOP.has(name)) continue;
    headers.set(name, Array.isArray(value) ? value.join(', ') : value);
  }
  const method = req.method ?? 'GET';
  return new Request(`http://fake-proxy${req.url ?? '/'}`, {
    method,
    headers,
    ...(method === 'GET' || method === 'HEAD' ? {} : { body }),
  });
}

/**
 * Starts a fake proxy on 127.0.0.1 (a free port unless `port` is given).
 *
 * @example
 * const fake = await startFakeProxy();
 * fake.script.push({ status: 503, headers: { 'retry-after': '1' } });
 * // ... a client of fake.url ...
 * await fake.close();
 */
export async function startFakeProxy(options: FakeProxyOptions = {}): Promise<FakeProxy> {
  const producer = new ScriptedProducer();
  const hanging = new Set<ServerResponse>();
  const fake: FakeProxy = {
    url: '',
    requests: [],
    accepted: [],
    script: [],
    defaultTopic: options.defaultTopic ?? 'default-topic',
    get ready() {
      return producer.ready;
    },
    set ready(ready) {
      producer.ready = ready;
    },
    delayMs: 0,
    close: async () => {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await proxy.drain();
    },
  };
  const topicStore: TopicStore = {
    start: () => Promise.resolve(),
    current: () => fake.defaultTopic,
    set: (topic) => {
      fake.defaultTopic = topic;
      return Promise.resolve();
    },
    close: () => Promise.resolve(),
  };
  const config = loadConfig({
    KAFKA_PROXY_TOKEN: options.token ?? 'secret',
    KAFKA_PROXY_TOPIC: fake.defaultTopic,
    KAFKA_FLUSHER_TIMEOUT: '0.001',
    ...options.env,
  });
  const discard = new Writable({ write: (_chunk, _encoding, done) => done() });
  const proxy = createApp({
    config,
    producer,
    topicStore,
    logger: createLogger('silent', discard),
    metrics: createMetrics({ defaultMetrics: false }),
  });

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks);
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const method = req.method ?? 'GET';
    const topic = produceTopic(method, path, fake.defaultTopic);
    const record: RecordedRequest = {
      method,
      path,
      topic,
      headers: req.headers,
      bodyBytes: raw.length,
      messages: [],
      at: Date.now(),
    };
    fake.requests.push(record);

    if (topic !== undefined) {
      const scripted = fake.script.shift();
      if (scripted?.destroy) return void req.socket.destroy();
      if (scripted?.hang) return void hanging.add(res);
      if (scripted) {
        res.writeHead(scripted.status, scripted.headers ?? { 'content-type': 'application/json' });
        return void res.end(scripted.body ?? '');
      }
      if (fake.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, fake.delayMs));
    }
    const answer = await proxy.app.fetch(requestFor(req, raw));
    const body = Buffer.from(await answer.arrayBuffer());
    if (topic !== undefined && answer.ok) {
      const decompress = DECOMPRESS[String(req.headers['content-encoding'] ?? '').toLowerCase()];
      const body = decompress ? decompress(raw) : raw;
      const type = String(req.headers['content-type'] ?? '')
        .split(';')[0]
        ?.trim()
        .toLowerCase();
      if (type === CONTENT_TYPES.records) {
        record.records = decodeRecords(body);
        record.messages = record.records.map((r) => r.value ?? new Uint8Array(0));
      } else if (type === CONTENT_TYPES.frames) {
        record.messages = decodeFrames(body);
      }
      fake.accepted.push(record);
    }
    res.writeHead(answer.status, Object.fromEntries(answer.headers));
    res.end(body);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      res.destroy(err instanceof Error ? err : new Error(String(err)));
    });
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  fake.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return fake;
}

/** All messages the fake accepted, in arrival order, as UTF-8 strings. */
export function acceptedTexts(fake: FakeProxy): string[] {
  return fake.accepted.flatMap((r) => r.messages.map((m) => Buffer.from(m).toString('utf8')));
}
