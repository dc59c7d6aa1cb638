// A stand-in for kafka-proxy's records produce route, for the SDK's unit tests: a real listening
// HTTP server that records each request (path, headers, decoded body) and answers as SPEC
// section 9 says the server does: each record to the request's partition header, else its key's
// partition, else the request's round-robin partition, with per-partition offsets in the reply.
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { afterEach, beforeEach } from 'vitest';
import { decodeFrames, decodeRecords, type ProxyRecord } from '@kproxy/framing';
import {
  CONTENT_TYPES,
  HEADERS,
  ROUTES,
  type ProduceReply,
  type RecordOffset,
} from '@kproxy/protocol';
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
  /** Where each record was written, when the request was answered 200. */
  offsets: RecordOffset[] | undefined;
}

/** What the proxy does with one request before answering it. */
export interface Plan {
  delayMs?: number;
  /** Answer 503 `kafka_unavailable` (retriable) instead of writing the records. */
  fail?: boolean;
}

export interface RecordsProxy {
  url: string;
  /** Every produce request, in arrival order. */
  requests: SeenRequest[];
  /** Requests answered 200, in the order they were answered (the order Kafka wrote them). */
  written: SeenRequest[];
  /** Decides what happens to each request as it arrives. */
  plan: (request: SeenRequest, index: number) => Plan;
  /** The most requests that were being handled at once. */
  mostAtOnce: number;
  close(): Promise<void>;
}

export const PARTITIONS = 4;

/** The partition the stand-in gives a key: any fixed function of the bytes serves the tests. */
export function partitionOfKey(key: Uint8Array): number {
  let sum = 0;
  for (const byte of key) sum = (sum * 31 + byte) % 1_000_003;
  return sum % PARTITIONS;
}

export async function startRecordsProxy(): Promise<RecordsProxy> {
  const next = new Map<number, bigint>();
  let roundRobin = 0;
  let atOnce = 0;
  const proxy: RecordsProxy = {
    url: '',
    requests: [],
    written: [],
    plan: () => ({}),
    mostAtOnce: 0,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      void (async () => {
        let body: Uint8Array = Buffer.concat(chunks);
        if (req.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
        const contentType = req.headers['content-type'] ?? '';
        const records =
          contentType === CONTENT_TYPES.records
            ? decodeRecords(body)
            : decodeFrames(body).map((value) => ({
                key: null,
                value,
                headers: [],
                timestamp: null,
              }));
        const path = req.url ?? '/';
        const seen: SeenRequest = {
          path,
          headers: req.headers,
          contentType,
          body,
          records,
          offsets: undefined,
        };
        proxy.requests.push(seen);
        const plan = proxy.plan(seen, proxy.requests.length - 1);
        proxy.mostAtOnce = Math.max(proxy.mostAtOnce, ++atOnce);
        if (plan.delayMs) await new Promise((resolve) => setTimeout(resolve, plan.delayMs));
        atOnce--;
        if (plan.fail) {
          res.writeHead(503, { 'content-type': CONTENT_TYPES.json, [HEADERS.retryAfter]: '0' });
          res.end(JSON.stringify({ error: 'kafka_unavailable', message: 'Kafka is unavailable' }));
          return;
        }
        const header = req.headers[HEADERS.partition];
        const requestPartition = roundRobin++ % PARTITIONS;
        const offsets = records.map(({ key }): RecordOffset => {
          const partition =
            typeof header === 'string'
              ? Number(header)
              : key
                ? partitionOfKey(key)
                : requestPartition;
          const offset = next.get(partition) ?? 0n;
          next.set(partition, offset + 1n);
          return { partition, offset: String(offset) };
        });
        seen.offsets = offsets;
        proxy.written.push(seen);
        const topic =
          path === ROUTES.produce.path ? 'default-topic' : decodeURIComponent(path.slice(8));
        const reply: ProduceReply = {
          topic,
          count: records.length,
          bytes: body.length,
          ack: 'durable',
        };
        // As the server: per-record offsets for a records body only.
        if (contentType === CONTENT_TYPES.records) reply.offsets = offsets;
        const partitions = new Set(offsets.map((o) => o.partition));
        if (partitions.size === 1 && offsets[0]) {
          reply.partition = offsets[0].partition;
          reply.baseOffset = offsets[0].offset;
        }
        res.writeHead(200, { 'content-type': CONTENT_TYPES.json });
        res.end(JSON.stringify(reply));
      })();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  proxy.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return proxy;
}

export interface RecordsProxySetup {
  /** This test's stand-in. */
  readonly proxy: RecordsProxy;
  /** A client of it with `defaults` and `extra`; the last one opened is closed after the test. */
  open: (extra?: Partial<KafkaProxyClientOptions>) => KafkaProxyClient;
}

/** Registers the hooks (call it at the top of a test file): a fresh stand-in for each test. */
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
      if (proxy === undefined) throw new Error('the stand-in exists only while a test runs');
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
