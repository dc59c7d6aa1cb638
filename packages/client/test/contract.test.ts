// The SDK against the fake proxy of its unit tests and against the real server (with a real
// broker behind it): each error a user can meet must come back the same from both, status, code,
// message and retriability, so what the unit tests assert holds against the product.
import { startFakeProxy, type FakeProxy } from '@kproxy/fake-proxy';
import { encodeFrames } from '@kproxy/framing';
import { CONTENT_TYPES, producePath } from '@kproxy/protocol';
import { createTopic, kafkaBrokers, uniqueTopic } from '@kproxy/testkit';
import { startProxy, type ProxyProcess } from '@kproxy/testkit/proxy-process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KafkaProxyClient, KafkaProxyError } from '../src/index.js';
import type { KafkaProxyClientOptions } from '../src/options.js';
import { Transport } from '../src/transport.js';

const TOKEN = 'contract-token-5d1c';
/** Small enough that a 2 KB message is refused: the same setting for both. */
const LIMITS = { KAFKA_PROXY_MAX_MESSAGE_BYTES: '1000' };
/** Nothing listens there: a server whose Kafka is unreachable. */
const NO_KAFKA = '127.0.0.1:1';

interface Target {
  name: string;
  url: string;
  close(): Promise<unknown>;
}

/** Each target twice: Kafka reachable, and not. */
let fake: { ready: Target; notReady: Target };
let real: { ready: Target; notReady: Target };
let topic: string;
const clients: KafkaProxyClient[] = [];

async function fakeTarget(ready: boolean): Promise<Target> {
  const proxy: FakeProxy = await startFakeProxy({ token: TOKEN, env: LIMITS });
  proxy.ready = ready;
  return { name: 'the fake proxy', url: proxy.url, close: () => proxy.close() };
}

async function realTarget(brokers: string[]): Promise<Target> {
  const proxy: ProxyProcess = await startProxy({ brokers, token: TOKEN, env: LIMITS });
  return { name: 'the real server', url: proxy.url, close: () => proxy.stop() };
}

beforeAll(async () => {
  topic = await createTopic(uniqueTopic('contract'));
  [fake, real] = await Promise.all([
    Promise.all([fakeTarget(true), fakeTarget(false)]).then(([ready, notReady]) => ({
      ready,
      notReady,
    })),
    Promise.all([realTarget(kafkaBrokers()), realTarget([NO_KAFKA])]).then(([ready, notReady]) => ({
      ready,
      notReady,
    })),
  ]);
  // The server listens before its producer has connected: wait until it is ready.
  const ready = open(real.ready);
  for (const started = Date.now(); !(await ready.health()).ready;) {
    if (Date.now() - started > 30_000) throw new Error('the real server did not become ready');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await Promise.all([fake, real].flatMap((t) => (t ? [t.ready.close(), t.notReady.close()] : [])));
});

function open(target: Target, extra: Partial<KafkaProxyClientOptions> = {}): KafkaProxyClient {
  const client = new KafkaProxyClient({
    url: target.url,
    token: TOKEN,
    retry: { attempts: 1 },
    ...extra,
  });
  clients.push(client);
  return client;
}

/** What a user sees of a failure. */
async function failure(promise: Promise<unknown>) {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(KafkaProxyError);
  const { status, code, message, retriable } = error as KafkaProxyError;
  return { status, code, message, retriable };
}

/** The same failure from the fake and the real server; resolves with it. */
async function sameFrom(
  pick: (targets: typeof fake) => Target,
  act: (target: Target) => Promise<unknown>,
) {
  const [fromFake, fromReal] = await Promise.all([
    failure(act(pick(fake))),
    failure(act(pick(real))),
  ]);
  expect(fromFake).toEqual(fromReal);
  return fromReal;
}

/** One raw produce request through the SDK's transport, for bodies the client never sends. */
function post(target: Target, headers: Record<string, string>, body: Uint8Array) {
  const transport = new Transport(new URL(target.url), TOKEN, 10_000, undefined, undefined);
  return transport
    .send({ method: 'POST', path: producePath(topic), headers, body })
    .finally(() => transport.close());
}

describe('the fake proxy and the real server give the same errors', () => {
  it('401 unauthorized for a wrong token', async () => {
    const error = await sameFrom(
      (t) => t.ready,
      (target) => open(target, { token: 'wrong-token' }).send('x', { topic }),
    );
    expect(error).toMatchObject({ status: 401, code: 'unauthorized', retriable: false });
  });

  it('413 message_too_large for a message over the server limit', async () => {
    const error = await sameFrom(
      (t) => t.ready,
      (target) => open(target).send('x'.repeat(2000), { topic }),
    );
    expect(error).toMatchObject({ status: 413, code: 'message_too_large', retriable: false });
  });

  it('415 unsupported_media_type for a body that is not frames', async () => {
    const error = await sameFrom(
      (t) => t.ready,
      (target) => post(target, { 'content-type': 'text/plain' }, encodeFrames([])),
    );
    expect(error).toMatchObject({ status: 415, code: 'unsupported_media_type', retriable: false });
  });

  it('400 truncated_frame for a malformed body, naming where it ends', async () => {
    const truncated = encodeFrames([new TextEncoder().encode('cut short')]).subarray(0, 7);
    const error = await sameFrom(
      (t) => t.ready,
      (target) => post(target, { 'content-type': CONTENT_TYPES.frames }, truncated),
    );
    expect(error).toMatchObject({ status: 400, code: 'truncated_frame', retriable: false });
    expect(error.message).toContain('frame 0');
  });

  it('503 kafka_unavailable, retriable, for a send while Kafka is unreachable', async () => {
    const error = await sameFrom(
      (t) => t.notReady,
      (target) => open(target).send('x', { topic }),
    );
    expect(error).toMatchObject({ status: 503, code: 'kafka_unavailable', retriable: true });
  });

  it('the same not-ready reason from health()', async () => {
    const [fromFake, fromReal] = await Promise.all(
      [fake.notReady, real.notReady].map((target) => open(target).health()),
    );
    expect(fromFake).toEqual(fromReal);
    expect(fromReal).toEqual({
      live: true,
      ready: false,
      reason: expect.stringMatching(/^503 kafka_unavailable: /) as string,
    });
  });
});
