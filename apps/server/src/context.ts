import type { Logger } from 'pino';
import type { Authenticator, Principal } from './auth.js';
import type { BufferBudget } from './buffer-budget.js';
import type { Config } from './config.js';
import type { Flusher } from './flusher.js';
import type { Metrics } from './metrics.js';
import type { Producer } from './producer.js';
import type { TopicStore } from './topic-store.js';

/** Per-request values set by middleware and read by handlers. */
export interface RequestVariables {
  requestId: string;
  logger: Logger;
  principal: Principal;
  /** The route template, for metrics and logs (`/topics/{topic}`), set by each handler. */
  route: string;
  /** Extra fields for the one log line written per request. */
  logFields: Record<string, unknown>;
}

/** Hono environment of the server's app. */
export interface AppEnv {
  Variables: RequestVariables;
}

/** Everything the route handlers share. */
export interface ServerContext {
  config: Config;
  producer: Producer;
  topicStore: TopicStore;
  logger: Logger;
  metrics: Metrics;
  flusher: Flusher;
  budget: BufferBudget;
  auth: Authenticator;
  lifecycle: { shuttingDown: boolean };
}
