#!/usr/bin/env node
/* global process, console, Buffer, URL, setInterval, clearInterval, performance, fetch */
// `pnpm bench`: the proxy measured against the real limit, in one run on one broker. For each
// message size it runs, one after the other, on a fresh topic each:
//
//   1. Kafka's own producer, `org.apache.kafka.tools.ProducerPerformance` (acks=all, idempotent,
//      linger.ms=5, batch.size=1 MiB): what the broker takes from one client on this machine;
//   2. a direct producer: the server's Kafka client as the server configures it, sending the same
//      requests (N messages to one partition each) from `--connections` concurrent senders;
//   3. the proxy (the built server, durable mode, request log on) under wrk with `--connections`
//      keep-alive connections posting the same framed requests, then an open-loop load at half the
//      rate it reached, to a topic of its own, for the latency an application sees below
//      saturation.
//
// Every figure is printed with its ratio to ProducerPerformance; CPU is per 1000 messages, over
// all of a process's threads (from /proc/<pid>/stat); afterwards each topic's end offsets are
// compared with what was acknowledged (exit code 1 when a message is missing).
//
//   KAFKA_BROKERS=127.0.0.1:9092 node apps/server/bench/compare.mjs [options]
//
// Options:
//   --sizes 1024,65536      message sizes in bytes, one group of rows per size
//   --messages 100,4        messages per request, one value per size
//   --connections 16        wrk connections / direct senders
//   --seconds 10            measured seconds of each phase (after --warmup seconds)
//   --warmup 2
//   --partitions 6          partitions of each (fresh) topic
//   --only pp,direct,proxy,records,http  phases to run (records: the proxy with the same
//                           messages as a records body; http: the proxy with Kafka's client replaced by
//                           one that acknowledges at once, the HTTP side's own cost, and after
//                           a proxy phase its latency at the proxy's half rate: the floor of the
//                           open-loop figures, this load generator included)
//   --direct platformatic   direct producers to run: platformatic (the server's client), kafkajs
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { encodeRecords } from '@kproxy/framing';
import { CONTENT_TYPES } from '@kproxy/protocol';
import {
  TOKEN,
  brokersOrExit,
  bucketQuantileMs,
  cpuMs,
  createTopic,
  fixedBodyPoster,
  freePort,
  gcBetween,
  gcPauses,
  histogramBuckets,
  kafkaAdmin,
  landed,
  list,
  openLoop,
  operatorSettings,
  peakRss,
  quantile,
  randomFramedBody,
  randomMessages,
  readOptions,
  startServer,
  stopServer,
} from './lib.mjs';

const here = (file) => fileURLToPath(new URL(file, import.meta.url));
const KAFKA_SH = here('../../../scripts/kafka.sh');

const values = readOptions({
  sizes: { type: 'string', default: '1024,65536' },
  messages: { type: 'string', default: '100,4' },
  connections: { type: 'string', default: '16' },
  seconds: { type: 'string', default: '10' },
  warmup: { type: 'string', default: '2' },
  partitions: { type: 'string', default: '6' },
  only: { type: 'string', default: 'pp,direct,proxy,records,http' },
  direct: { type: 'string', default: 'platformatic' },
});
const numbers = (s) => list(s).map(Number);
const sizes = numbers(values.sizes);
const perRequest = numbers(values.messages);
const connections = Number(values.connections);
const seconds = Number(values.seconds);
const warmup = Number(values.warmup);
const partitions = Number(values.partitions);
const phases = new Set(list(values.only));
if (perRequest.length !== sizes.length) {
  console.error('--messages needs one value per --sizes value');
  process.exit(2);
}
const brokers = brokersOrExit();
const admin = kafkaAdmin(brokers);
const MiB = 1024 * 1024;

/** Runs a command to its end; resolves with its stdout, rejects on a non-zero exit. */
async function run(command, args, { env = {}, onStdout } = {}) {
  const child = spawn(command, args, {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let stdout = '';
  child.stdout.on('data', (chunk) => {
    stdout += chunk;
    onStdout?.(child, String(chunk));
  });
  const [code] = await once(child, 'exit');
  if (code !== 0) throw new Error(`${command} ${args.join(' ')} exited with ${code}`);
  return stdout;
}

/**
 * One ProducerPerformance run of `records` records. CPU per message leaves out the JVM's start:
 * it counts from the tool's first 5-second report to its end, over the records sent after it.
 */
async function producerPerformance(topic, size, records) {
  const started = performance.now();
  let first;
  let lastCpu;
  let sampler;
  let text = '';
  const out = await run(
    'bash',
    [
      KAFKA_SH,
      'perf-test',
      '--topic',
      topic,
      '--num-records',
      String(records),
      '--record-size',
      String(size),
      '--throughput',
      '-1',
      '--producer-props',
      `bootstrap.servers=${brokers}`,
      'acks=all',
      'enable.idempotence=true',
      'linger.ms=5',
      `batch.size=${MiB}`,
      `max.request.size=${4 * MiB}`,
    ],
    {
      onStdout(child, chunk) {
        sampler ??= setInterval(() => {
          lastCpu = cpuMs(child.pid) ?? lastCpu;
        }, 100);
        text += chunk;
        const window = /^(\d+) records sent, [\d.]+ records\/sec/m.exec(text);
        if (first === undefined && window) {
          first = { records: Number(window[1]), cpu: cpuMs(child.pid), at: performance.now() };
        }
      },
    },
  );
  const ended = performance.now();
  clearInterval(sampler);
  const total =
    /(\d+) records sent, ([\d.]+) records\/sec \([\d.]+ MB\/sec\), [\d.]+ ms avg latency, [\d.]+ ms max latency, (\d+) ms 50th, \d+ ms 95th, (\d+) ms 99th/.exec(
      out,
    );
  if (!total) throw new Error(`ProducerPerformance printed no summary:\n${out}`);
  const sent = Number(total[1]);
  // After its first 5-second report the JVM has started and compiled its hot paths: rate and
  // CPU from then on are the steady state, the anchor the proxy is held to.
  const steady = first !== undefined && sent > first.records;
  return {
    rate: steady ? (sent - first.records) / ((ended - first.at) / 1000) : Number(total[2]),
    p50: Number(total[3]),
    p99: Number(total[4]),
    cpuPer1000:
      steady && first.cpu !== undefined && lastCpu !== undefined
        ? ((lastCpu - first.cpu) / (sent - first.records)) * 1000
        : undefined,
    acked: sent,
    steadySeconds: steady ? (ended - first.at) / 1000 : 0,
    seconds: (ended - started) / 1000,
  };
}

async function kafkaPhase(size) {
  const topic = await createTopic(admin, 'bench-pp', partitions);
  // ProducerPerformance takes a record count, not a duration: grow it until a run has `seconds`
  // of steady state after its first report (the JVM's start and warm-up come before).
  let records = Math.ceil((64 * MiB) / size);
  let acked = 0;
  for (let attempt = 0; ; attempt++) {
    const result = await producerPerformance(topic, size, records);
    acked += result.acked;
    if (result.steadySeconds >= seconds || attempt === 3) return { ...result, topic, acked };
    const rate = result.steadySeconds > 0 ? result.rate : result.acked / result.seconds;
    records = Math.ceil(rate * (seconds + 6) * 1.2);
  }
}

async function directPhase(size, messages, client, rate = 0) {
  const topic = await createTopic(admin, 'bench-direct', partitions);
  const out = await run(process.execPath, [
    here('./direct.mjs'),
    `--client=${client}`,
    `--brokers=${brokers}`,
    `--topic=${topic}`,
    `--partitions=${partitions}`,
    `--size=${size}`,
    `--messages=${messages}`,
    `--concurrency=${connections}`,
    `--seconds=${seconds}`,
    `--warmup=${warmup}`,
    `--rate=${rate}`,
  ]);
  const r = JSON.parse(out);
  return {
    topic,
    rate: r.timedMessages / r.seconds,
    p50: r.p50Ms,
    p99: r.p99Ms,
    cpuPer1000: (r.cpuMs / r.timedMessages) * 1000,
    acked: r.acked,
  };
}

/** wrk against the proxy for `duration` seconds; resolves with its JSON summary line. */
async function wrk(url, bodyFile, duration, contentType = CONTENT_TYPES.frames) {
  const out = await run(
    'wrk',
    [
      '-t2',
      `-c${connections}`,
      `-d${duration}s`,
      '--timeout',
      '30s',
      '-s',
      here('./wrk-post.lua'),
      url,
    ],
    { env: { BENCH_BODY: bodyFile, BENCH_TOKEN: TOKEN, BENCH_CONTENT_TYPE: contentType } },
  );
  const line = out.split('\n').find((l) => l.startsWith('{"acked"'));
  if (line === undefined) throw new Error(`wrk printed no summary:\n${out}`);
  return JSON.parse(line);
}

/** One request's framed body of `messages` random messages, written to a file for wrk. */
async function framedBody(size, messages, file) {
  const body = randomFramedBody(size, messages);
  await writeFile(file, body);
  return body;
}

const serverSettings = operatorSettings();

/**
 * wrk for the warm-up, then for the measured seconds with the server's CPU counted around it:
 * the timed run's figures and the acknowledged messages of both.
 */
async function underWrk(url, pid, bodyFile, messages, contentType) {
  const warm = await wrk(url, bodyFile, warmup, contentType);
  const cpu0 = cpuMs(pid);
  const timed = await wrk(url, bodyFile, seconds, contentType);
  const cpu1 = cpuMs(pid);
  if (timed.refused > 0 || timed.socketErrors > 0) {
    console.error(`  ${timed.refused} refused, ${timed.socketErrors} socket errors`);
  }
  const timedMessages = timed.acked * messages;
  return {
    rate: timedMessages / timed.seconds,
    p50: timed.p50Ms,
    p99: timed.p99Ms,
    cpuPer1000: ((cpu1 - cpu0) / timedMessages) * 1000,
    acked: (warm.acked + timed.acked) * messages,
  };
}

/**
 * `rate` requests per second posting `body` to `path`, open loop, on 64 connections of
 * {@link fixedBodyPoster} (half the CPU of an undici pool at these rates): `warmup` seconds, then
 * the `seconds` measured, with `between()` called at either end of those (a scrape of the server's
 * metrics). Like every other phase it starts with a warm-up, here also the seconds in which the
 * broker trims the topic the closed-loop run just filled.
 */
async function atRate(url, body, rate, path = '/', between = async () => undefined) {
  const poster = fixedBodyPoster(url, 64, body, path);
  const send = async () => (await poster.post()) === 200;
  try {
    const warm = await openLoop({ rate, seconds: warmup, send });
    const before = await between();
    const run = await openLoop({ rate, seconds, send });
    const after = await between();
    return { ...run, ackedInAll: warm.acked + run.acked, before, after };
  } finally {
    await poster.close();
  }
}

/** The rate and latencies of an {@link openLoop} run, in messages per second. */
const openLoopFigures = (run, messages) => ({
  rate: (run.acked * messages) / seconds,
  p50: quantile(run.latencies, 0.5),
  p99: quantile(run.latencies, 0.99),
  failed: run.failed,
});

/**
 * The proxy under wrk with the same messages as a records body (each a record without key, with
 * one header), the cost of the records path beside the original frames'.
 */
async function recordsPhase(size, messages, dir) {
  const topic = await createTopic(admin, 'bench-records', partitions);
  const bodyFile = join(dir, `records-${size}.bin`);
  const pool = randomMessages(size);
  const header = { name: 'source', value: Buffer.from('bench') };
  await writeFile(
    bodyFile,
    encodeRecords(
      Array.from({ length: messages }, (_, i) => ({
        key: null,
        value: pool[i % pool.length],
        headers: [header],
        timestamp: null,
      })),
    ),
  );
  const { url, child } = await startServer(
    {
      KAFKA_PROXY_KAFKA_SERVER: brokers,
      KAFKA_PROXY_TOPIC: topic,
      KAFKA_PROXY_ACK_MODE: 'durable',
      KAFKA_FLUSHER_TOPIC_CACHE: join(dir, `topic-records-${size}`),
      ...serverSettings,
    },
    'proxy',
  );
  const rss = peakRss(child.pid);
  try {
    return {
      ...(await underWrk(url, child.pid, bodyFile, messages, CONTENT_TYPES.records)),
      topic,
    };
  } finally {
    await stopServer(child);
    rssPeak.set(topic, rss());
  }
}

async function proxyPhase(size, messages, dir) {
  const topic = await createTopic(admin, 'bench-proxy', partitions);
  const bodyFile = join(dir, `body-${size}.bin`);
  const body = await framedBody(size, messages, bodyFile);
  const metricsPort = await freePort();
  const { url, child } = await startServer(
    {
      KAFKA_PROXY_KAFKA_SERVER: brokers,
      KAFKA_PROXY_TOPIC: topic,
      KAFKA_PROXY_ACK_MODE: 'durable',
      KAFKA_FLUSHER_TOPIC_CACHE: join(dir, `topic-${size}`),
      KAFKA_PROXY_METRICS_PORT: String(metricsPort),
      ...serverSettings,
    },
    'proxy',
  );
  const rss = peakRss(child.pid);
  const scrape = async () => {
    const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    return {
      request: histogramBuckets(text, 'kafka_proxy_http_request_duration_seconds'),
      flush: histogramBuckets(text, 'kafka_proxy_flush_duration_seconds'),
      gc: gcPauses(text),
    };
  };
  try {
    const closed = await underWrk(url, child.pid, bodyFile, messages);
    // Half the peak, open loop: the latency an application sees when the proxy is not saturated.
    // On a topic of its own (`POST /topics/{topic}`), as the direct producer's run at that rate
    // is: the closed-loop topic is at the bench broker's retention limit by now, and the broker
    // deleting its segments while the open-loop run measures would count against the proxy.
    const halfTopic = await createTopic(admin, 'bench-proxy-half', partitions);
    const half = await atRate(
      url,
      body,
      closed.rate / messages / 2,
      `/topics/${halfTopic}`,
      scrape,
    );
    const { before, after } = half;
    return {
      ...closed,
      topic,
      half: {
        topic: halfTopic,
        acked: half.ackedInAll * messages,
        ...openLoopFigures(half, messages),
        // Whose the tail is: the server's own view of its requests and of Kafka's answers.
        tail: {
          generatorHeldMs: half.generatorHeldMs,
          serverP99Ms: bucketQuantileMs(before.request, after.request, 0.99),
          flushP99Ms: bucketQuantileMs(before.flush, after.flush, 0.99),
          // One slow answer holds every request queued behind it: the p99 of answers hides it.
          flushMaxMs: bucketQuantileMs(before.flush, after.flush, 1),
          gc: gcBetween(before.gc, after.gc),
        },
      },
    };
  } finally {
    await stopServer(child);
    rssPeak.set(topic, rss());
  }
}
const rssPeak = new Map();

/**
 * The proxy's HTTP side alone (bench/http-only.mjs): CPU per message before any Kafka work, and,
 * at the proxy's half rate, the latency of the HTTP path and of this load generator themselves
 * (the floor under the proxy's open-loop figures).
 */
async function httpPhase(size, messages, dir, halfRate) {
  const bodyFile = join(dir, `body-http-${size}.bin`);
  const body = await framedBody(size, messages, bodyFile);
  const { url, child } = await startServer(
    { KAFKA_PROXY_TOPIC: 'bench-http-only', KAFKA_PROXY_ACK_MODE: 'durable', ...serverSettings },
    'http-only',
    here('./http-only.mjs'),
  );
  try {
    const { acked: _acked, ...figures } = await underWrk(url, child.pid, bodyFile, messages);
    const half =
      halfRate === undefined
        ? undefined
        : await atRate(url, body, halfRate / messages, '/topics/bench-http-half');
    // Not a Kafka figure: its rate is not held against Kafka's.
    return { ...figures, noRatio: true, half: half && openLoopFigures(half, messages) };
  } finally {
    await stopServer(child);
  }
}

const fmt = (n, digits = 1) =>
  n === undefined || Number.isNaN(n) ? '-' : n.toFixed(digits).replace(/\.0+$/, '');
const rows = [];
const checks = [];
const tails = [];
const dir = await mkdtemp(join(os.tmpdir(), 'kafka-proxy-bench-'));
console.log(
  `kafka-proxy bench: ${os.cpus().length} cores, load ${os
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')}, ${connections} connections, ${seconds} s per phase, Node ${process.version}`,
);
// Set by scripts/bench.sh when it runs the broker itself.
if (process.env.KPROXY_BENCH_BROKER_LOG) {
  console.log(`broker log ${process.env.KPROXY_BENCH_BROKER_LOG}`);
}
try {
  for (const [i, size] of sizes.entries()) {
    const messages = perRequest[i] ?? 1;
    const label = size >= 1024 ? `${size / 1024} KiB x ${messages}` : `${size} B x ${messages}`;
    const phaseRows = [];
    // Each phase's topic is checked as soon as the phase ends, then deleted: the broker need not
    // keep gigabytes of benchmark data (in the broker's memory, as `pnpm bench` runs it).
    const add = async (name, r) => {
      phaseRows.push([name, r]);
      if (r.topic === undefined) return;
      const inKafka = await landed(admin, r.topic, partitions);
      checks.push({ size: label, run: name, acknowledged: r.acked, inKafka });
      await admin.deleteTopics({ topics: [r.topic] });
    };
    if (phases.has('pp')) await add('ProducerPerformance', await kafkaPhase(size));
    if (phases.has('direct')) {
      for (const client of list(values.direct)) {
        await add(`direct producer (${client})`, await directPhase(size, messages, client));
      }
    }
    if (phases.has('proxy')) {
      const proxy = await proxyPhase(size, messages, dir);
      await add('kafka-proxy', proxy);
      await add('kafka-proxy, half rate, open loop', { ...proxy.half, cpuPer1000: undefined });
      tails.push({ size: label, p99: proxy.half.p99, ...proxy.half.tail });
      if (phases.has('direct')) {
        // The same rate straight into the server's Kafka client: the latency Kafka and the client
        // themselves take, which the proxy cannot beat.
        const direct = await directPhase(
          size,
          messages,
          'platformatic',
          proxy.half.rate / messages,
        );
        await add('direct producer (platformatic), same half rate, open loop', {
          ...direct,
          cpuPer1000: undefined,
          noRatio: true,
        });
      }
    }
    if (phases.has('records')) {
      await add('kafka-proxy, records body', await recordsPhase(size, messages, dir));
    }
    if (phases.has('http')) {
      const halfRate = phaseRows.find(([name]) => name === 'kafka-proxy')?.[1].half.rate;
      const http = await httpPhase(size, messages, dir, halfRate);
      await add('HTTP side alone (Kafka not called)', http);
      if (http.half) {
        await add('HTTP side alone, same half rate, open loop', { ...http.half, noRatio: true });
      }
    }
    const anchor = phaseRows.find(([name]) => name === 'ProducerPerformance')?.[1].rate;
    for (const [name, r] of phaseRows) {
      rows.push({
        size: label,
        run: name,
        'msgs/s': fmt(r.rate, 0),
        'MiB/s': fmt((r.rate * size) / MiB),
        'p50 ms': fmt(r.p50),
        'p99 ms': fmt(r.p99),
        'CPU-ms/1000 msgs': fmt(r.cpuPer1000, 2),
        'peak RSS MB': r.topic && rssPeak.has(r.topic) ? fmt(rssPeak.get(r.topic), 0) : '-',
        'x ProducerPerformance': anchor && !r.noRatio ? fmt(r.rate / anchor, 2) : '-',
      });
    }
  }
} finally {
  await admin.close();
  await rm(dir, { recursive: true, force: true });
}

console.log('');
console.table(rows);
console.log('');
// The server's histograms have coarse buckets: "<= 25" is the bucket the 99th percentile fell in.
const bound = (ms) =>
  ms === undefined ? '-' : ms === Infinity ? 'past the last bucket' : `<= ${fmt(ms)} ms`;
for (const t of tails) {
  console.log(
    `tail   ${t.size}, kafka-proxy at half rate: p99 ${fmt(t.p99)} ms at the load generator; ` +
      `inside the proxy (request to response) ${bound(t.serverP99Ms)}, Kafka's answers to its ` +
      `batches ${bound(t.flushP99Ms)} (the slowest ${bound(t.flushMaxMs)}); the generator's event loop held up at most ${fmt(t.generatorHeldMs)} ms; ` +
      `the proxy paused for ${t.gc.major.count} mark-compacts (${fmt(t.gc.major.ms)} ms, and ` +
      `${fmt(t.gc.incremental.ms)} ms of incremental marking) and ${t.gc.minor.count} scavenges (${fmt(t.gc.minor.ms)} ms)`,
  );
}
if (tails.length > 0) console.log('');
let missing = false;
for (const c of checks) {
  // The proxy may hold more than was acknowledged: requests wrk had sent when it stopped, which
  // the proxy still wrote. Fewer would be an acknowledged message lost.
  const ok = c.inKafka >= c.acknowledged;
  missing ||= !ok;
  console.log(
    `${ok ? 'ok     ' : 'MISSING'} ${c.size}, ${c.run}: ${c.acknowledged} acknowledged, ${c.inKafka} in Kafka` +
      (c.inKafka > c.acknowledged
        ? ` (+${c.inKafka - c.acknowledged} unanswered when the load stopped)`
        : ''),
  );
}
process.exit(missing ? 1 : 0);
