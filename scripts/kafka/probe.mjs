// Waits until a Kafka cluster really serves clients, for scripts/kafka.sh.
//
//   node probe.mjs BROKERS EXPECTED_BROKERS TIMEOUT_MS
//
// "Kafka Server started" in the log is not enough: a fresh KRaft node still has to register, and
// the first consumer group still waits for __consumer_offsets. So this retries, until the
// deadline, the things a test does first: every broker is in the cluster metadata, a record
// produced with acks=all to a replicated probe topic is acknowledged, and a group coordinator
// answers. Uses the kafkajs that tools/testkit depends on.
import { createRequire } from 'node:module';

const require = createRequire(new URL('../../tools/testkit/package.json', import.meta.url));
const { Kafka, Partitioners, logLevel } = require('kafkajs');

const [brokerList = '', expectedArg = '1', timeoutArg = '60000'] = process.argv.slice(2);
const brokers = brokerList.split(',').filter(Boolean);
const expected = Number(expectedArg);
const deadline = Date.now() + Number(timeoutArg);
const topic = '__kproxy_probe';

const kafka = new Kafka({
  clientId: 'kafka-sh-probe',
  brokers,
  logLevel: logLevel.NOTHING,
  connectionTimeout: 1000,
  requestTimeout: 5000,
  retry: { retries: 0 },
});

async function attempt() {
  const admin = kafka.admin();
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  try {
    await admin.connect();
    const cluster = await admin.describeCluster();
    if (cluster.brokers.length < expected) {
      throw new Error(`${cluster.brokers.length} of ${expected} brokers registered`);
    }
    const topics = await admin.listTopics();
    if (!topics.includes(topic)) {
      await admin.createTopics({
        topics: [{ topic, numPartitions: 1, replicationFactor: Math.min(expected, 3) }],
        waitForLeaders: true,
      });
    }
    await producer.connect();
    await producer.send({ topic, acks: -1, messages: [{ value: 'ready' }] });
    // Finding a group coordinator creates __consumer_offsets on first use; do it here, once,
    // instead of in the first test that reads.
    await admin.describeGroups([`${topic}-group`]);
  } finally {
    await producer.disconnect().catch(() => {});
    await admin.disconnect().catch(() => {});
  }
}

let lastError;
for (;;) {
  try {
    await attempt();
    process.exit(0);
  } catch (error) {
    lastError = error;
  }
  if (Date.now() >= deadline) break;
  await new Promise((resolve) => setTimeout(resolve, 250));
}
const reason = lastError instanceof Error ? lastError.message : String(lastError);
console.error(`probe: cluster at ${brokerList} not ready: ${reason}`);
process.exit(1);
