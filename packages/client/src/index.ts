export { KafkaProxyClient, type SendOptions } from './client.js';
export type { HealthStatus } from './admin.js';
export type { QueueStatus } from './batcher.js';
export type { SendResult } from './batch.js';
export {
  KafkaProxyError,
  isKafkaProxyError,
  type KafkaProxyErrorCode,
  type LocalErrorCode,
} from './errors.js';
export type { Message } from './message.js';
export type { HeaderInput, HeadersInput, ProduceRecord } from './record.js';
export {
  DEFAULTS,
  type KafkaProxyClientOptions,
  type BatchOptions,
  type RetryOptions,
  type ClientHooks,
  type BatchSentEvent,
  type RetryEvent,
  type FailureEvent,
} from './options.js';
export { parseRetryAfter } from './retry.js';
export type { Pem, TlsOptions } from './tls.js';
