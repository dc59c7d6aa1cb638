#!/usr/bin/env node
/* global process */
// The server's HTTP side on its own, for `pnpm bench`: the real app (config, auth, body decoding,
// flusher, request log, metrics) served as main.ts serves it, but with a Producer that
// acknowledges at once, so the CPU it uses per message is what the proxy costs before Kafka's
// client does any work. Prints `listening` like the server; configured by the same environment.
import { createApp } from '../dist/app.js';
import { loadConfig } from '../dist/config.js';
import { createLogger } from '../dist/logger.js';
import { startServer } from '../dist/server.js';
import { FileTopicStore } from '../dist/topic-store.js';

/** Answers every batch at once with consecutive offsets per partition, as Kafka would. */
function instantProducer() {
  const next = new Map();
  return {
    connect: async () => undefined,
    send: async (batches) =>
      batches.map(({ topic, partition, messages }) => {
        const key = `${topic}:${partition}`;
        const baseOffset = next.get(key) ?? 0;
        next.set(key, baseOffset + messages.length);
        return { result: { topic, partition, baseOffset: String(baseOffset) } };
      }),
    partitionCount: async () => 6,
    isReady: () => true,
    disconnect: async () => undefined,
  };
}

const config = loadConfig(process.env, []);
const logger = createLogger(config.logLevel);
const topicStore = new FileTopicStore(config.topic);
await topicStore.start();
const producer = instantProducer();
const proxy = createApp({ config, producer, topicStore, logger });
const server = await startServer({ proxy, config, logger, producer, topicStore });
process.once('SIGTERM', () => {
  void server.shutdown().then(() => process.exit(0));
});
