import kafkajs from 'kafkajs';
import type { KafkaConfig, logCreator, SASLOptions } from 'kafkajs';
import type { Logger } from 'pino';
import type { Config } from './config.js';

const { logLevel } = kafkajs;

/**
 * The kafkajs client settings (brokers, client id, SASL, TLS, timeouts, log bridge) of the Kafka
 * topic store, the one part of the server still on kafkajs.
 *
 * @example
 * new Kafka(kafkajsClientConfig(config.kafka, logger, config.logLevel, config.ackTimeoutMs));
 */
export function kafkajsClientConfig(
  settings: Config['kafka'],
  logger: Logger,
  pinoLevel: string,
  requestTimeoutMs: number,
): KafkaConfig {
  const kafkaConfig: KafkaConfig = {
    clientId: settings.clientId,
    brokers: [...settings.brokers],
    logLevel: kafkaLogLevel(pinoLevel),
    logCreator: pinoLogCreator(logger),
    requestTimeout: requestTimeoutMs,
    connectionTimeout: Math.min(requestTimeoutMs, 5_000),
    retry: { initialRetryTime: 100, maxRetryTime: 2_000, retries: 5 },
  };
  if (settings.tls)
    kafkaConfig.ssl = settings.tlsCa === undefined ? true : { ca: [settings.tlsCa] };
  if (settings.sasl !== undefined) {
    const { mechanism, username, password } = settings.sasl;
    kafkaConfig.sasl = { mechanism, username, password } as SASLOptions;
  }
  return kafkaConfig;
}

/**
 * Bridges kafkajs's logs into pino as `{ component: 'kafkajs', namespace, ... }` lines at the
 * matching level, so the server writes one log stream in one format.
 *
 * One exception: kafkajs logs every error response of a broker at error level, also those it
 * retries and recovers from (a topic being auto-created, a coordinator still loading, a leader
 * moving). Those become warnings; a failure that reaches a request is logged by the proxy itself.
 *
 * @example
 * new Kafka({ brokers, logCreator: pinoLogCreator(logger) });
 */
export function pinoLogCreator(logger: Logger): logCreator {
  const child = logger.child({ component: 'kafkajs' });
  return () =>
    ({ namespace, level, log }) => {
      const { message, timestamp: _timestamp, ...extra } = log;
      const fields = { namespace, ...extra };
      switch (isBrokerErrorResponse(namespace, message) ? logLevel.WARN : level) {
        case logLevel.ERROR:
          child.error(fields, message);
          break;
        case logLevel.WARN:
          child.warn(fields, message);
          break;
        case logLevel.INFO:
          child.info(fields, message);
          break;
        default:
          child.debug(fields, message);
      }
    };
}

function isBrokerErrorResponse(namespace: string, message: string): boolean {
  return namespace === 'Connection' && message.startsWith('Response ');
}

/** The kafkajs log level that lets through what pino's level would print. */
export function kafkaLogLevel(pinoLevel: string): number {
  switch (pinoLevel) {
    case 'trace':
    case 'debug':
      return logLevel.DEBUG;
    case 'info':
      return logLevel.INFO;
    case 'warn':
      return logLevel.WARN;
    case 'silent':
      return logLevel.NOTHING;
    default:
      return logLevel.ERROR;
  }
}
