// The real kafka-proxy app (`createApp` of @kproxy/server) on a real socket, with Kafka replaced
// by a scripted producer, for the SDK's and the CLI's unit tests. Every answer not scripted is
// the server's own, so the fake cannot drift from it; on top it records every request and can be
// told to answer, drop or hang a produce request, to delay one, or that Kafka is unreachable.
// Kafka is a scripted producer: every topic has `partitions` partitions, and each batch the
// server sends is written at once, with consecutive offsets per partition.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { brotliDecompressSync, gunzipSync, inflateSync } from 'node:zlib';
import { decodeFrames, decodeRecords, type ProxyRecord } from '@kproxy/framing';
import { CONTENT_TYPES, ROUTES, type ProduceReply } from '@kproxy/protocol';
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
  /** The media type of the body (`content-type` without parameters, lower case). */
  contentType: string;
  /** Size of the body as sent (compressed if it was). */
  bodyBytes: number;
  /** The body, decompressed when its `content-encoding` is one the server reads. */
  body: Uint8Array;
  /**
   * The messages (values) of a produce request whose body decodes (frames, or the values of a
   * records body); empty for a JSON body or one that does not decode.
   */
  messages: Uint8Array[];
  /** The records of a records body (`CONTENT_TYPES.records`) that decodes. */
  records?: ProxyRecord[];
  /** The server's answer to an accepted produce request. */
  reply?: ProduceReply;
  at: number;
}

/** What happens to one produce request before the server sees it. */
export interface Plan {
  /** Wait this long first, in ms (on top of `delayMs`). */
  delayMs?: number;
  /** Answer this instead of the server (after the delay). */
  answer?: Scripted;
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
  /** Produce requests the server accepted, in the order it answered them (the order written). */
  accepted: RecordedRequest[];
  /** Answers for the next produce requests, used in order before the server sees them. */
  script: Scripted[];
  /** The server's default topic. */
  defaultTopic: string;
  /** Whether Kafka is reachable: when false, `/readyz` and produce requests answer 503. */
  ready: boolean;
  /** Delay before a produce request reaches the server, in ms. */
  delayMs: number;
  /**
   * Decides, for each produce request that no `script` entry answered, what happens before the
   * server sees it; `index` counts those requests from 0.
   */
  plan: (request: RecordedRequest, index: number) => Plan | undefined;
  /** The most of those requests in progress at once (arrived, not yet answered). */
  mostAtOnce: number;
  close(): Promise<void>;
}

export interface FakeProxyOptions {
  /** The token the server accepts (default `secret`). */
  token?: string;
  defaultTopic?: string;
  port?: number;
  /** More server settings, by their variable (`KAFKA_PROXY_MAX_MESSAGE_BYTES`, ...). */
  env?: Record<string, string>;
  /** Partitions of every topic (default 1). */
  partitions?: number;
}

const DECOMPRESS: Record<string, ((body: Buffer) => Buffer) | undefined> = {
  gzip: gunzipSync,
  'x-gzip': gunzipSync,
  deflate: inflateSync,
  br: brotliDecompressSync,
};

/**
 * The server's answer while Kafka is unreachable (503 `kafka_unavailable`), to script for one
 * request, with `Retry-After` when given.
 *
 * @example
 * fake.script.push(kafkaUnavailable('1'));
 */
export function kafkaUnavailable(retryAfter?: string): Scripted {
  return {
    status: 503,
    headers: {
      'content-type': CONTENT_TYPES.json,
      ...(retryAfter === undefined ? {} : { 'retry-after': retryAfter }),
    },
    body: JSON.stringify({ error: 'kafka_unavailable', message: 'Kafka is unavailable' }),
  };
}

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

/** `content-type` without its parameters, lower case. */
const mediaType = (header: string | undefined): string =>
  (header ?? '').split(';')[0]?.trim().toLowerCase() ?? '';

/** Fills in a produce request's body, messages and records, as far as they decode. */
function decodeProduceBody(record: RecordedRequest, encoding: string | string[] | undefined): void {
  const decompress = DECOMPRESS[String(encoding ?? '').toLowerCase()];
  try {
    const body = decompress ? decompress(Buffer.from(record.body)) : record.body;
    record.body = body;
    if (record.contentType === CONTENT_TYPES.records) {
      record.records = decodeRecords(body);
      record.messages = record.records.map((r) => r.value ?? new Uint8Array(0));
    } else if (record.contentType === CONTENT_TYPES.frames) {
      record.messages = decodeFrames(body);
    }
  } catch {
    // A body the server will refuse: recorded as sent, without messages.
  }
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
  const producer = new ScriptedProducer(options.partitions);
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
    plan: () => undefined,
    mostAtOnce: 0,
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

  let produceRequests = 0;
  let atOnce = 0;
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
      contentType: mediaType(req.headers['content-type']),
      bodyBytes: raw.length,
      body: raw,
      messages: [],
      at: Date.now(),
    };
    fake.requests.push(record);
    if (topic === undefined) return answerFromServer(req, res, raw, record);

    decodeProduceBody(record, req.headers['content-encoding']);
    const scripted = fake.script.shift();
    if (scripted?.destroy) return void req.socket.destroy();
    if (scripted?.hang) return void hanging.add(res);
    if (scripted) return answerWith(res, scripted);
    fake.mostAtOnce = Math.max(fake.mostAtOnce, ++atOnce);
    try {
      const plan = fake.plan(record, produceRequests++) ?? {};
      const delayMs = fake.delayMs + (plan.delayMs ?? 0);
      if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
      if (plan.answer) return answerWith(res, plan.answer);
      await answerFromServer(req, res, raw, record);
    } finally {
      atOnce -= 1;
    }
  };

  const answerWith = (res: ServerResponse, scripted: Scripted): void => {
    res.writeHead(scripted.status, scripted.headers ?? { 'content-type': 'application/json' });
    res.end(scripted.body ?? '');
  };

  const answerFromServer = async (
    req: IncomingMessage,
    res: ServerResponse,
    raw: Buffer,
    record: RecordedRequest,
  ): Promise<void> => {
    const answer = await proxy.app.fetch(requestFor(req, raw));
    const body = Buffer.from(await answer.arrayBuffer());
    if (record.topic !== undefined && answer.ok) {
      record.reply = JSON.parse(body.toString('utf8')) as ProduceReply;
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
