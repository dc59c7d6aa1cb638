#!/usr/bin/env node
/* global process, console, URL, performance */
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
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import kafkajs from 'kafkajs';
import { Pool } from 'undici';
import { encodeFrames } from '@kproxy/framing';

const MAIN = fileURLToPath(new URL('../dist/main.js', import.meta.url));
const TOKEN = `bench-${randomUUID()}`;

// `pnpm bench -- --clients 8` passes the `--` through; drop it so the flags are read.
const args = process.argv.slice(2).filter((arg, i) => !(i === 0 && arg === '--'));
const { values } = parseArgs({
  args,
  options: {
    clients: { type: 'string', default: '64' },
    duration: { type: 'string', default: '10' },
    messages: { type: 'string', default: '20' },
    size: { type: 'string', default: '300' },
    linger: { type: 'string', default: '0,0.005,0.05' },
    batch: { type: 'string', default: '10000' },
    mode: { type: 'string', default: 'durable' },
    partitions: { type: 'string', default: '6' },
  },
  allowPositionals: true,
});
const list = (s) =>
  s
    .split(',')
    .map((v) => v.trim())
    .filter(Boolean);
const brokers = process.env.KAFKA_BROKERS;
if (!brokers) {
  console.error('KAFKA_BROKERS is not set: start a broker first (scripts/kafka.sh up prints it)');
  process.exit(2);
}
if (!existsSync(MAIN)) {
  console.error('dist/main.js is missing: run `pnpm --filter @kproxy/server build` first');
  process.exit(2);
}

async function createTopic(topic, partitions) {
  const admin = new kafkajs.Kafka({
    brokers: brokers.split(','),
    logLevel: kafkajs.logLevel.NOTHING,
  }).admin();
  await admin.connect();
  await admin.createTopics({
    topics: [{ topic, numPartitions: partitions }],
    waitForLeaders: true,
  });
  await admin.disconnect();
}

async function startServer(env) {
  const child = spawn(process.execPath, [MAIN], {
    env: {
      PATH: process.env.PATH,
      KAFKA_PROXY_HOST: '127.0.0.1',
      KAFKA_PROXY_PORT: '0',
      LOG_LEVEL: 'info',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise((resolve, reject) => {
    let buffer = '';
    child.stdout.on('data', (chunk) => {
      buffer += chunk.toString();
      const match = /"url":"([^"]+)","tls":\w+,"msg":"listening"/.exec(buffer);
      if (match) resolve(match[1]);
      if (buffer.length > 1 << 16) buffer = buffer.slice(-4096);
    });
    child.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
  });
  // Request log lines are part of the cost being measured; they are read and dropped.
  child.stdout.resume();
  return { url, child };
}

async function run({ clients, duration, messages, size, linger, batch, mode, partitions }) {
  const topic = `bench-${randomUUID().slice(0, 8)}`;
  await createTopic(topic, partitions);
  const { url, child } = await startServer({
    KAFKA_PROXY_TOKEN: TOKEN,
    KAFKA_PROXY_KAFKA_SERVER: brokers,
    KAFKA_PROXY_TOPIC: topic,
    KAFKA_PROXY_ACK_MODE: mode,
    KAFKA_FLUSHER_TIMEOUT: String(linger),
    KAFKA_FLUSHER_NUM_MESSAGES: String(batch),
  });
  const body = encodeFrames(Array.from({ length: messages }, () => new Uint8Array(size).fill(97)));
  const pool = new Pool(url, { connections: clients, pipelining: 1 });
  const latencies = [];
  let failures = 0;
  const deadline = Date.now() + duration * 1000;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (Date.now() < deadline) {
        const t0 = performance.now();
        const res = await pool.request({
          path: '/',
          method: 'POST',
          headers: { 'x-kafka-proxy-token': TOKEN, 'content-type': 'application/octet-stream' },
          body,
        });
        await res.body.dump();
        if (res.statusCode >= 300) failures += 1;
        else latencies.push(performance.now() - t0);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  await pool.close();
  child.kill('SIGTERM');
  await once(child, 'exit');
  latencies.sort((a, b) => a - b);
  const q = (p) =>
    latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? NaN;
  const requests = latencies.length;
  return {
    linger,
    batch,
    'req/s': Math.round(requests / seconds),
    'msg/s': Math.round((requests * messages) / seconds),
    'MB/s': +((requests * messages * size) / seconds / 1e6).toFixed(1),
    'p50 ms': +q(0.5).toFixed(1),
    'p99 ms': +q(0.99).toFixed(1),
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
