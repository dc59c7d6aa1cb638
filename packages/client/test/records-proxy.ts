// The records tests' view of the fake proxy (@kproxy/fake-proxy: the real server app, Kafka
// scripted, every topic with PARTITIONS partitions): each produce request with its decoded
// records and, once answered 200, where the server wrote each record; a plan that delays a
// request or answers it 503 `kafka_unavailable`; and how many were in progress at once. The
// server decides partitions and offsets, so what the tests hold the client to is the server's.
import type { IncomingHttpHeaders } from 'node:http';
import {
  kafkaUnavailable,
  startFakeProxy,
  type FakeProxy,
  type RecordedRequest,
} from '@kproxy/fake-proxy';
import type { ProxyRecord } from '@kproxy/framing';
import type { RecordOffset } from '@kproxy/protocol';
import { partitionForKey } from '@kproxy/server';
import { afterEach, beforeEach } from 'vitest';
import { KafkaProxyClient } from '../src/client.js';
import type { KafkaProxyClientOptions } from '../src/options.js';

export interface SeenRequest {
  path: string;
  headers: IncomingHttpHeaders;
  contentType: string;
  /** The body as sent, decompressed. */
  body: Uint8Array;
  /** The body's records; a framed body's messages read as records without key or headers. */
  records: ProxyRecord[];
  /** Where the server wrote each record, when it answered 200. */
  offsets: RecordOffset[] | undefined;
}

/** What happens to one request before the server sees it. */
export interface Plan {
  delayMs?: number;
  /** Answer 503 `kafka_unavailable` (retriable) instead of writing the records. */
  fail?: boolean;
}

export interface RecordsProxy {
  url: string;
  /** Every produce request, in arrival order. */
  readonly requests: SeenRequest[];
  /** Requests answered 200, in the order they were answered (the order Kafka wrote them). */
  readonly written: SeenRequest[];
  /** Decides what happens to each request as it arrives; `index` counts requests from 0. */
  plan: (request: SeenRequest, index: number) => Plan;
  /** The most requests in progress at once. */
  readonly mostAtOnce: number;
  close(): Promise<void>;
}

export const PARTITIONS = 4;

/** The partition the server gives a key in the fake's topics. */
export const partitionOfKey = (key: Uint8Array): number => partitionForKey(key, PARTITIONS);

/** The server's answer while Kafka is unreachable, retriable at once. */
const UNAVAILABLE = kafkaUnavailable('0');

function seen(request: RecordedRequest): SeenRequest {
  const records =
    request.records ??
    request.messages.map((value) => ({ key: null, value, headers: [], timestamp: null }));
  const reply = request.reply;
  let offsets: RecordOffset[] | undefined;
  if (reply?.offsets) offsets = reply.offsets;
  else if (reply?.partition !== undefined && reply.baseOffset !== undefined) {
    // A framed body's answer names its one partition and first offset.
    const { partition, baseOffset } = reply;
    offsets = records.map((_, i) => ({
      partition,
      offset: String(BigInt(baseOffset) + BigInt(i)),
    }));
  }
  return {
    path: request.path,
    headers: request.headers,
    contentType: request.contentType,
    body: request.body,
    records,
    offsets,
  };
}

export async function startRecordsProxy(): Promise<RecordsProxy> {
  const fake: FakeProxy = await startFakeProxy({ partitions: PARTITIONS });
  const proxy: RecordsProxy = {
    url: fake.url,
    get requests() {
      return fake.requests.filter((r) => r.topic !== undefined).map(seen);
    },
    get written() {
      return fake.accepted.map(seen);
    },
    plan: () => ({}),
    get mostAtOnce() {
      return fake.mostAtOnce;
    },
    close: () => fake.close(),
  };
  fake.plan = (request, index) => {
    const { delayMs, fail } = proxy.plan(seen(request), index);
    return {
      ...(delayMs === undefined ? {} : { delayMs }),
      ...(fail ? { answer: UNAVAILABLE } : {}),
    };
  };
  return proxy;
}

export interface RecordsProxySetup {
  /** This test's fake proxy. */
  readonly proxy: RecordsProxy;
  /** A client of it with `defaults` and `extra`; the last one opened is closed after the test. */
  open: (extra?: Partial<KafkaProxyClientOptions>) => KafkaProxyClient;
}

/** Registers the hooks (call it at the top of a test file): a fresh fake proxy for each test. */
export function useRecordsProxy(
  defaults: Partial<KafkaProxyClientOptions> = {},
): RecordsProxySetup {
  let proxy: RecordsProxy | undefined;
  let client: KafkaProxyClient | undefined;
  beforeEach(async () => {
    proxy = await startRecordsProxy();
  });
  afterEach(async () => {
    await client?.close();
    client = undefined;
    await proxy?.close();
  });
  const setup: RecordsProxySetup = {
    get proxy() {
      if (proxy === undefined) throw new Error('the fake proxy exists only while a test runs');
      return proxy;
    },
    open: (extra = {}) =>
      (client = new KafkaProxyClient({
        url: setup.proxy.url,
        token: 'secret',
        ...defaults,
        ...extra,
      })),
  };
  return setup;
}
