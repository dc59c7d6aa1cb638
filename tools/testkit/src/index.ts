/**
 * Real-Kafka test helpers for kafka-proxy's integration tests. Use them in a vitest project whose
 * `globalSetup` is `@kproxy/testkit/global-setup` (one broker for the run), give each test its
 * own `uniqueTopic()`, and check what was produced with `readMessages()`.
 *
 * @example
 * const topic = await createTopic(uniqueTopic('produce'));
 * // ... let the code under test produce to `topic` ...
 * const messages = await readMessages(topic, { count: 2 });
 */
export { kafkaBrokers, kafka, createProducer } from './client.js';
export type { KafkaOptions, ProducerOptions } from './client.js';
export { uniqueTopic, createTopic } from './topics.js';
export type { CreateTopicOptions } from './topics.js';
export { messageCount, readAllValues, readMessages, readValues } from './read-messages.js';
export type { ReadMessage, ReadMessagesOptions } from './read-messages.js';
export { startCluster } from './cluster.js';
export type { Cluster, ClusterOptions, StopNodeOptions } from './cluster.js';
export { runKafkaScript, KAFKA_SCRIPT } from './kafka-script.js';
export type { KafkaScriptOptions } from './kafka-script.js';
export { makeTestCertificates, startTlsFront } from './tls.js';
export type { CertificateFiles, TestCertificates, TlsFront } from './tls.js';
