// A small stand-in for the kafka-proxy server (SPEC section 3), on a real socket, for unit tests:
// it checks the token, decodes the frames, records every request and can be told to fail.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { decodeFrames } from '@kproxy/framing';

export interface RecordedRequest {
  method: string;
  path: string;
  /** Topic produced to (`undefined` for non-produce routes). */
  topic: string | undefined;
  headers: IncomingMessage['headers'];
  /** Size of the body as sent (compressed if it was). */
  bodyBytes: number;
  messages: Uint8Array[];
  at: number;
}

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
  /** Answers for the next produce requests, used in order before normal handling. */
  script: Scripted[];
  defaultTopic: string;
  ready: boolean;
  /** Delay before answering a produce request, in ms. */
  delayMs: number;
  close(): Promise<void>;
}

const TOPIC_RE = /^[a-zA-Z0-9._-]{1,249}$/;

export async function startFakeProxy(
  options: { token?: string; defaultTopic?: string; port?: number } = {},
): Promise<FakeProxy> {
  const token = options.token ?? 'secret';
  const offsets = new Map<string, number>();
  const hanging = new Set<ServerResponse>();

  const fake: FakeProxy = {
    url: '',
    requests: [],
    accepted: [],
    script: [],
    defaultTopic: options.defaultTopic ?? 'default-topic',
    ready: true,
    delayMs: 0,
    close: () =>
      new Promise<void>((resolve) => {
        for (const res of hanging) res.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };

  const json = (res: ServerResponse, status: number, body: unknown, headers = {}): void => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  };
  const fail = (res: ServerResponse, status: number, error: string, message: string): void =>
    json(res, status, { error, message });

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks);
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const method = req.method ?? 'GET';
    const produceMatch = /^\/topics\/([^/]+)$/.exec(path);
    const isProduce = method === 'POST' && (path === '/' || produceMatch !== null);
    const topic = isProduce
      ? produceMatch
        ? decodeURIComponent(produceMatch[1] ?? '')
        : fake.defaultTopic
      : undefined;
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

    if (method === 'GET' && path === '/healthz') return json(res, 200, { status: 'ok' });
    if (method === 'GET' && path === '/readyz') {
      return fake.ready
        ? json(res, 200, { status: 'ready' })
        : fail(res, 503, 'not_ready', 'Kafka is unreachable');
    }
    const auth = req.headers.authorization;
    const given =
      req.headers['x-kafka-proxy-token'] ??
      (auth?.startsWith('Bearer ') ? auth.slice(7) : undefined);
    if (given !== token) return fail(res, 401, 'unauthorized', 'missing or invalid token');

    if (method === 'GET' && path === '/topic') return json(res, 200, { topic: fake.defaultTopic });
    const setMatch = /^\/topic\/([^/]+)$/.exec(path);
    if (method === 'POST' && setMatch) {
      const next = decodeURIComponent(setMatch[1] ?? '');
      if (!TOPIC_RE.test(next)) return fail(res, 400, 'invalid_topic', 'bad topic name');
      fake.defaultTopic = next;
      res.writeHead(200, { 'content-type': 'text/plain' });
      return void res.end(`Topic changed to ${next}`);
    }
    if (!isProduce || topic === undefined) return fail(res, 404, 'not_found', `no route ${path}`);

    const scripted = fake.script.shift();
    if (scripted?.destroy) return void req.socket.destroy();
    if (scripted?.hang) return void hanging.add(res);
    if (scripted) {
      res.writeHead(scripted.status, scripted.headers ?? { 'content-type': 'application/json' });
      return void res.end(scripted.body ?? '');
    }
    if (!TOPIC_RE.test(topic)) return fail(res, 400, 'invalid_topic', 'bad topic name');
    if (req.headers['content-type'] !== 'application/octet-stream') {
      return fail(res, 415, 'unsupported_media_type', 'use application/octet-stream');
    }
    const body = req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw;
    if (body.length === 0) return fail(res, 400, 'empty_body', 'the body holds no frames');
    try {
      record.messages = decodeFrames(body);
    } catch (err) {
      return fail(res, 400, 'malformed_body', String(err));
    }
    if (fake.delayMs > 0) await new Promise((r) => setTimeout(r, fake.delayMs));
    fake.accepted.push(record);
    const baseOffset = offsets.get(topic) ?? 0;
    offsets.set(topic, baseOffset + record.messages.length);
    const count = record.messages.length;
    if ((req.headers.accept ?? '').includes('application/json')) {
      return json(res, 200, { topic, count, bytes: body.length, partition: 0, baseOffset });
    }
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end(`${count} messages received`);
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
