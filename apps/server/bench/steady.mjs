#!/usr/bin/env node
/* global process, console, fetch */
// A fresh proxy under a steady load from its first request on: a fixed rate, open loop, the way
// an application's producers send. `pnpm bench` measures the proxy's open-loop latency right
// after a closed-loop run at full speed, which leaves V8 in another state than a proxy that has
// only ever seen a moderate rate; this measures the latter: latency, CPU per message, garbage
// collection and peak RSS, and checks that every acknowledged message is in Kafka.
//
//   KAFKA_BROKERS=127.0.0.1:9092 node apps/server/bench/steady.mjs [options]
//
// Options:
//   --size 1024            bytes per message
//   --messages 100         messages per request
//   --rate 1000            requests per second
//   --seconds 8            measured seconds (after --warmup seconds at the same rate)
//   --warmup 3
//   --partitions 6         partitions of each (fresh) topic
//   --rounds 1             runs of each variant, interleaved
//   --node-options="A;B"   Node options to run the server with instead of its entry point's `#!`
//                          line; several variants separated by `;`, each run in every round
import { entryNodeOptions } from '@kproxy/testkit/proxy-process';
import {
  MAIN,
  brokersOrExit,
  cpuMs,
  createTopic,
  fixedBodyPoster,
  freePort,
  gcBetween,
  gcPauses,
  kafkaAdmin,
  landed,
  openLoop,
  operatorSettings,
  peakRss,
  quantile,
  randomFramedBody,
  readOptions,
  startServer,
  stopServer,
} from './lib.mjs';

const values = readOptions({
  size: { type: 'string', default: '1024' },
  messages: { type: 'string', default: '100' },
  rate: { type: 'string', default: '1000' },
  seconds: { type: 'string', default: '8' },
  warmup: { type: 'string', default: '3' },
  partitions: { type: 'string', default: '6' },
  rounds: { type: 'string', default: '1' },
  'node-options': { type: 'string' },
});
const size = Number(values.size);
const messages = Number(values.messages);
const rate = Number(values.rate);
const seconds = Number(values.seconds);
const warmup = Number(values.warmup);
const partitions = Number(values.partitions);
const rounds = Number(values.rounds);
const variants =
  values['node-options'] === undefined
    ? [entryNodeOptions(MAIN)]
    : values['node-options'].split(';').map((v) => v.split(' ').filter(Boolean));

const brokers = brokersOrExit();
const admin = kafkaAdmin(brokers);
const body = randomFramedBody(size, messages);
const settings = operatorSettings();

/** One fresh server and topic under the steady load; its figures. */
async function steady(nodeOptions) {
  const topic = await createTopic(admin, 'bench-steady', partitions);
  const metricsPort = await freePort();
  const { url, child } = await startServer(
    {
      KAFKA_PROXY_KAFKA_SERVER: brokers,
      KAFKA_PROXY_TOPIC: topic,
      KAFKA_PROXY_ACK_MODE: 'durable',
      KAFKA_PROXY_METRICS_PORT: String(metricsPort),
      ...settings,
    },
    'proxy',
    MAIN,
    nodeOptions,
  );
  const rss = peakRss(child.pid);
  const poster = fixedBodyPoster(url, 64, body);
  const scrapeGc = async () =>
    gcPauses(await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text());
  const send = async () => (await poster.post()) === 200;
  let figures;
  let peak;
  try {
    const warm = await openLoop({ rate, seconds: warmup, send });
    const gc0 = await scrapeGc();
    const cpu0 = cpuMs(child.pid);
    const run = await openLoop({ rate, seconds, send });
    const cpu1 = cpuMs(child.pid);
    const gc1 = await scrapeGc();
    const acked = (warm.acked + run.acked) * messages;
    const inKafka = await landed(admin, topic, partitions);
    const gc = gcBetween(gc0, gc1);
    figures = {
      p50: quantile(run.latencies, 0.5),
      p99: quantile(run.latencies, 0.99),
      p999: quantile(run.latencies, 0.999),
      max: run.latencies.at(-1) ?? NaN,
      failed: warm.failed + run.failed,
      cpuPer1000: ((cpu1 - cpu0) / (run.acked * messages)) * 1000,
      generatorHeldMs: run.generatorHeldMs,
      markCompacts: gc.major,
      scavenges: gc.minor,
      acked,
      inKafka,
    };
  } finally {
    await poster.close();
    await stopServer(child);
    peak = rss();
    await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
  }
  return { ...figures, peakRss: peak };
}

console.log(
  `kafka-proxy steady load: ${size} B x ${messages} per request, ${rate} requests/s ` +
    `(${((rate * messages * size) / 1048576).toFixed(1)} MiB/s), ${warmup} s + ${seconds} s on a fresh server each run`,
);
const fmt = (n, digits = 1) => (Number.isFinite(n) ? n.toFixed(digits) : '-');
let missing = false;
for (let round = 1; round <= rounds; round++) {
  for (const nodeOptions of variants) {
    const r = await steady(nodeOptions).catch((error) => ({ error }));
    if ('error' in r) {
      console.error(`round ${round} [${nodeOptions.join(' ')}]: ${r.error.message}`);
      process.exitCode = 1;
      continue;
    }
    if (r.inKafka < r.acked) missing = true;
    console.log(
      `round ${round} [${nodeOptions.join(' ')}]: p50 ${fmt(r.p50)} p99 ${fmt(r.p99)} ` +
        `p99.9 ${fmt(r.p999)} max ${fmt(r.max)} ms, ${fmt(r.cpuPer1000, 2)} CPU-ms/1000 msgs, ` +
        `${r.markCompacts.count} mark-compacts (${fmt(r.markCompacts.ms, 0)} ms), ` +
        `${r.scavenges.count} scavenges (${fmt(r.scavenges.ms, 0)} ms), ` +
        `peak RSS ${fmt(r.peakRss, 0)} MB, generator held up ${fmt(r.generatorHeldMs)} ms, ` +
        `${r.failed} failed; ` +
        `${r.acked} acknowledged, ${r.inKafka} in Kafka`,
    );
  }
}
await admin.close();
if (missing) {
  console.error('a message that was acknowledged is not in Kafka');
  process.exitCode = 1;
}
