export { createApp, ROUTES, type AppDependencies, type ProxyApp } from './app.js';
export { loadConfig, ConfigError, DEFAULTS, type Config, type AckMode } from './config.js';
export { ProxyError, ERROR_CODES, type ErrorCode } from './errors.js';
export {
  Flusher,
  type Delivery,
  type FlusherOptions,
  type FlushRequest,
  type Ticket,
} from './flusher.js';
export type { Producer, ProduceBatch, ProduceResult } from './producer.js';
export { FileTopicStore, type TopicStore } from './topic-store.js';
export { createKafkaProducer } from './kafka-producer.js';
export { createMetrics, type Metrics } from './metrics.js';
export { createLogger } from './logger.js';
export { startServer, type RunningServer } from './server.js';
