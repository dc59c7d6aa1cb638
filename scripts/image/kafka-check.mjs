// What scripts/test-image.sh checks in Kafka and through the running container, with the
// kafkajs the test kit uses. Every command exits non-zero, saying why, when a check fails.
//
//   node kafka-check.mjs create TOPIC                     create TOPIC (3 partitions)
//   node kafka-check.mjs expect TOPIC MESSAGE...          TOPIC holds exactly these messages
//   node kafka-check.mjs push-and-stop URL TOKEN TOPIC -- STOP_COMMAND...
//       pushes numbered messages from 4 concurrent clients, runs STOP_COMMAND once a few
//       hundred were acknowledged, keeps pushing until the server refuses, then checks that
//       STOP_COMMAND exited 0 and that every acknowledged message is in TOPIC.
//
// Brokers come from KAFKA_BROKERS. Only 127.0.0.1 is ever contacted.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
const { Kafka, logLevel } = createRequire(join(root, 'tools/testkit/package.json'))('kafkajs');

const brokers = (process.env.KAFKA_BROKERS ?? '').split(',').filter(Boolean);
if (brokers.length === 0) fail('KAFKA_BROKERS is not set');
const kafka = new Kafka({ clientId: 'kafka-proxy-image-test', brokers, logLevel: logLevel.ERROR });

function fail(message) {
  console.error(`[kafka-proxy] image check failed: ${message}`);
  process.exit(1);
}

/** Every value in `topic` up to its current end offsets, as strings. */
async function readAll(topic) {
  const admin = kafka.admin();
  await admin.connect();
  const offsets = await admin.fetchTopicOffsets(topic);
  await admin.disconnect();
  const total = offsets.reduce((n, o) => n + Number(o.high) - Number(o.low), 0);
  const values = [];
  if (total === 0) return values;
  const consumer = kafka.consumer({
    groupId: `image-test-${process.pid}-${Date.now()}`,
    maxWaitTimeInMs: 250,
  });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  await new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`read ${values.length} of ${total} in 30 s`)),
      30_000,
    );
    consumer
      .run({
        eachMessage: async ({ message }) => {
          values.push(message.value?.toString() ?? '');
          if (values.length === total) {
            clearTimeout(timer);
            resolve();
          }
        },
      })
      .catch(reject);
  });
  await consumer.disconnect();
  return values;
}

function frame(message) {
  const payload = Buffer.from(message);
  const length = Buffer.alloc(4);
  length.writeUInt32LE(payload.length);
  return Buffer.concat([length, payload]);
}

async function pushAndStop(url, token, topic, stopCommand) {
  const acked = [];
  let next = 0;
  let refused = '';
  const pusher = async () => {
    while (!refused) {
      const batch = Array.from({ length: 10 }, () => `stop-test-${next++}`);
      try {
        const res = await fetch(`${url}/topics/${topic}`, {
          method: 'POST',
          headers: { 'x-kafka-proxy-token': token, 'content-type': 'application/octet-stream' },
          body: Buffer.concat(batch.map(frame)),
        });
        const text = await res.text();
        if (res.status === 200) acked.push(...batch);
        else refused = `${res.status} ${text}`;
      } catch (err) {
        refused = `${err.cause?.code ?? err.message}`;
      }
    }
  };
  const pushers = Array.from({ length: 4 }, pusher);
  while (acked.length < 300 && !refused) await new Promise((r) => setTimeout(r, 20));
  if (refused) fail(`the server refused a push before the stop: ${refused}`);
  const ackedBeforeStop = acked.length;
  const [command, ...args] = stopCommand;
  const stopped = await new Promise((resolve) => {
    const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'inherit'] });
    child.on('exit', (code) => resolve(code));
  });
  await Promise.all(pushers);
  if (stopped !== 0) fail(`${stopCommand.join(' ')} exited ${stopped}`);
  const inKafka = new Set(await readAll(topic));
  const lost = acked.filter((m) => !inKafka.has(m));
  console.log(
    `stop during a push: ${acked.length} messages acknowledged (${ackedBeforeStop} before the stop), ` +
      `${lost.length} of them missing from Kafka; pushes then got: ${refused}`,
  );
  if (lost.length > 0) fail(`acknowledged but not in Kafka: ${lost.slice(0, 5).join(', ')}...`);
}

const [command, ...args] = process.argv.slice(2);
if (command === 'create') {
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({
    topics: [{ topic: args[0], numPartitions: 3 }],
    waitForLeaders: true,
  });
  await admin.disconnect();
} else if (command === 'expect') {
  const [topic, ...expected] = args;
  const values = await readAll(topic);
  if (JSON.stringify(values.sort()) !== JSON.stringify(expected.sort())) {
    fail(`topic ${topic} holds ${JSON.stringify(values)}, expected ${JSON.stringify(expected)}`);
  }
  console.log(`topic ${topic} holds ${JSON.stringify(values)}`);
} else if (command === 'push-and-stop') {
  const dash = args.indexOf('--');
  const [url, token, topic] = args.slice(0, dash);
  await pushAndStop(url, token, topic, args.slice(dash + 1));
} else {
  fail(`unknown command ${command ?? ''}`);
}
