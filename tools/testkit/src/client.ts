import { inject } from 'vitest';
import { Kafka, Partitioners, logLevel } from 'kafkajs';
import type { KafkaConfig, Producer, ProducerConfig } from 'kafkajs';
import { splitBrokers } from './kafka-script.js';
import './provided-context.js';

/**
 * The bootstrap servers of the test run's Kafka broker: what the global setup provided, else
 * `KAFKA_BROKERS`. Throws when neither is there (a test outside an integration project).
 *
 * @example
 * const brokers = kafkaBrokers(); // ['127.0.0.1:21009']
 */
export function kafkaBrokers(): string[] {
  const list = injectedBrokers() ?? process.env.KAFKA_BROKERS;
  const brokers = splitBrokers(list ?? '');
  if (brokers.length === 0) {
    throw new Error(
      'No Kafka broker: run the test in a vitest project with ' +
        "globalSetup: ['@kproxy/testkit/global-setup'], or set KAFKA_BROKERS",
    );
  }
  return brokers;
}

function injectedBrokers(): string | undefined {
  try {
    return inject('kafkaBrokers') || undefined;
  } catch {
    return undefined; // not inside a vitest worker
  }
}

export interface KafkaOptions extends Partial<KafkaConfig> {
  /** Defaults to `kafkaBrokers()`; pass a cluster's brokers to talk to it instead. */
  brokers?: string[];
}

/**
 * A kafkajs client for the test broker, with kafkajs's own logging off (set
 * `KAFKAJS_LOG_LEVEL=debug` to see it again).
 *
 * @example
 * const admin = kafka().admin();
 */
export function kafka(options: KafkaOptions = {}): Kafka {
  return new Kafka({
    clientId: 'kproxy-testkit',
    logLevel: logLevel.NOTHING,
    ...options,
    brokers: options.brokers ?? kafkaBrokers(),
  });
}

export interface ProducerOptions extends ProducerConfig {
  brokers?: string[];
}

/**
 * A connected-on-demand kafkajs producer the way kafka-proxy produces: idempotent (so send with
 * `acks: -1`), with the default partitioner chosen explicitly (which also silences kafkajs's
 * warning about it).
 *
 * @example
 * const producer = createProducer();
 * await producer.connect();
 * await producer.send({ topic, acks: -1, messages: [{ value: Buffer.from('x') }] });
 * await producer.disconnect();
 */
export function createProducer(options: ProducerOptions = {}): Producer {
  const { brokers, ...config } = options;
  return kafka(brokers ? { brokers } : {}).producer({
    createPartitioner: Partitioners.DefaultPartitioner,
    idempotent: true,
    ...config,
  });
}
