#!/usr/bin/env node
/* global console, performance */
// Throughput and latency of the built server against a real broker, for choosing flusher defaults.
//
//   KAFKA_BROKERS=127.0.0.1:9092 pnpm --filter @kproxy/server bench -- [options]
//
// Options (comma-separated values are swept, one run per combination):
//   --clients 64          concurrent HTTP clients (keep-alive connections)
//   --duration 10         seconds of load per run
//   --messages 20         messages per request
//   --size 300            bytes per message
//   --linger 0,0.005,0.05 KAFKA_FLUSHER_TIMEOUT values (seconds)
//   --batch 10000         KAFKA_FLUSHER_NUM_MESSAGES values
//   --mode durable        durable or buffered
//   --partitions 6        partitions of the benchmark topic
//
// Prints one line per run: requests/s, messages/s, MB/s of payload, p50/p99/max latency in ms.
import { encodeFrames } from '@kproxy/framing';
import {
  brokersOrExit,
  closedLoop,
  createTopic,
  kafkaAdmin,
  keepAlivePool,
  list,
  post,
  quantile,
  readOptions,
  startServer,
  stopServer,
} from './lib.mjs';

const values = readOptions(
  {
    clients: { type: 'string', default: '64' },
    duration: { type: 'string', default: '10' },
    messages: { type: 'string', default: '20' },
    size: { type: 'string', default: '300' },
    linger: { type: 'string', default: '0,0.005,0.05' },
    batch: { type: 'string', default: '10000' },
    mode: { type: 'string', default: 'durable' },
    partitions: { type: 'string', default: '6' },
  },
  { allowPositionals: true },
);
const brokers = brokersOrExit();
const admin = kafkaAdmin(brokers);

async function run({ clients, duration, messages, size, linger, batch, mode, partitions }) {
  const topic = await createTopic(admin, 'bench', partitions);
  const { url, child } = await startServer({
    KAFKA_PROXY_KAFKA_SERVER: brokers,
    KAFKA_PROXY_TOPIC: topic,
    KAFKA_PROXY_ACK_MODE: mode,
    KAFKA_FLUSHER_TIMEOUT: String(linger),
    KAFKA_FLUSHER_NUM_MESSAGES: String(batch),
  });
  const body = encodeFrames(Array.from({ length: messages }, () => new Uint8Array(size).fill(97)));
  const pool = keepAlivePool(url, clients);
  const deadline = Date.now() + duration * 1000;
  const started = performance.now();
  const { latencies, failures } = await closedLoop({
    clients,
    deadline,
    send: async () => {
      const res = await post(pool, body);
      await res.body.dump();
      return res.statusCode < 300;
    },
  });
  const seconds = (performance.now() - started) / 1000;
  await pool.close();
  await stopServer(child);
  latencies.sort((a, b) => a - b);
  const requests = latencies.length;
  return {
    linger,
    batch,
    'req/s': Math.round(requests / seconds),
    'msg/s': Math.round((requests * messages) / seconds),
    'MB/s': +((requests * messages * size) / seconds / 1e6).toFixed(1),
    'p50 ms': +quantile(latencies, 0.5).toFixed(1),
    'p99 ms': +quantile(latencies, 0.99).toFixed(1),
    'max ms': +(latencies.at(-1) ?? NaN).toFixed(1),
    failures,
  };
}

const base = {
  clients: Number(values.clients),
  duration: Number(values.duration),
  messages: Number(values.messages),
  size: Number(values.size),
  mode: values.mode,
  partitions: Number(values.partitions),
};
console.log(`kafka-proxy bench: ${JSON.stringify(base)}`);
const rows = [];
for (const linger of list(values.linger).map(Number)) {
  for (const batch of list(values.batch).map(Number)) {
    rows.push(await run({ ...base, linger, batch }));
    console.log(JSON.stringify(rows.at(-1)));
  }
}
console.table(rows);
await admin.close();
