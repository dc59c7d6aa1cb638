import { Writable } from 'node:stream';
import { createApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { createMetrics } from '../../src/metrics.js';
import { FileTopicStore } from '../../src/topic-store.js';
import { FakeProducer } from './fake-producer.js';

/** The token every test app accepts for every topic. */
export const TOKEN = 'test-token-0123456789';

/** Builds an app with a fake producer, capturing log lines; `env` overrides the configuration. */
export async function testApp(env: Record<string, string> = {}) {
  const config = loadConfig({
    KAFKA_PROXY_TOKEN: TOKEN,
    KAFKA_PROXY_TOPIC: 'default-topic',
    KAFKA_FLUSHER_TIMEOUT: '0.001',
    ...env,
  });
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  const logger = createLogger('info', sink);
  const producer = new FakeProducer();
  const topicStore = new FileTopicStore(config.topic);
  await topicStore.start();
  const proxy = createApp({
    config,
    producer,
    topicStore,
    logger,
    metrics: createMetrics({ defaultMetrics: false }),
  });
  return { ...proxy, config, producer, topicStore, lines };
}
