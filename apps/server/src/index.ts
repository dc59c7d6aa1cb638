// What another workspace may build a server from: the app and the parts it is built with, so a
// test double (a scripted producer, an in-memory topic store) stands in behind the real routes.
export { createApp } from './app.js';
export { loadConfig } from './config.js';
export { createLogger } from './logger.js';
export { createMetrics } from './metrics.js';
export type { Producer, ProduceBatch, ProduceOutcome } from './producer.js';
export type { TopicStore } from './topic-store.js';
export { partitionForKey } from './partition.js';
