import { readFileSync } from 'node:fs';
import { isValidTopicName, TOPIC_NAME_RULE } from '@kproxy/protocol';
import { parseTokensFile, type TokenRule } from './auth.js';
import { DEFAULT_STORE_TOPIC } from './kafka-topic-store.js';

/** Rejects the value being parsed: "<VARIABLE> (--flag) must be <accepts> (got <value>)". */
export type Fail = (accepts: string, got?: string) => never;

/**
 * One setting of the server: its environment variable, the CLI flag that mirrors it, what it
 * means (for `--help`), its default and how its text becomes a value. The default is written as
 * an operator would write it and parsed like a given value, so `--help` shows what the server uses.
 */
export interface Setting<T> {
  readonly env: string;
  readonly flag: string;
  readonly help: string;
  readonly default?: string;
  /** Called with the value trimmed (as given, with `keepSpaces`); never with an empty text. */
  readonly parse: (value: string, fail: Fail) => T;
  /** A flag without a value (`--dev`), which means `true`. */
  readonly boolean?: true;
  /** Spaces around the value are part of it, and an empty value is a value (passwords). */
  readonly keepSpaces?: true;
}

/** Compression applied to record batches sent to Kafka. */
export type Compression = 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd';
/** SASL mechanisms the Kafka client supports. */
export type SaslMechanism = 'plain' | 'scram-sha-256' | 'scram-sha-512';
/** How a produce request is acknowledged (see "Delivery" in apps/server/README.md). */
export type AckMode = 'durable' | 'buffered';

const BOOLEAN_TRUE = new Set(['1', 'true', 'yes', 'on']);
const BOOLEAN_FALSE = new Set(['0', 'false', 'no', 'off', '']);

const text = (value: string): string => value;

function integer(min: number, max = Number.MAX_SAFE_INTEGER): Setting<number>['parse'] {
  const accepts =
    max === Number.MAX_SAFE_INTEGER
      ? `a whole number >= ${min}`
      : `a whole number from ${min} to ${max}`;
  return (value, fail) => {
    const n = Number(value);
    if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < min || n > max) {
      fail(accepts, value);
    }
    return n;
  };
}

/** Seconds, fractions allowed, as milliseconds. */
function seconds(allowZero: boolean): Setting<number>['parse'] {
  return (value, fail) => {
    const n = Number(value);
    if (!/^\d*\.?\d+$/.test(value) || !Number.isFinite(n) || (!allowZero && n === 0)) {
      fail(`a number of seconds${allowZero ? ' >= 0' : ' > 0'} (fractions allowed)`, value);
    }
    return n * 1000;
  };
}

function boolean(value: string, fail: Fail): boolean {
  const lowered = value.toLowerCase();
  if (BOOLEAN_TRUE.has(lowered)) return true;
  if (BOOLEAN_FALSE.has(lowered)) return false;
  return fail('true or false', lowered);
}

function oneOf<T extends string>(...choices: readonly T[]): Setting<T>['parse'] {
  return (value, fail) => {
    const lowered = value.toLowerCase();
    if (!(choices as readonly string[]).includes(lowered)) {
      fail(`one of ${choices.join(', ')}`, lowered);
    }
    return lowered as T;
  };
}

/** The file's text: files are read at start so that a bad path fails there. */
/** The text of the file at `path`; `fail` names the setting when it cannot be read. */
export function fileText(path: string, fail: Fail): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    return fail('a readable file', `${path}: ${(err as Error).message}`);
  }
}

function tokensFile(path: string, fail: Fail): TokenRule[] {
  const content = fileText(path, fail);
  try {
    return parseTokensFile(content);
  } catch (err) {
    return fail('a tokens file ("<token> [topic-pattern ...]" per line)', (err as Error).message);
  }
}

function brokerList(value: string, fail: Fail): string[] {
  const accepts = 'comma-separated host:port pairs';
  const brokers = value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  for (const broker of brokers) {
    if (!/^[^\s:]+:\d{1,5}$/.test(broker) && !/^\[[0-9a-fA-F:]+\]:\d{1,5}$/.test(broker)) {
      fail(accepts, broker);
    }
  }
  if (brokers.length === 0) fail(accepts);
  return brokers;
}

/** `true`, `false`, or (as the original proxy accepted) the name of the topic that wins. */
function forceTopic(value: string, fail: Fail): { force: boolean; topic: string | undefined } {
  const lowered = value.toLowerCase();
  if (BOOLEAN_TRUE.has(lowered)) return { force: true, topic: undefined };
  if (BOOLEAN_FALSE.has(lowered)) return { force: false, topic: undefined };
  if (!isValidTopicName(value)) fail(`true, false or a topic name (${TOPIC_NAME_RULE})`, value);
  return { force: true, topic: value };
}

function topicName(value: string, fail: Fail): string {
  if (!isValidTopicName(value)) fail(`a topic name: ${TOPIC_NAME_RULE}`, value);
  return value;
}

const port = integer(0, 65535);

/**
 * Every setting, in the order `--help` lists them. apps/server/README.md has the table of them
 * with the reasoning behind each default (a test keeps the two in step).
 */
export const SETTINGS = {
  token: { env: 'KAFKA_PROXY_TOKEN', flag: 'token', help: 'token clients must send', parse: text },
  tokensFile: {
    env: 'KAFKA_PROXY_TOKENS_FILE',
    flag: 'tokens-file',
    help: 'file of more tokens, each optionally limited to topic patterns',
    parse: tokensFile,
  },
  kafkaServer: {
    env: 'KAFKA_PROXY_KAFKA_SERVER',
    flag: 'kafka-server',
    help: 'Kafka bootstrap servers, comma-separated',
    default: 'localhost:9092',
    parse: brokerList,
  },
  topicCache: {
    env: 'KAFKA_FLUSHER_TOPIC_CACHE',
    flag: 'topic-cache',
    help: 'file that remembers the default topic',
    parse: text,
  },
  flusherNumMessages: {
    env: 'KAFKA_FLUSHER_NUM_MESSAGES',
    flag: 'flusher-num-messages',
    help: 'flush after this many buffered messages',
    default: '10000',
    parse: integer(1),
  },
  flusherMaxBytes: {
    env: 'KAFKA_FLUSHER_MAX_BYTES',
    flag: 'flusher-max-bytes',
    help: 'flush after this many buffered bytes',
    default: String(1024 * 1024),
    parse: integer(1),
  },
  flusherMaxInFlight: {
    env: 'KAFKA_FLUSHER_MAX_IN_FLIGHT',
    flag: 'flusher-max-in-flight',
    help: 'batches sent to Kafka at once, 1 to 5',
    default: '2',
    parse: integer(1, 5),
  },
  flusherTimeout: {
    env: 'KAFKA_FLUSHER_TIMEOUT',
    flag: 'flusher-timeout',
    help: 'flush this many seconds after the oldest buffered message',
    default: '0.002',
    parse: seconds(true),
  },
  flusherSocketPath: {
    env: 'KAFKA_FLUSHER_SOCKET_PATH',
    flag: 'flusher-socket-path',
    help: 'accepted and ignored: the flusher is built in',
    parse: text,
  },
  topic: {
    env: 'KAFKA_PROXY_TOPIC',
    flag: 'topic',
    help: `initial default topic (${TOPIC_NAME_RULE})`,
    parse: text,
  },
  forceTopic: {
    env: 'KAFKA_PROXY_FORCE_TOPIC',
    flag: 'force-topic',
    help: 'true: the initial topic wins over the cached one; a topic name: that topic wins',
    default: 'false',
    parse: forceTopic,
  },
  host: {
    env: 'KAFKA_PROXY_HOST',
    flag: 'host',
    help: 'listen address (default: all interfaces; 127.0.0.1 in development mode)',
    parse: text,
  },
  port: {
    env: 'KAFKA_PROXY_PORT',
    flag: 'port',
    help: 'listen port',
    default: '8080',
    parse: port,
  },
  metricsPort: {
    env: 'KAFKA_PROXY_METRICS_PORT',
    flag: 'metrics-port',
    help: 'serve /metrics, /healthz and /readyz on this port too, plain HTTP, without a token (default: off)',
    parse: port,
  },
  metricsHost: {
    env: 'KAFKA_PROXY_METRICS_HOST',
    flag: 'metrics-host',
    help: 'listen address of the metrics port (default: KAFKA_PROXY_HOST)',
    parse: text,
  },
  tlsCert: {
    env: 'KAFKA_PROXY_TLS_CERT',
    flag: 'tls-cert',
    help: 'PEM certificate file: serve HTTPS',
    parse: text,
  },
  tlsKey: {
    env: 'KAFKA_PROXY_TLS_KEY',
    flag: 'tls-key',
    help: 'PEM private key file: serve HTTPS',
    parse: text,
  },
  ackMode: {
    env: 'KAFKA_PROXY_ACK_MODE',
    flag: 'ack-mode',
    help: 'durable or buffered',
    default: 'durable',
    parse: oneOf<AckMode>('durable', 'buffered'),
  },
  maxBodyBytes: {
    env: 'KAFKA_PROXY_MAX_BODY_BYTES',
    flag: 'max-body-bytes',
    help: 'largest decoded request body',
    default: String(16 * 1024 * 1024),
    parse: integer(4),
  },
  maxMessageBytes: {
    env: 'KAFKA_PROXY_MAX_MESSAGE_BYTES',
    flag: 'max-message-bytes',
    help: 'largest message',
    default: '1000000',
    parse: integer(1),
  },
  maxBodyMessages: {
    env: 'KAFKA_PROXY_MAX_BODY_MESSAGES',
    flag: 'max-body-messages',
    help: 'most messages in one request body',
    default: '200000',
    parse: integer(1),
  },
  maxBufferedBytes: {
    env: 'KAFKA_PROXY_MAX_BUFFERED_BYTES',
    flag: 'max-buffered-bytes',
    help: 'bound on message bytes being received, buffered or in flight',
    default: String(256 * 1024 * 1024),
    parse: integer(1),
  },
  ackTimeout: {
    env: 'KAFKA_PROXY_ACK_TIMEOUT',
    flag: 'ack-timeout',
    help: 'seconds a durable request may wait to be sent to Kafka before it is dropped with 503',
    default: '10',
    parse: seconds(false),
  },
  requestTimeout: {
    env: 'KAFKA_PROXY_REQUEST_TIMEOUT',
    flag: 'request-timeout',
    help: 'seconds a request (headers and body) may take to arrive',
    default: '120',
    parse: seconds(false),
  },
  shutdownTimeout: {
    env: 'KAFKA_PROXY_SHUTDOWN_TIMEOUT',
    flag: 'shutdown-timeout',
    help: 'seconds a graceful shutdown may take',
    default: '25',
    parse: seconds(false),
  },
  kafkaCompression: {
    env: 'KAFKA_PROXY_KAFKA_COMPRESSION',
    flag: 'kafka-compression',
    help: 'none, gzip, snappy, lz4 or zstd',
    default: 'none',
    parse: oneOf<Compression>('none', 'gzip', 'snappy', 'lz4', 'zstd'),
  },
  kafkaClientId: {
    env: 'KAFKA_PROXY_KAFKA_CLIENT_ID',
    flag: 'kafka-client-id',
    help: 'Kafka client id',
    default: 'kafka-proxy',
    parse: text,
  },
  kafkaSaslMechanism: {
    env: 'KAFKA_PROXY_KAFKA_SASL_MECHANISM',
    flag: 'kafka-sasl-mechanism',
    help: 'plain, scram-sha-256 or scram-sha-512',
    parse: oneOf<SaslMechanism>('plain', 'scram-sha-256', 'scram-sha-512'),
  },
  kafkaSaslUsername: {
    env: 'KAFKA_PROXY_KAFKA_SASL_USERNAME',
    flag: 'kafka-sasl-username',
    help: 'SASL user name',
    parse: text,
  },
  kafkaSaslPassword: {
    env: 'KAFKA_PROXY_KAFKA_SASL_PASSWORD',
    flag: 'kafka-sasl-password',
    help: 'SASL password',
    parse: text,
    keepSpaces: true,
  },
  kafkaTls: {
    env: 'KAFKA_PROXY_KAFKA_TLS',
    flag: 'kafka-tls',
    help: 'true: connect to Kafka over TLS',
    default: 'false',
    parse: boolean,
  },
  kafkaTlsCa: {
    env: 'KAFKA_PROXY_KAFKA_TLS_CA',
    flag: 'kafka-tls-ca',
    help: 'PEM CA file for the brokers (implies --kafka-tls true)',
    parse: fileText,
  },
  topicStore: {
    env: 'KAFKA_PROXY_TOPIC_STORE',
    flag: 'topic-store',
    help: 'file (one replica) or kafka (replicas share the default topic)',
    default: 'file',
    parse: oneOf<'file' | 'kafka'>('file', 'kafka'),
  },
  topicStoreTopic: {
    env: 'KAFKA_PROXY_TOPIC_STORE_TOPIC',
    flag: 'topic-store-topic',
    help: 'compacted topic of the kafka topic store',
    default: DEFAULT_STORE_TOPIC,
    parse: topicName,
  },
  dev: {
    env: 'KAFKA_PROXY_DEV',
    flag: 'dev',
    help: 'development mode: generate and print a token when none is given',
    default: 'false',
    parse: boolean,
    boolean: true,
  },
  logLevel: {
    env: 'LOG_LEVEL',
    flag: 'log-level',
    help: 'fatal, error, warn, info, debug, trace or silent',
    default: 'info',
    parse: oneOf('fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'),
  },
} satisfies Record<string, Setting<unknown>>;

/** The name of a setting in {@link SETTINGS}. */
export type SettingName = keyof typeof SETTINGS;

/** Each setting's value: always there when it has a default, else `undefined` when not given. */
export type SettingValues = {
  readonly [K in SettingName]: (typeof SETTINGS)[K] extends { default: string }
    ? ReturnType<(typeof SETTINGS)[K]['parse']>
    : ReturnType<(typeof SETTINGS)[K]['parse']> | undefined;
};
