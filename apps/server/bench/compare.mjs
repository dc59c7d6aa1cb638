#!/usr/bin/env node
/* global process, console, performance, Buffer */
// The proxy next to a direct kafkajs producer: the same request batches, the same concurrency, the
// same broker. `pnpm bench` (scripts/bench.sh) builds the server, starts a broker and runs this.
//
//   KAFKA_BROKERS=127.0.0.1:9092 node apps/server/bench/compare.mjs [options]
//
// Options:
//   --sizes 1024,65536      message sizes in bytes, one row pair per size
//   --messages 50,4         messages per request, one value per size
//   --requests 150,60       measured requests per client, one value per size
//   --warmup 3              requests per client before measuring (not counted in the figures)
//   --clients 32            concurrent senders: kafkajs send() callers / keep-alive HTTP connections
//   --partitions 6          partitions of each (fresh) topic
//   --compression none      none or gzip, for both the proxy and the direct producer
//   --phase-timeout 90      seconds before a phase is abandoned (the run always ends)
//
// For each size, both modes send clients x (warmup + requests) requests of the same messages, each
// request to one partition picked round-robin, and wait for acks=-1. Afterwards the topic's high
// watermarks are summed and compared with the number of messages sent.
import { randomFillSync } from 'node:crypto';
import os from 'node:os';
import kafkajs from 'kafkajs';
import { encodeFrames } from '@kproxy/framing';
import {
  brokersOrExit,
  closedLoop,
  createTopic,
  kafkaClient,
  keepAlivePool,
  list,
  peakRss,
  post,
  quantile,
  readOptions,
  startServer,
  stopServer,
} from './lib.mjs';

const { CompressionTypes, Partitioners } = kafkajs;
const ACK_TIMEOUT_MS = 10_000;

const values = readOptions({
  sizes: { type: 'string', default: '1024,65536' },
  messages: { type: 'string', default: '50,4' },
  requests: { type: 'string', default: '150,60' },
  warmup: { type: 'string', default: '3' },
  clients: { type: 'string', default: '32' },
  partitions: { type: 'string', default: '6' },
  compression: { type: 'string', default: 'none' },
  'phase-timeout': { type: 'string', default: '90' },
});
const numbers = (s) => list(s).map(Number);
const sizes = numbers(values.sizes);
const perRequest = numbers(values.messages);
const requests = numbers(values.requests);
const warmup = Number(values.warmup);
const clients = Number(values.clients);
const partitions = Number(values.partitions);
const phaseTimeoutMs = Number(values['phase-timeout']) * 1000;
const compression = values.compression;
if (compression !== 'none' && compression !== 'gzip') {
  console.error('--compression must be none or gzip');
  process.exit(2);
}
if (perRequest.length !== sizes.length || requests.length !== sizes.length) {
  console.error('--messages and --requests need one value per --sizes value');
  process.exit(2);
}
const brokers = brokersOrExit();
const kafka = kafkaClient(brokers);

async function landed(topic) {
  const admin = kafka.admin();
  await admin.connect();
  const offsets = await admin.fetchTopicOffsets(topic);
  await admin.disconnect();
  return offsets.reduce((sum, p) => sum + Number(p.high) - Number(p.low), 0);
}

/**
 * The workload of one size: for each client, its requests in order, each a list of messages.
 * Messages are random bytes (incompressible) drawn from a pool, so both modes send equal bytes.
 */
function workload(size, messagesPerRequest, count) {
  const pool = Array.from({ length: 256 }, () => randomFillSync(Buffer.alloc(size)));
  let next = 0;
  return Array.from({ length: clients }, () =>
    Array.from({ length: count }, () =>
      Array.from({ length: messagesPerRequest }, () => pool[next++ % pool.length]),
    ),
  );
}

/**
 * Runs every client's requests: first `warmup` each, then (all clients together) the rest, timed.
 * `send(clientIndex, requestIndex)` resolves true when the request is acknowledged and throws when
 * it failed.
 */
async function drive(plan, send) {
  let failures = 0;
  const onError = (error) => {
    failures += 1;
    if (failures <= 3) console.error(`  request failed: ${error.message}`);
  };
  const deadline = Date.now() + phaseTimeoutMs;
  const phase = { clients: plan.length, deadline, send, onError };
  await closedLoop({ ...phase, to: warmup, timed: false });
  const started = performance.now();
  const { latencies } = await closedLoop({ ...phase, from: warmup, to: plan[0].length });
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    seconds,
    requests: latencies.length,
    failures,
    p50: quantile(latencies, 0.5),
    p99: quantile(latencies, 0.99),
    timedOut: Date.now() >= deadline,
  };
}

/** Partition for request r of client c: round-robin over all requests, as the proxy does. */
const partitionOf = (c, r) => (r * clients + c) % partitions;

async function direct(plan) {
  const topic = await createTopic(kafka, 'bench-direct', partitions);
  // Configured like the proxy's producer (kafka-producer.ts): idempotent, one request in flight.
  const producer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    createPartitioner: Partitioners.DefaultPartitioner,
    retry: { initialRetryTime: 100, maxRetryTime: 2_000, retries: Number.MAX_SAFE_INTEGER },
  });
  await producer.connect();
  const kafkaMessages = plan.map((reqs, c) =>
    reqs.map((messages, r) => messages.map((value) => ({ value, partition: partitionOf(c, r) }))),
  );
  const stats = await drive(plan, async (c, r) => {
    await producer.send({
      topic,
      acks: -1,
      timeout: ACK_TIMEOUT_MS,
      compression: compression === 'gzip' ? CompressionTypes.GZIP : CompressionTypes.None,
      messages: kafkaMessages[c][r],
    });
    return true;
  });
  await producer.disconnect();
  return { ...stats, topic, rssMb: undefined };
}

async function proxy(plan) {
  const topic = await createTopic(kafka, 'bench-proxy', partitions);
  const { url, child } = await startServer(
    {
      KAFKA_PROXY_KAFKA_SERVER: brokers,
      KAFKA_PROXY_TOPIC: topic,
      KAFKA_PROXY_ACK_MODE: 'durable',
      KAFKA_PROXY_KAFKA_COMPRESSION: compression,
      // Flusher settings under test may be passed through from the environment.
      ...Object.fromEntries(
        Object.entries(process.env).filter(([k]) => k.startsWith('KAFKA_FLUSHER_')),
      ),
    },
    'the proxy',
  );
  // Encoded before timing, as a client would hold its batch ready.
  const bodies = plan.map((reqs) => reqs.map((messages) => encodeFrames(messages)));
  const http = keepAlivePool(url, clients);
  const rss = peakRss(child.pid);
  const stats = await drive(plan, async (c, r) => {
    const res = await post(http, bodies[c][r]);
    const text = await res.body.text();
    if (res.statusCode !== 200) throw new Error(`HTTP ${res.statusCode}: ${text}`);
    return true;
  });
  const rssMb = rss();
  await http.close();
  await stopServer(child);
  return { ...stats, topic, rssMb };
}

const fmt = (n, digits = 0) => (n === undefined || Number.isNaN(n) ? '-' : n.toFixed(digits));

console.log(
  `kafka-proxy vs direct kafkajs: ${os.cpus().length} cores, load ${os
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')}, node ${process.version}, broker ${brokers}`,
);
console.log(
  `clients ${clients}, partitions ${partitions}, compression ${compression}, acks=-1 idempotent, ` +
    `warm-up ${warmup} requests per client excluded`,
);
const rows = [];
const checks = [];
for (const [i, size] of sizes.entries()) {
  const plan = workload(size, perRequest[i], warmup + requests[i]);
  const sent = clients * (warmup + requests[i]) * perRequest[i];
  const results = {};
  for (const [mode, fn] of [
    ['direct', direct],
    ['proxy', proxy],
  ]) {
    console.log(
      `${mode}, ${size} B x ${perRequest[i]} per request, ${clients} x ${requests[i]} requests...`,
    );
    const result = await fn(plan);
    results[mode] = result;
    const messages = result.requests * perRequest[i];
    const count = await landed(result.topic);
    checks.push(
      `${mode} ${size} B: sent ${sent}, topic holds ${count}, failed requests ${result.failures}` +
        `${result.timedOut ? ' (phase timed out)' : ''}: ${count === sent && result.failures === 0 ? 'OK' : 'MISMATCH'}`,
    );
    rows.push({
      mode,
      size: size >= 1024 ? `${size / 1024} KiB` : `${size} B`,
      'msgs/req': perRequest[i],
      messages,
      'msgs/s': Math.round(messages / result.seconds),
      'MB/s': fmt((messages * size) / result.seconds / 1e6, 1),
      'p50 ms': fmt(result.p50, 1),
      'p99 ms': fmt(result.p99, 1),
      'peak RSS MB': fmt(result.rssMb),
      'x direct':
        mode === 'proxy'
          ? fmt(
              result.requests / result.seconds / (results.direct.requests / results.direct.seconds),
              2,
            )
          : '',
    });
  }
}

const columns = Object.keys(rows[0]);
const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => String(r[c]).length)));
const line = (cells) => cells.map((cell, i) => String(cell).padStart(widths[i])).join('  ');
console.log();
console.log(line(columns));
for (const row of rows) console.log(line(columns.map((c) => row[c])));
console.log();
console.log('messages landed (sum of high watermarks of each fresh topic):');
for (const check of checks) console.log(`  ${check}`);
if (checks.some((c) => !c.endsWith('OK'))) process.exitCode = 1;
