#!/usr/bin/env node
/* global process, performance */
// The direct producer of `pnpm bench`, in a process of its own so that its CPU time is measured
// the way the proxy's is: a Kafka client (`--client platformatic`, the server's, or `kafkajs`, the
// one it replaced) configured as the server configures it (idempotent, acks=all), with `--concurrency` senders each sending whole requests
// (`--messages` messages of `--size` random bytes, one explicit partition per request,
// round-robin), for `--seconds` after `--warmup` seconds; with `--rate N`, the measured seconds
// are open loop instead: N requests a second, each timed from when it was due. Prints one JSON
// line: acknowledged requests and messages, seconds, latency percentiles in ms.
import { parseArgs } from 'node:util';
import { Producer, ProduceAcks } from '@platformatic/kafka';
import kafkajs from 'kafkajs';
import { openLoop, quantile, randomMessages } from './lib.mjs';

const { values } = parseArgs({
  options: {
    brokers: { type: 'string' },
    topic: { type: 'string' },
    partitions: { type: 'string', default: '6' },
    size: { type: 'string', default: '1024' },
    messages: { type: 'string', default: '100' },
    concurrency: { type: 'string', default: '16' },
    seconds: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '2' },
    client: { type: 'string', default: 'platformatic' },
    rate: { type: 'string', default: '0' },
  },
});
const partitions = Number(values.partitions);
const size = Number(values.size);
const perRequest = Number(values.messages);
const concurrency = Number(values.concurrency);

const brokers = String(values.brokers).split(',');
const topic = String(values.topic);

/** The candidate client behind one interface: init, send(messages to one partition), close. */
async function candidate(name) {
  if (name === 'platformatic') {
    const producer = new Producer({
      clientId: 'kafka-proxy-bench-direct',
      bootstrapBrokers: brokers,
      idempotent: true,
      acks: ProduceAcks.ALL,
      timeout: 10_000,
    });
    await producer.initIdempotentProducer({});
    return {
      send: (partition, values) =>
        producer.send({ messages: values.map((value) => ({ topic, partition, value })) }),
      close: () => producer.close(),
    };
  }
  if (name === 'kafkajs') {
    const kafka = new kafkajs.Kafka({
      clientId: 'kafka-proxy-bench-direct',
      brokers,
      logLevel: kafkajs.logLevel.NOTHING,
    });
    // As the server configured it before: idempotent, one request in flight per broker.
    const producer = kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      createPartitioner: kafkajs.Partitioners.DefaultPartitioner,
    });
    await producer.connect();
    return {
      send: (partition, values) =>
        producer.send({
          topic,
          acks: -1,
          timeout: 10_000,
          messages: values.map((value) => ({ value, partition })),
        }),
      close: () => producer.disconnect(),
    };
  }
  throw new Error(`--client must be platformatic or kafkajs, not ${name}`);
}

const producer = await candidate(String(values.client));
const pool = randomMessages(size);
let nextPartition = 0;
let nextValue = 0;
const request = () => ({
  partition: nextPartition++ % partitions,
  values: Array.from({ length: perRequest }, () => pool[nextValue++ % pool.length]),
});

/** Runs the senders until `until` (a performance.now() value); resolves with their latencies. */
async function run(until) {
  const latencies = [];
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < until) {
        const { partition, values: batch } = request();
        const t0 = performance.now();
        await producer.send(partition, batch);
        latencies.push(performance.now() - t0);
      }
    }),
  );
  return latencies;
}

/** `rate` requests a second for the measured seconds, open loop; resolves with the latencies. */
async function atRate(rate) {
  const { latencies } = await openLoop({
    rate,
    seconds: Number(values.seconds),
    send: async () => {
      const { partition, values: batch } = request();
      await producer.send(partition, batch);
      return true;
    },
  });
  return latencies;
}

const rate = Number(values.rate);
const warm = await run(performance.now() + Number(values.warmup) * 1000);
const cpu0 = process.cpuUsage();
const t0 = performance.now();
const latencies = rate > 0 ? await atRate(rate) : await run(t0 + Number(values.seconds) * 1000);
const seconds = (performance.now() - t0) / 1000;
const cpu = process.cpuUsage(cpu0);
await producer.close();
if (rate === 0) latencies.sort((a, b) => a - b);
process.stdout.write(
  `${JSON.stringify({
    acked: (warm.length + latencies.length) * perRequest,
    timedMessages: latencies.length * perRequest,
    seconds,
    cpuMs: (cpu.user + cpu.system) / 1000,
    p50Ms: quantile(latencies, 0.5),
    p99Ms: quantile(latencies, 0.99),
  })}\n`,
);
