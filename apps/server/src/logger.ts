import { pino, type DestinationStream, type Logger } from 'pino';

/** Headers that carry credentials: censored wherever a log line includes request headers. */
export const REDACTED_PATHS = [
  'headers["x-kafka-proxy-token"]',
  'headers.authorization',
  'req.headers["x-kafka-proxy-token"]',
  'req.headers.authorization',
  'token',
];

/**
 * The server's JSON logger. Tokens are never logged on purpose; redaction is the safety net for a
 * future log line that includes headers.
 *
 * @example
 * const logger = createLogger('info');
 */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  const options = {
    level,
    base: { service: 'kafka-proxy' },
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label: string) => ({ level: label }) },
  };
  return destination === undefined ? pino(options) : pino(options, destination);
}
